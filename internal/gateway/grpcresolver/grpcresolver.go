// Package grpcresolver lets a gateway running apart from gatehouse resolve
// impersonation targets through gatehouse's SessionService.Resolve: the
// directory stays in one place, and the gateway needs no store of its own.
package grpcresolver

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/session"
)

// DefaultTimeout bounds one Resolve call: it is on the path of every query of
// an impersonating session.
const DefaultTimeout = 5 * time.Second

// Resolver implements gateway.Resolver over a SessionService client.
type Resolver struct {
	client  gatehousev1.SessionServiceClient
	timeout time.Duration
}

var _ gateway.Resolver = (*Resolver)(nil)

// New returns a Resolver calling conn; timeout ≤ 0 means DefaultTimeout.
func New(conn grpc.ClientConnInterface, timeout time.Duration) *Resolver {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Resolver{client: gatehousev1.NewSessionServiceClient(conn), timeout: timeout}
}

// sessionCodes turns the statuses SessionService answers for the caller's
// mistakes back into session errors, so the gateway shows their messages
// (written for the user) instead of "gatehouse does not answer".
var sessionCodes = map[codes.Code]session.Code{
	codes.InvalidArgument:    session.CodeInvalid,
	codes.FailedPrecondition: session.CodeRefused,
	codes.NotFound:           session.CodeNotFound,
}

// Resolve asks gatehouse whom props' queries run as.
func (r *Resolver) Resolve(ctx context.Context, props session.Props) (session.Resolved, error) {
	t, active, err := props.Target()
	if err != nil || !active {
		return session.Resolved{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	resp, err := r.client.Resolve(ctx, &gatehousev1.ResolveRequest{Properties: props})
	if err != nil {
		st := status.Convert(err)
		if code, ok := sessionCodes[st.Code()]; ok {
			return session.Resolved{}, &session.Error{Code: code, Msg: st.Message()}
		}
		return session.Resolved{}, err
	}
	return session.Resolved{Active: resp.GetImpersonating(), Target: t, TrinoUser: resp.GetTrinoUser(), Username: resp.GetUsername()}, nil
}
