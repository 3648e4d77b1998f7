package sqlstore

import (
	"context"
	"slices"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

const groupSelect = "SELECT name, description, email, created_at, updated_at FROM groups"

// GetGroup implements store.Reader.
func (r *reader) GetGroup(ctx context.Context, name string) (directory.Group, error) {
	groups, err := r.loadGroups(ctx, " WHERE name = ?", name)
	if err != nil {
		return directory.Group{}, err
	}
	if len(groups) == 0 {
		return directory.Group{}, directory.NotFound("group", name)
	}
	return groups[0], nil
}

// ListGroups implements store.Reader.
func (r *reader) ListGroups(ctx context.Context) ([]directory.Group, error) {
	return r.loadGroups(ctx, " ORDER BY name")
}

// loadGroups reads the groups that groupSelect+clause selects with their
// members and attributes, the way loadUsers does.
func (r *reader) loadGroups(ctx context.Context, clause string, args ...any) ([]directory.Group, error) {
	groups := []directory.Group{}
	var g directory.Group
	err := r.each(ctx, "list groups", groupSelect+clause, args,
		[]any{&g.Name, &g.Description, &g.Email, scanTime(&g.CreatedAt), scanTime(&g.UpdatedAt)},
		func() error {
			g.Members = []string{}
			g.Attributes = directory.Attributes{}
			groups = append(groups, g)
			return nil
		})
	if err != nil || len(groups) == 0 {
		return groups, err
	}
	byName := make(map[string]*directory.Group, len(groups))
	for i := range groups {
		byName[groups[i].Name] = &groups[i]
	}
	span := []any{groups[0].Name, groups[len(groups)-1].Name}

	var name, a, b string
	err = r.each(ctx, "list members", "SELECT group_name, username FROM group_members WHERE group_name BETWEEN ? AND ?",
		span, []any{&name, &a}, func() error {
			if g := byName[name]; g != nil {
				g.Members = append(g.Members, a)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = r.each(ctx, "list group attributes", "SELECT group_name, name, value FROM group_attributes WHERE group_name BETWEEN ? AND ?",
		span, []any{&name, &a, &b}, func() error {
			if g := byName[name]; g != nil {
				g.Attributes[a] = append(g.Attributes[a], b)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	for i := range groups {
		slices.Sort(groups[i].Members)
		sortValues(groups[i].Attributes)
	}
	return groups, nil
}

// requireGroup returns ErrNotFound unless the group exists.
func (r *reader) requireGroup(ctx context.Context, name string) error {
	ok, err := r.exists(ctx, "SELECT 1 FROM groups WHERE name = ?", name)
	if err != nil {
		return r.fail("find group", err)
	}
	if !ok {
		return directory.NotFound("group", name)
	}
	return nil
}

// CreateGroup implements store.Tx.
func (t *tx) CreateGroup(ctx context.Context, g directory.Group) error {
	n, err := t.execCount(ctx, "create group", nil,
		"INSERT INTO groups (name, description, email, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		g.Name, g.Description, g.Email, t.d.time(g.CreatedAt), t.d.time(g.UpdatedAt))
	if err == nil && n == 0 {
		err = directory.Conflict("group", g.Name)
	}
	return err
}

// UpdateGroup implements store.Tx.
func (t *tx) UpdateGroup(ctx context.Context, g directory.Group) error {
	n, err := t.execCount(ctx, "update group", nil,
		"UPDATE groups SET description = ?, email = ?, updated_at = ? WHERE name = ?",
		g.Description, g.Email, t.d.time(g.UpdatedAt), g.Name)
	if err == nil && n == 0 {
		err = directory.NotFound("group", g.Name)
	}
	return err
}

// DeleteGroup implements store.Tx; memberships and attributes go by cascade.
func (t *tx) DeleteGroup(ctx context.Context, name string) error {
	n, err := t.execCount(ctx, "delete group", nil, "DELETE FROM groups WHERE name = ?", name)
	if err == nil && n == 0 {
		err = directory.NotFound("group", name)
	}
	return err
}

// AddMember implements store.Tx. An IAM-owned membership becomes manual:
// the conflicting row is only updated (and counted) when it was owned.
func (t *tx) AddMember(ctx context.Context, group, username string) (bool, error) {
	user := directory.NormalizeUsername(username)
	if err := t.requireGroup(ctx, group); err != nil {
		return false, err
	}
	if err := t.requireUser(ctx, user); err != nil {
		return false, err
	}
	n, err := t.execCount(ctx, "add member", nil,
		"INSERT INTO group_members (group_name, username) VALUES (?, ?)"+
			" ON CONFLICT (group_name, username) DO UPDATE SET iam = '' WHERE group_members.iam <> ''", group, user)
	return n == 1, err
}

// RemoveMember implements store.Tx.
func (t *tx) RemoveMember(ctx context.Context, group, username string) error {
	user := directory.NormalizeUsername(username)
	n, err := t.execCount(ctx, "remove member", nil,
		"DELETE FROM group_members WHERE group_name = ? AND username = ?", group, user)
	if err != nil || n > 0 {
		return err
	}
	if err := t.requireGroup(ctx, group); err != nil {
		return err
	}
	return notFound("user %q is not a member of group %q", user, group)
}

// AddGroupAttribute implements store.Tx.
func (t *tx) AddGroupAttribute(ctx context.Context, group, name, value string) (bool, error) {
	if err := t.requireGroup(ctx, group); err != nil {
		return false, err
	}
	n, err := t.execCount(ctx, "add group attribute", nil,
		"INSERT INTO group_attributes (group_name, name, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", group, name, value)
	return n == 1, err
}

// RemoveGroupAttribute implements store.Tx: one value, or every value of
// name when value is "", like RemoveUserAttribute.
func (t *tx) RemoveGroupAttribute(ctx context.Context, group, name, value string) error {
	query, args := "DELETE FROM group_attributes WHERE group_name = ? AND name = ?", []any{group, name}
	if value != "" {
		query, args = query+" AND value = ?", append(args, value)
	}
	n, err := t.execCount(ctx, "remove group attribute", nil, query, args...)
	if err != nil || n > 0 {
		return err
	}
	if err := t.requireGroup(ctx, group); err != nil {
		return err
	}
	return missingAttribute("group", group, name, value)
}
