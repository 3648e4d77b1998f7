package grpcadmin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

// Metadata keys the AdminService reads (gRPC lower-cases them).
const (
	authorizationKey = "authorization"
	requestIDKey     = "x-request-id"
)

// maxRequestIDLen bounds a caller-chosen request id, the same bound the REST
// API uses: it is stored in every audit record of the request.
const maxRequestIDLen = 128

// adminMethodPrefix selects the RPCs the interceptor guards. Other services
// on the same server (health, reflection) keep their own rules: a load
// balancer's health probe has no token.
var adminMethodPrefix = "/" + gatehousev1.AdminService_ServiceDesc.ServiceName + "/"

type principalKey struct{}

func withPrincipal(ctx context.Context, p admin.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalFrom returns the caller UnaryInterceptor authenticated.
func principalFrom(ctx context.Context) (admin.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(admin.Principal)
	return p, ok
}

// UnaryInterceptor authenticates AdminService calls and tags them with a
// request id. The id is the caller's `x-request-id` metadata when it is sane
// (printable ASCII, at most 128 bytes), else a fresh random one; it goes into
// the context with admin.WithRequestID, so audit records carry it, and back
// to the caller as the `x-request-id` response header, so a caller can quote
// it when an Internal error says "see the server log". The bearer token in
// `authorization: Bearer <token>` is resolved with admin.Service.Authenticate
// and the principal stored for the handler. Calls to other services pass
// through untouched.
func UnaryInterceptor(svc *admin.Service) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !strings.HasPrefix(info.FullMethod, adminMethodPrefix) {
			return handler(ctx, req)
		}
		md, _ := metadata.FromIncomingContext(ctx)
		id := requestID(md)
		ctx = admin.WithRequestID(ctx, id)
		// SetHeader fails only when headers were already sent, which cannot
		// have happened before the handler ran; the id is a courtesy anyway.
		_ = grpc.SetHeader(ctx, metadata.Pairs(requestIDKey, id))

		tok, err := bearer(md)
		if err != nil {
			return nil, toStatus(ctx, err)
		}
		p, err := svc.Authenticate(ctx, tok)
		if err != nil {
			return nil, toStatus(ctx, err)
		}
		return handler(withPrincipal(ctx, p), req)
	}
}

// bearer extracts the token of `authorization: Bearer <token>`. No header
// yields "", which Authenticate answers with what to send; a header of
// another shape is refused here so its content is never taken as a token.
func bearer(md metadata.MD) (string, error) {
	vals := md.Get(authorizationKey)
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", directory.Unauthenticated("send exactly one authorization header: Bearer <token>")
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(tok) == "" {
		return "", directory.Unauthenticated("authorization metadata must be \"Bearer <token>\"")
	}
	return strings.TrimSpace(tok), nil
}

// requestID returns the caller's request id, or a fresh one when it sent
// none or one unfit for logs and audit records.
func requestID(md metadata.MD) string {
	if vals := md.Get(requestIDKey); len(vals) > 0 && validRequestID(vals[0]) {
		return vals[0]
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails: crypto/rand panics rather than return an error
	return hex.EncodeToString(b)
}

func validRequestID(s string) bool {
	if s == "" || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
