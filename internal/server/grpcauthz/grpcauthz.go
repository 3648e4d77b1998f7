// Package grpcauthz serves gatehouse's decision plane over gRPC:
// gatehouse.v1.AuthorizerService (typed checks, with a session's
// impersonation applied as Trino applies it at query time) and
// gatehouse.v1.SessionService (SET / RESET / SHOW SESSION semantics and
// target resolution). Both are transport adapters: the semantics live in
// internal/session and the decisions in internal/authz, so the gateway, these
// services and Trino's own requests cannot disagree.
//
// Like the Trino decision endpoints, these RPCs take no credentials (the
// admin interceptor passes them through); see the proto files for why.
package grpcauthz

import (
	"log/slog"

	"google.golang.org/grpc"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/session"
)

// Register registers AuthorizerService and SessionService on s. mode is the
// configured impersonation mode; dir finds impersonation targets.
func Register(s *grpc.Server, a *authz.Authorizer, dir session.Directory, mode session.Mode, log *slog.Logger) {
	gatehousev1.RegisterAuthorizerServiceServer(s, NewAuthorizer(a, dir, log))
	gatehousev1.RegisterSessionServiceServer(s, NewSessions(dir, mode, log))
}
