package grpcadmin

import (
	"context"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/audit"
)

// Audit, usage and policy RPCs. Each one converts and delegates.

func (s *Server) ListAudit(ctx context.Context, req *gatehousev1.ListAuditRequest) (*gatehousev1.ListAuditResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.ListAuditResponse, error) {
		since, err := timeFrom("since", req.GetSince())
		if err != nil {
			return nil, err
		}
		until, err := timeFrom("until", req.GetUntil())
		if err != nil {
			return nil, err
		}
		rs, err := s.svc.ListAudit(ctx, p, audit.Query{
			Since: since, Until: until,
			Actor: req.GetActor(), Type: req.GetType(), Target: req.GetTarget(),
			Before: req.GetBefore(), Limit: int(req.GetLimit()),
		})
		return &gatehousev1.ListAuditResponse{Records: auditsToProto(rs)}, err
	})
}

func (s *Server) GetUsageMetrics(ctx context.Context, req *gatehousev1.GetUsageMetricsRequest) (*gatehousev1.GetUsageMetricsResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.GetUsageMetricsResponse, error) {
		rep, err := s.svc.UsageMetrics(ctx, p, int(req.GetDays()))
		return &gatehousev1.GetUsageMetricsResponse{Report: usageToProto(rep)}, err
	})
}

func (s *Server) ReloadPolicies(ctx context.Context, _ *gatehousev1.ReloadPoliciesRequest) (*gatehousev1.ReloadPoliciesResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.ReloadPoliciesResponse, error) {
		return &gatehousev1.ReloadPoliciesResponse{}, s.svc.ReloadPolicies(ctx, p)
	})
}
