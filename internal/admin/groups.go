package admin

import (
	"context"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// CreateGroup adds a group; its name is unique.
func (s *Service) CreateGroup(ctx context.Context, p Principal, g directory.Group) (directory.Group, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.Group{}, err
	}
	g = directory.Group{Name: g.Name, Description: g.Description, Email: g.Email}
	if err := g.Validate(); err != nil {
		return directory.Group{}, err
	}
	var out directory.Group
	err := s.write(ctx, p, func(tx store.Tx, now time.Time) ([]audit.Record, error) {
		g.CreatedAt, g.UpdatedAt = now, now
		if err := tx.CreateGroup(ctx, g); err != nil {
			return nil, err
		}
		var err error
		out, err = tx.GetGroup(ctx, g.Name)
		return []audit.Record{record(audit.GroupCreate, groupTarget(g.Name),
			map[string]any{"description": g.Description, "email": g.Email})}, err
	})
	return out, err
}

// GetGroup returns one group with members and attributes.
func (s *Service) GetGroup(ctx context.Context, p Principal, name string) (directory.Group, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.Group{}, err
	}
	var out directory.Group
	err := s.store.View(ctx, func(r store.Reader) error {
		var err error
		out, err = r.GetGroup(ctx, name)
		return err
	})
	return out, err
}

// ListGroups lists every group.
func (s *Service) ListGroups(ctx context.Context, p Principal) ([]directory.Group, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return nil, err
	}
	var out []directory.Group
	err := s.store.View(ctx, func(r store.Reader) error {
		var err error
		out, err = r.ListGroups(ctx)
		return err
	})
	return out, err
}

// UpdateGroup rewrites a group's description and email.
func (s *Service) UpdateGroup(ctx context.Context, p Principal, g directory.Group) (directory.Group, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.Group{}, err
	}
	if err := g.Validate(); err != nil {
		return directory.Group{}, err
	}
	return s.modifyGroup(ctx, p, g.Name, func(tx store.Tx, cur *directory.Group) (*audit.Record, error) {
		if cur.Description == g.Description && cur.Email == g.Email {
			return nil, nil
		}
		r := record(audit.GroupUpdate, groupTarget(g.Name), map[string]any{"description": g.Description, "email": g.Email})
		cur.Description, cur.Email = g.Description, g.Email
		return &r, nil
	})
}

// DeleteGroup removes a group with its memberships and attributes.
func (s *Service) DeleteGroup(ctx context.Context, p Principal, name string) error {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return err
	}
	return s.write(ctx, p, func(tx store.Tx, now time.Time) ([]audit.Record, error) {
		g, err := tx.GetGroup(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := tx.DeleteGroup(ctx, name); err != nil {
			return nil, err
		}
		return []audit.Record{record(audit.GroupDelete, groupTarget(name), map[string]any{"members": g.Members})}, nil
	})
}

// AddMember adds a user to a group; adding a member twice is a no-op.
func (s *Service) AddMember(ctx context.Context, p Principal, group, username string) (directory.Group, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.Group{}, err
	}
	if err := directory.ValidateEmail("username", username); err != nil {
		return directory.Group{}, err
	}
	username = directory.NormalizeUsername(username)
	return s.modifyGroup(ctx, p, group, func(tx store.Tx, g *directory.Group) (*audit.Record, error) {
		added, err := tx.AddMember(ctx, g.Name, username)
		if err != nil || !added {
			return nil, err
		}
		r := record(audit.GroupMemberAdd, groupTarget(g.Name), map[string]any{"member": username})
		return &r, nil
	})
}

// RemoveMember takes a user out of a group; ErrNotFound if not a member.
func (s *Service) RemoveMember(ctx context.Context, p Principal, group, username string) (directory.Group, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.Group{}, err
	}
	username = directory.NormalizeUsername(username)
	return s.modifyGroup(ctx, p, group, func(tx store.Tx, g *directory.Group) (*audit.Record, error) {
		if err := tx.RemoveMember(ctx, g.Name, username); err != nil {
			return nil, err
		}
		r := record(audit.GroupMemberRemove, groupTarget(g.Name), map[string]any{"member": username})
		return &r, nil
	})
}

// AddGroupAttribute adds value to the group's attribute name.
func (s *Service) AddGroupAttribute(ctx context.Context, p Principal, group, name, value string) (directory.Group, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.Group{}, err
	}
	if err := directory.ValidateAttribute(name, value); err != nil {
		return directory.Group{}, err
	}
	return s.modifyGroup(ctx, p, group, func(tx store.Tx, g *directory.Group) (*audit.Record, error) {
		added, err := tx.AddGroupAttribute(ctx, g.Name, name, value)
		if err != nil || !added {
			return nil, err
		}
		r := record(audit.GroupAttributeAdd, groupTarget(g.Name), map[string]any{"name": name, "value": value})
		return &r, nil
	})
}

// RemoveGroupAttribute removes one value, or all values of name when value is "".
func (s *Service) RemoveGroupAttribute(ctx context.Context, p Principal, group, name, value string) (directory.Group, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.Group{}, err
	}
	if err := directory.ValidateIdentifier("name", name); err != nil {
		return directory.Group{}, err
	}
	return s.modifyGroup(ctx, p, group, func(tx store.Tx, g *directory.Group) (*audit.Record, error) {
		if err := tx.RemoveGroupAttribute(ctx, g.Name, name, value); err != nil {
			return nil, err
		}
		r := record(audit.GroupAttributeDel, groupTarget(g.Name), map[string]any{"name": name, "value": value})
		return &r, nil
	})
}

// modifyGroup is modifyUser for groups: change alters the group's fields or
// writes its details and returns its record (nil when nothing changed); the
// group is then saved with a new updatedAt and re-read.
func (s *Service) modifyGroup(ctx context.Context, p Principal, name string, change func(store.Tx, *directory.Group) (*audit.Record, error)) (directory.Group, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.Group{}, err
	}
	var out directory.Group
	err := s.write(ctx, p, func(tx store.Tx, now time.Time) ([]audit.Record, error) {
		g, err := tx.GetGroup(ctx, name)
		if err != nil {
			return nil, err
		}
		r, err := change(tx, &g)
		if err != nil || r == nil {
			out = g
			return nil, err
		}
		g.UpdatedAt = now
		if err := tx.UpdateGroup(ctx, g); err != nil {
			return nil, err
		}
		out, err = tx.GetGroup(ctx, name)
		return []audit.Record{*r}, err
	})
	return out, err
}
