package grpcadmin

import (
	"context"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

// Group RPCs. Each one converts and delegates; rules live in admin.Service.

func (s *Server) CreateGroup(ctx context.Context, req *gatehousev1.CreateGroupRequest) (*gatehousev1.CreateGroupResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.CreateGroupResponse, error) {
		g, err := s.svc.CreateGroup(ctx, p, directory.Group{Name: req.GetName(), Description: req.GetDescription(), Email: req.GetEmail()})
		return &gatehousev1.CreateGroupResponse{Group: groupToProto(g)}, err
	})
}

func (s *Server) GetGroup(ctx context.Context, req *gatehousev1.GetGroupRequest) (*gatehousev1.GetGroupResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.GetGroupResponse, error) {
		g, err := s.svc.GetGroup(ctx, p, req.GetName())
		return &gatehousev1.GetGroupResponse{Group: groupToProto(g)}, err
	})
}

func (s *Server) ListGroups(ctx context.Context, _ *gatehousev1.ListGroupsRequest) (*gatehousev1.ListGroupsResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.ListGroupsResponse, error) {
		gs, err := s.svc.ListGroups(ctx, p)
		return &gatehousev1.ListGroupsResponse{Groups: groupsToProto(gs)}, err
	})
}

func (s *Server) UpdateGroup(ctx context.Context, req *gatehousev1.UpdateGroupRequest) (*gatehousev1.UpdateGroupResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.UpdateGroupResponse, error) {
		g, err := s.svc.UpdateGroup(ctx, p, directory.Group{Name: req.GetName(), Description: req.GetDescription(), Email: req.GetEmail()})
		return &gatehousev1.UpdateGroupResponse{Group: groupToProto(g)}, err
	})
}

func (s *Server) DeleteGroup(ctx context.Context, req *gatehousev1.DeleteGroupRequest) (*gatehousev1.DeleteGroupResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.DeleteGroupResponse, error) {
		return &gatehousev1.DeleteGroupResponse{}, s.svc.DeleteGroup(ctx, p, req.GetName())
	})
}

func (s *Server) AddGroupMember(ctx context.Context, req *gatehousev1.AddGroupMemberRequest) (*gatehousev1.AddGroupMemberResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.AddGroupMemberResponse, error) {
		g, err := s.svc.AddMember(ctx, p, req.GetGroup(), req.GetUsername())
		return &gatehousev1.AddGroupMemberResponse{Group: groupToProto(g)}, err
	})
}

func (s *Server) RemoveGroupMember(ctx context.Context, req *gatehousev1.RemoveGroupMemberRequest) (*gatehousev1.RemoveGroupMemberResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.RemoveGroupMemberResponse, error) {
		g, err := s.svc.RemoveMember(ctx, p, req.GetGroup(), req.GetUsername())
		return &gatehousev1.RemoveGroupMemberResponse{Group: groupToProto(g)}, err
	})
}

func (s *Server) AddGroupAttribute(ctx context.Context, req *gatehousev1.AddGroupAttributeRequest) (*gatehousev1.AddGroupAttributeResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.AddGroupAttributeResponse, error) {
		g, err := s.svc.AddGroupAttribute(ctx, p, req.GetGroup(), req.GetName(), req.GetValue())
		return &gatehousev1.AddGroupAttributeResponse{Group: groupToProto(g)}, err
	})
}

func (s *Server) RemoveGroupAttribute(ctx context.Context, req *gatehousev1.RemoveGroupAttributeRequest) (*gatehousev1.RemoveGroupAttributeResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.RemoveGroupAttributeResponse, error) {
		g, err := s.svc.RemoveGroupAttribute(ctx, p, req.GetGroup(), req.GetName(), req.GetValue())
		return &gatehousev1.RemoveGroupAttributeResponse{Group: groupToProto(g)}, err
	})
}
