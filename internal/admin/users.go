package admin

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/userinfo"
)

// CreateUserRequest is the input of CreateUser.
type CreateUserRequest struct {
	Email    string `json:"email"`
	FullName string `json:"fullName"`
	IAM      string `json:"iam,omitempty"`
	UserID   string `json:"userId,omitempty"`
}

// ListUsersRequest is the input of ListUsers.
type ListUsersRequest struct {
	IncludeDisabled bool
	IAM             string
}

// CreateUser adds a user; the email, lower-cased, is the username.
func (s *Service) CreateUser(ctx context.Context, p Principal, req CreateUserRequest) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	u := directory.User{Email: req.Email, FullName: req.FullName, IAM: req.IAM, UserID: req.UserID}
	if err := u.Validate(); err != nil {
		return directory.User{}, err
	}
	var out directory.User
	err := s.write(ctx, p, func(tx store.Tx, now time.Time) ([]audit.Record, error) {
		if err := iamExists(ctx, tx, u.IAM); err != nil {
			return nil, err
		}
		u.CreatedAt, u.UpdatedAt = now, now
		if err := tx.CreateUser(ctx, u); err != nil {
			return nil, err
		}
		var err error
		out, err = tx.GetUser(ctx, u.Email)
		return []audit.Record{record(audit.UserCreate, userTarget(u.Email),
			map[string]any{"fullName": u.FullName, "iam": u.IAM, "userId": u.UserID})}, err
	})
	return out, err
}

// iamExists turns a missing IAM into bad input: the caller named it in a body.
func iamExists(ctx context.Context, r store.Reader, id string) error {
	if _, err := r.GetIAM(ctx, id); errors.Is(err, directory.ErrNotFound) {
		return directory.Invalid("iam", "identity provider %q does not exist (see GET /api/v1/iams)", id)
	} else if err != nil {
		return err
	}
	return nil
}

// ListUsers lists users; disabled ones only when asked for.
func (s *Service) ListUsers(ctx context.Context, p Principal, req ListUsersRequest) ([]directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return nil, err
	}
	var out []directory.User
	err := s.store.View(ctx, func(r store.Reader) error {
		var err error
		out, err = r.ListUsers(ctx, store.UserFilter{IncludeDisabled: req.IncludeDisabled, IAM: req.IAM})
		return err
	})
	return out, err
}

// GetUser returns one user with all details. Anyone may read themselves.
func (s *Service) GetUser(ctx context.Context, p Principal, username string) (directory.User, error) {
	username = directory.NormalizeUsername(username)
	if username != p.Username {
		if err := require(p, directory.PermUserAdmin); err != nil {
			return directory.User{}, err
		}
	}
	var out directory.User
	err := s.store.View(ctx, func(r store.Reader) error {
		var err error
		out, err = r.GetUser(ctx, username)
		return err
	})
	return out, err
}

// UpdateUser changes a user's full name.
func (s *Service) UpdateUser(ctx context.Context, p Principal, username, fullName string) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	if err := directory.ValidateText("fullName", fullName, directory.MaxNameLen, true); err != nil {
		return directory.User{}, err
	}
	return s.modifyUser(ctx, p, username, func(tx store.Tx, u *directory.User) (*audit.Record, error) {
		if u.FullName == fullName {
			return nil, nil
		}
		r := record(audit.UserUpdate, userTarget(u.Email), map[string]any{"fullName": map[string]string{"from": u.FullName, "to": fullName}})
		u.FullName = fullName
		return &r, nil
	})
}

// SetDisabled disables or enables a user. A disabled user is denied
// everything and hidden from lists; disabling twice changes nothing.
func (s *Service) SetDisabled(ctx context.Context, p Principal, username string, disabled bool) (directory.User, error) {
	return s.modifyUser(ctx, p, username, func(tx store.Tx, u *directory.User) (*audit.Record, error) {
		if u.Disabled == disabled {
			return nil, nil
		}
		u.Disabled = disabled
		typ := audit.UserEnable
		if disabled {
			typ = audit.UserDisable
		}
		r := record(typ, userTarget(u.Email), nil)
		return &r, nil
	})
}

// MigrateUser moves a user to another identity provider, keeping their
// permissions, groups and attributes set by hand. userID defaults to the
// email. When the new IAM has a user-info endpoint the user is synced from
// it at once, which replaces what the old IAM's sync gave them; a failed
// sync leaves that in place until one succeeds, and shows on the user. When
// it has none, what the old IAM's sync gave them goes with the move.
func (s *Service) MigrateUser(ctx context.Context, p Principal, username, iam, userID string) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	if err := directory.ValidateIdentifier("iam", iam); err != nil {
		return directory.User{}, err
	}
	if err := directory.ValidateText("userId", userID, directory.MaxValueLen, false); err != nil {
		return directory.User{}, err
	}
	var syncFrom bool // the new IAM has an endpoint to sync from
	out, err := s.modifyUser(ctx, p, username, func(tx store.Tx, u *directory.User) (*audit.Record, error) {
		if err := iamExists(ctx, tx, iam); err != nil {
			return nil, err
		}
		if userID == "" {
			userID = u.Email
		}
		if u.IAM == iam && u.UserID == userID {
			return nil, nil
		}
		changes := map[string]any{
			"iam": map[string]string{"from": u.IAM, "to": iam}, "userId": map[string]string{"from": u.UserID, "to": userID}}
		target, err := tx.GetIAM(ctx, iam)
		if err != nil {
			return nil, err
		}
		if syncFrom = target.UserInfo != nil; !syncFrom {
			dropped, err := dropIAMDetails(ctx, tx, u)
			if err != nil {
				return nil, err
			}
			for k, v := range dropped {
				changes[k] = v
			}
		}
		r := record(audit.UserMigrate, userTarget(u.Email), changes)
		u.IAM, u.UserID = iam, userID
		return &r, nil
	})
	if err != nil || !syncFrom {
		return out, err
	}
	// The migration stands whatever the sync's outcome, which the user's
	// sync state shows; only a store failure is an error here.
	synced, err := s.syncUser(ctx, p.Username, out.Email, false)
	if err != nil && !errors.Is(err, directory.ErrUnavailable) {
		return out, err
	}
	if synced.Email == "" {
		return out, nil
	}
	return synced, nil
}

// modifyUser loads a user, lets change alter its core fields or write its
// details, then saves and re-reads it. change returns the audit record of what
// it did, or nil when it did nothing (and then nothing is written).
func (s *Service) modifyUser(ctx context.Context, p Principal, username string, change func(store.Tx, *directory.User) (*audit.Record, error)) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	username = directory.NormalizeUsername(username)
	var out directory.User
	err := s.write(ctx, p, func(tx store.Tx, now time.Time) ([]audit.Record, error) {
		u, err := tx.GetUser(ctx, username)
		if err != nil {
			return nil, err
		}
		r, err := change(tx, &u)
		if err != nil || r == nil {
			out = u
			return nil, err
		}
		// Every change bumps updatedAt, and core-field changes are written here.
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return nil, err
		}
		out, err = tx.GetUser(ctx, username)
		return []audit.Record{*r}, err
	})
	return out, err
}

// DeleteUser removes a user and every trace of them for good. The admin must
// pass the confirmation word DELETE; the audit log keeps the deletion.
func (s *Service) DeleteUser(ctx context.Context, p Principal, username, confirm string) error {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return err
	}
	if confirm != directory.DeleteConfirmation {
		return directory.Invalid("confirm", "permanent deletion needs confirm=%s", directory.DeleteConfirmation)
	}
	username = directory.NormalizeUsername(username)
	return s.write(ctx, p, func(tx store.Tx, now time.Time) ([]audit.Record, error) {
		u, err := tx.GetUser(ctx, username)
		if err != nil {
			return nil, err
		}
		if err := tx.DeleteUser(ctx, username); err != nil {
			return nil, err
		}
		return []audit.Record{record(audit.UserDelete, userTarget(username), map[string]any{
			"deletedAt": now, "iam": u.IAM, "permissions": u.Permissions, "groups": u.Groups})}, nil
	})
}

// GrantPermission grants p to a user; granting a held permission is a no-op.
func (s *Service) GrantPermission(ctx context.Context, p Principal, username, permission string) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	perm, err := directory.ParsePermission(permission)
	if err != nil {
		return directory.User{}, err
	}
	return s.modifyUser(ctx, p, username, func(tx store.Tx, u *directory.User) (*audit.Record, error) {
		added, err := tx.GrantPermission(ctx, u.Email, perm)
		if err != nil || !added {
			return nil, err
		}
		r := record(audit.PermissionGrant, userTarget(u.Email), map[string]any{"permission": perm})
		return &r, nil
	})
}

// RevokePermission revokes p; revoking one not held is ErrNotFound.
func (s *Service) RevokePermission(ctx context.Context, p Principal, username, permission string) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	perm, err := directory.ParsePermission(permission)
	if err != nil {
		return directory.User{}, err
	}
	return s.modifyUser(ctx, p, username, func(tx store.Tx, u *directory.User) (*audit.Record, error) {
		if err := tx.RevokePermission(ctx, u.Email, perm); err != nil {
			return nil, err
		}
		r := record(audit.PermissionRevoke, userTarget(u.Email), map[string]any{"permission": perm})
		return &r, nil
	})
}

// AddUserAttribute adds value to the user's attribute name.
func (s *Service) AddUserAttribute(ctx context.Context, p Principal, username, name, value string) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	if err := directory.ValidateAttribute(name, value); err != nil {
		return directory.User{}, err
	}
	return s.modifyUser(ctx, p, username, func(tx store.Tx, u *directory.User) (*audit.Record, error) {
		added, err := tx.AddUserAttribute(ctx, u.Email, name, value)
		if err != nil || !added {
			return nil, err
		}
		r := record(audit.UserAttributeAdd, userTarget(u.Email), map[string]any{"name": name, "value": value})
		return &r, nil
	})
}

// RemoveUserAttribute removes one value, or all values of name when value is "".
func (s *Service) RemoveUserAttribute(ctx context.Context, p Principal, username, name, value string) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	if err := directory.ValidateIdentifier("name", name); err != nil {
		return directory.User{}, err
	}
	return s.modifyUser(ctx, p, username, func(tx store.Tx, u *directory.User) (*audit.Record, error) {
		if err := tx.RemoveUserAttribute(ctx, u.Email, name, value); err != nil {
			return nil, err
		}
		r := record(audit.UserAttributeDel, userTarget(u.Email), map[string]any{"name": name, "value": value})
		return &r, nil
	})
}

// SetExternalID maps the user to name on platform (e.g. their Trino name).
func (s *Service) SetExternalID(ctx context.Context, p Principal, username, platform, name string) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	if err := directory.ValidateExternalID(platform, name); err != nil {
		return directory.User{}, err
	}
	return s.modifyUser(ctx, p, username, func(tx store.Tx, u *directory.User) (*audit.Record, error) {
		if u.ExternalIDs[platform] == name {
			return nil, nil
		}
		if err := userinfo.ExternalIDClash(ctx, tx, u.Email, platform, name, s.foldTrinoNames); err != nil {
			return nil, err
		}
		if err := tx.SetExternalID(ctx, u.Email, platform, name); err != nil {
			return nil, err
		}
		r := record(audit.ExternalIDSet, userTarget(u.Email), map[string]any{"platform": platform, "username": name})
		return &r, nil
	})
}

// DeleteExternalID removes the user's name on platform.
func (s *Service) DeleteExternalID(ctx context.Context, p Principal, username, platform string) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	if err := directory.ValidateIdentifier("platform", platform); err != nil {
		return directory.User{}, err
	}
	return s.modifyUser(ctx, p, username, func(tx store.Tx, u *directory.User) (*audit.Record, error) {
		if err := tx.DeleteExternalID(ctx, u.Email, platform); err != nil {
			return nil, err
		}
		r := record(audit.ExternalIDDelete, userTarget(u.Email), map[string]any{"platform": platform})
		return &r, nil
	})
}
