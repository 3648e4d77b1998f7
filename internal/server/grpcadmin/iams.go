package grpcadmin

import (
	"context"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/admin"
)

// Identity-provider RPCs. Each one converts and delegates.

func (s *Server) CreateIam(ctx context.Context, req *gatehousev1.CreateIamRequest) (*gatehousev1.CreateIamResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.CreateIamResponse, error) {
		i, err := s.svc.CreateIAM(ctx, p, iamFromProto(req.GetIam()))
		return &gatehousev1.CreateIamResponse{Iam: iamToProto(i)}, err
	})
}

func (s *Server) PutIam(ctx context.Context, req *gatehousev1.PutIamRequest) (*gatehousev1.PutIamResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.PutIamResponse, error) {
		i, err := s.svc.PutIAM(ctx, p, iamFromProto(req.GetIam()))
		return &gatehousev1.PutIamResponse{Iam: iamToProto(i)}, err
	})
}

func (s *Server) GetIam(ctx context.Context, req *gatehousev1.GetIamRequest) (*gatehousev1.GetIamResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.GetIamResponse, error) {
		i, err := s.svc.GetIAM(ctx, p, req.GetId())
		return &gatehousev1.GetIamResponse{Iam: iamToProto(i)}, err
	})
}

func (s *Server) ListIams(ctx context.Context, _ *gatehousev1.ListIamsRequest) (*gatehousev1.ListIamsResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.ListIamsResponse, error) {
		is, err := s.svc.ListIAMs(ctx, p)
		return &gatehousev1.ListIamsResponse{Iams: iamsToProto(is)}, err
	})
}

func (s *Server) DeleteIam(ctx context.Context, req *gatehousev1.DeleteIamRequest) (*gatehousev1.DeleteIamResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.DeleteIamResponse, error) {
		return &gatehousev1.DeleteIamResponse{}, s.svc.DeleteIAM(ctx, p, req.GetId())
	})
}
