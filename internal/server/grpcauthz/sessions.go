package grpcauthz

import (
	"context"
	"log/slog"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/session"
)

// Sessions implements gatehousev1.SessionServiceServer over internal/session.
type Sessions struct {
	// Embedded by value so that an RPC added to the proto answers
	// Unimplemented until it is written here.
	gatehousev1.UnimplementedSessionServiceServer

	dir  session.Directory
	mode session.Mode
	log  *slog.Logger
}

// NewSessions returns the SessionService implementation.
func NewSessions(dir session.Directory, mode session.Mode, log *slog.Logger) *Sessions {
	return &Sessions{dir: dir, mode: mode, log: log}
}

// Set is SET SESSION.
func (s *Sessions) Set(ctx context.Context, req *gatehousev1.SetRequest) (*gatehousev1.SetResponse, error) {
	ch, err := session.Set(s.mode, session.FromMap(req.GetProperties()), req.GetName(), req.GetValue())
	if err != nil {
		return nil, toStatus(ctx, s.log, "Set", err)
	}
	return &gatehousev1.SetResponse{Set: ch.Set}, nil
}

// Reset is RESET SESSION.
func (s *Sessions) Reset(ctx context.Context, req *gatehousev1.ResetRequest) (*gatehousev1.ResetResponse, error) {
	ch, err := session.Reset(s.mode, session.FromMap(req.GetProperties()), req.GetName())
	if err != nil {
		return nil, toStatus(ctx, s.log, "Reset", err)
	}
	return &gatehousev1.ResetResponse{Clear: ch.Clear}, nil
}

// Show is SHOW SESSION [LIKE ...].
func (s *Sessions) Show(ctx context.Context, req *gatehousev1.ShowRequest) (*gatehousev1.ShowResponse, error) {
	var like *session.Pattern
	if req.GetLike() != "" || req.GetEscape() != "" {
		var err error
		if like, err = session.CompileLike(req.GetLike(), req.GetEscape()); err != nil {
			return nil, toStatus(ctx, s.log, "Show", err)
		}
	}
	rows := session.Show(session.FromMap(req.GetProperties()), like)
	resp := &gatehousev1.ShowResponse{Rows: make([]*gatehousev1.SessionPropertyRow, len(rows))}
	for i, r := range rows {
		resp.Rows[i] = &gatehousev1.SessionPropertyRow{Name: r.Name, Value: r.Value, Default: r.Default, Type: r.Type, Description: r.Description}
	}
	return resp, nil
}

// Resolve says whom the session's queries run as.
func (s *Sessions) Resolve(ctx context.Context, req *gatehousev1.ResolveRequest) (*gatehousev1.ResolveResponse, error) {
	r, err := session.Resolve(ctx, s.dir, session.FromMap(req.GetProperties()))
	if err != nil {
		return nil, toStatus(ctx, s.log, "Resolve", err)
	}
	return &gatehousev1.ResolveResponse{Impersonating: r.Active, TrinoUser: r.TrinoUser, Username: r.Username}, nil
}
