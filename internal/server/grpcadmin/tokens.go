package grpcadmin

import (
	"context"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/admin"
)

// Token RPCs. Each one converts and delegates.

func (s *Server) CreateToken(ctx context.Context, req *gatehousev1.CreateTokenRequest) (*gatehousev1.CreateTokenResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.CreateTokenResponse, error) {
		ttl, err := durationFrom("ttl", req.GetTtl())
		if err != nil {
			return nil, err
		}
		secret, t, err := s.svc.CreateToken(ctx, p, req.GetUsername(), req.GetDescription(), ttl)
		return &gatehousev1.CreateTokenResponse{Secret: secret, Token: tokenToProto(t)}, err
	})
}

func (s *Server) ListTokens(ctx context.Context, req *gatehousev1.ListTokensRequest) (*gatehousev1.ListTokensResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.ListTokensResponse, error) {
		ts, err := s.svc.ListTokens(ctx, p, req.GetUsername())
		return &gatehousev1.ListTokensResponse{Tokens: tokensToProto(ts)}, err
	})
}

func (s *Server) DeleteToken(ctx context.Context, req *gatehousev1.DeleteTokenRequest) (*gatehousev1.DeleteTokenResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.DeleteTokenResponse, error) {
		return &gatehousev1.DeleteTokenResponse{}, s.svc.DeleteToken(ctx, p, req.GetUsername(), req.GetId())
	})
}
