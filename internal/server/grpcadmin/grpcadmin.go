// Package grpcadmin serves gatehouse.v1.AdminService over the admin service
// (internal/admin). It is a transport adapter only: each RPC converts its
// request, calls the one admin.Service method that implements it and converts
// the answer back, so REST and gRPC cannot drift apart in behaviour.
//
// Wiring, in the server package:
//
//	s := grpc.NewServer(grpc.ChainUnaryInterceptor(grpcadmin.UnaryInterceptor(svc)))
//	grpcadmin.Register(s, svc)
//
// The interceptor authenticates the caller and sets the request id; without
// it every AdminService RPC fails closed (see principalFrom).
package grpcadmin

import (
	"context"
	"errors"

	"google.golang.org/grpc"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/admin"
)

// Server implements gatehousev1.AdminServiceServer by delegating to an
// *admin.Service. Build it with New or use Register. Its methods are the RPCs
// documented in proto/gatehouse/v1/admin.proto, one file per area here.
type Server struct {
	// Embedded by value, as protoc-gen-go-grpc asks, so that an RPC added to
	// the proto before it is implemented here answers Unimplemented instead of
	// breaking the build.
	gatehousev1.UnimplementedAdminServiceServer

	svc *admin.Service
}

// New returns the AdminService implementation over svc.
func New(svc *admin.Service) *Server { return &Server{svc: svc} }

// Register registers the AdminService implementation over svc on s. The
// server must also run UnaryInterceptor(svc) for the same svc.
func Register(s *grpc.Server, svc *admin.Service) {
	gatehousev1.RegisterAdminServiceServer(s, New(svc))
}

// errNoPrincipal means the request reached a handler without passing
// UnaryInterceptor: a wiring mistake, answered as Internal (and logged) rather
// than running the call unauthenticated.
var errNoPrincipal = errors.New("grpcadmin: no principal in context: is grpcadmin.UnaryInterceptor installed on the server?")

// call runs fn as the authenticated caller and maps its error. It is the
// shape of every handler: fetch the principal, delegate, convert the error
// in the one place that does it (toStatus). On error the response is
// dropped, so fn may build it from zero values.
func call[Resp any](ctx context.Context, fn func(admin.Principal) (Resp, error)) (Resp, error) {
	var zero Resp
	p, ok := principalFrom(ctx)
	if !ok {
		return zero, toStatus(ctx, errNoPrincipal)
	}
	resp, err := fn(p)
	if err != nil {
		return zero, toStatus(ctx, err)
	}
	return resp, nil
}
