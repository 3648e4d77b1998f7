package grpcadmin

import (
	"context"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/admin"
)

// User RPCs. Each one converts and delegates; rules live in admin.Service.

func (s *Server) CreateUser(ctx context.Context, req *gatehousev1.CreateUserRequest) (*gatehousev1.CreateUserResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.CreateUserResponse, error) {
		u, err := s.svc.CreateUser(ctx, p, admin.CreateUserRequest{
			Email: req.GetEmail(), FullName: req.GetFullName(), IAM: req.GetIam(), UserID: req.GetUserId(),
		})
		return &gatehousev1.CreateUserResponse{User: userToProto(u)}, err
	})
}

func (s *Server) ListUsers(ctx context.Context, req *gatehousev1.ListUsersRequest) (*gatehousev1.ListUsersResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.ListUsersResponse, error) {
		us, err := s.svc.ListUsers(ctx, p, admin.ListUsersRequest{IncludeDisabled: req.GetIncludeDisabled(), IAM: req.GetIam()})
		return &gatehousev1.ListUsersResponse{Users: usersToProto(us)}, err
	})
}

func (s *Server) GetUser(ctx context.Context, req *gatehousev1.GetUserRequest) (*gatehousev1.GetUserResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.GetUserResponse, error) {
		u, err := s.svc.GetUser(ctx, p, req.GetUsername())
		return &gatehousev1.GetUserResponse{User: userToProto(u)}, err
	})
}

func (s *Server) UpdateUser(ctx context.Context, req *gatehousev1.UpdateUserRequest) (*gatehousev1.UpdateUserResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.UpdateUserResponse, error) {
		u, err := s.svc.UpdateUser(ctx, p, req.GetUsername(), req.GetFullName())
		return &gatehousev1.UpdateUserResponse{User: userToProto(u)}, err
	})
}

func (s *Server) DisableUser(ctx context.Context, req *gatehousev1.DisableUserRequest) (*gatehousev1.DisableUserResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.DisableUserResponse, error) {
		u, err := s.svc.SetDisabled(ctx, p, req.GetUsername(), true)
		return &gatehousev1.DisableUserResponse{User: userToProto(u)}, err
	})
}

func (s *Server) EnableUser(ctx context.Context, req *gatehousev1.EnableUserRequest) (*gatehousev1.EnableUserResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.EnableUserResponse, error) {
		u, err := s.svc.SetDisabled(ctx, p, req.GetUsername(), false)
		return &gatehousev1.EnableUserResponse{User: userToProto(u)}, err
	})
}

func (s *Server) DeleteUser(ctx context.Context, req *gatehousev1.DeleteUserRequest) (*gatehousev1.DeleteUserResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.DeleteUserResponse, error) {
		return &gatehousev1.DeleteUserResponse{}, s.svc.DeleteUser(ctx, p, req.GetUsername(), req.GetConfirm())
	})
}

func (s *Server) MigrateUser(ctx context.Context, req *gatehousev1.MigrateUserRequest) (*gatehousev1.MigrateUserResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.MigrateUserResponse, error) {
		u, err := s.svc.MigrateUser(ctx, p, req.GetUsername(), req.GetIam(), req.GetUserId())
		return &gatehousev1.MigrateUserResponse{User: userToProto(u)}, err
	})
}

func (s *Server) GrantPermission(ctx context.Context, req *gatehousev1.GrantPermissionRequest) (*gatehousev1.GrantPermissionResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.GrantPermissionResponse, error) {
		u, err := s.svc.GrantPermission(ctx, p, req.GetUsername(), req.GetPermission())
		return &gatehousev1.GrantPermissionResponse{User: userToProto(u)}, err
	})
}

func (s *Server) RevokePermission(ctx context.Context, req *gatehousev1.RevokePermissionRequest) (*gatehousev1.RevokePermissionResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.RevokePermissionResponse, error) {
		u, err := s.svc.RevokePermission(ctx, p, req.GetUsername(), req.GetPermission())
		return &gatehousev1.RevokePermissionResponse{User: userToProto(u)}, err
	})
}

func (s *Server) AddUserAttribute(ctx context.Context, req *gatehousev1.AddUserAttributeRequest) (*gatehousev1.AddUserAttributeResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.AddUserAttributeResponse, error) {
		u, err := s.svc.AddUserAttribute(ctx, p, req.GetUsername(), req.GetName(), req.GetValue())
		return &gatehousev1.AddUserAttributeResponse{User: userToProto(u)}, err
	})
}

func (s *Server) RemoveUserAttribute(ctx context.Context, req *gatehousev1.RemoveUserAttributeRequest) (*gatehousev1.RemoveUserAttributeResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.RemoveUserAttributeResponse, error) {
		u, err := s.svc.RemoveUserAttribute(ctx, p, req.GetUsername(), req.GetName(), req.GetValue())
		return &gatehousev1.RemoveUserAttributeResponse{User: userToProto(u)}, err
	})
}

func (s *Server) SetExternalId(ctx context.Context, req *gatehousev1.SetExternalIdRequest) (*gatehousev1.SetExternalIdResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.SetExternalIdResponse, error) {
		u, err := s.svc.SetExternalID(ctx, p, req.GetUsername(), req.GetPlatform(), req.GetExternalUsername())
		return &gatehousev1.SetExternalIdResponse{User: userToProto(u)}, err
	})
}

func (s *Server) DeleteExternalId(ctx context.Context, req *gatehousev1.DeleteExternalIdRequest) (*gatehousev1.DeleteExternalIdResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.DeleteExternalIdResponse, error) {
		u, err := s.svc.DeleteExternalID(ctx, p, req.GetUsername(), req.GetPlatform())
		return &gatehousev1.DeleteExternalIdResponse{User: userToProto(u)}, err
	})
}

func (s *Server) SyncUser(ctx context.Context, req *gatehousev1.SyncUserRequest) (*gatehousev1.SyncUserResponse, error) {
	return call(ctx, func(p admin.Principal) (*gatehousev1.SyncUserResponse, error) {
		u, err := s.svc.SyncUser(ctx, p, req.GetUsername())
		return &gatehousev1.SyncUserResponse{User: userToProto(u)}, err
	})
}
