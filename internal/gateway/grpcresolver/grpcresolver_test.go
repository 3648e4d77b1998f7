package grpcresolver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/server/grpcauthz"
	"github.com/gatehouse-authz/gatehouse/internal/session"
)

type directory struct{}

func (directory) UserByTrinoName(_ context.Context, name string) (session.User, bool, error) {
	return session.User{}, false, nil
}

func (directory) UserByUsername(_ context.Context, u string) (session.User, bool, error) {
	if u == "alice@example.com" {
		return session.User{Username: u, TrinoName: "alice"}, true, nil
	}
	return session.User{}, false, nil
}

func (directory) UserByIAMUserID(context.Context, string, string) (session.User, bool, error) {
	return session.User{}, false, nil
}

// The resolver against the real SessionService implementation, over a real
// gRPC connection.
func TestResolve(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	gatehousev1.RegisterSessionServiceServer(srv, grpcauthz.NewSessions(directory{}, session.ModeSession, slog.New(slog.DiscardHandler)))
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := New(conn, time.Second)
	ctx := t.Context()

	got, err := r.Resolve(ctx, session.Props{session.ImpersonateUser: "Alice@example.com"})
	if err != nil || !got.Active || got.TrinoUser != "alice" || got.Username != "alice@example.com" {
		t.Errorf("Resolve = %+v, %v", got, err)
	}
	if got, err := r.Resolve(ctx, session.Props{}); err != nil || got.Active {
		t.Errorf("no impersonation: %+v, %v", got, err)
	}
	_, err = r.Resolve(ctx, session.Props{session.ImpersonationIAMID: "okta", session.ImpersonationUserID: "jdoe"})
	var se *session.Error
	if !errors.As(err, &se) || se.Code != session.CodeNotFound {
		t.Errorf("unknown IAM user: %v, want a CodeNotFound session error", err)
	}

	srv.Stop()
	_, err = r.Resolve(ctx, session.Props{session.ImpersonateUser: "alice"})
	if err == nil || errors.As(err, &se) {
		t.Errorf("with the server gone: %v, want a transport error", err)
	}
}
