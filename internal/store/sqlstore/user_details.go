package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

// GrantPermission implements store.Tx.
func (t *tx) GrantPermission(ctx context.Context, username string, p directory.Permission) (bool, error) {
	name := directory.NormalizeUsername(username)
	if err := t.requireUser(ctx, name); err != nil {
		return false, err
	}
	n, err := t.execCount(ctx, "grant permission", nil,
		"INSERT INTO user_permissions (username, permission) VALUES (?, ?) ON CONFLICT DO NOTHING", name, string(p))
	return n == 1, err
}

// RevokePermission implements store.Tx.
func (t *tx) RevokePermission(ctx context.Context, username string, p directory.Permission) error {
	name := directory.NormalizeUsername(username)
	n, err := t.execCount(ctx, "revoke permission", nil,
		"DELETE FROM user_permissions WHERE username = ? AND permission = ?", name, string(p))
	if err != nil || n > 0 {
		return err
	}
	if err := t.requireUser(ctx, name); err != nil {
		return err
	}
	return notFound("user %q does not hold permission %s", name, p)
}

// AddUserAttribute implements store.Tx. An IAM-owned value becomes manual,
// as in AddMember.
func (t *tx) AddUserAttribute(ctx context.Context, username, name, value string) (bool, error) {
	user := directory.NormalizeUsername(username)
	if err := t.requireUser(ctx, user); err != nil {
		return false, err
	}
	n, err := t.execCount(ctx, "add user attribute", nil,
		"INSERT INTO user_attributes (username, name, value) VALUES (?, ?, ?)"+
			" ON CONFLICT (username, name, value) DO UPDATE SET iam = '' WHERE user_attributes.iam <> ''", user, name, value)
	return n == 1, err
}

// RemoveUserAttribute implements store.Tx.
func (t *tx) RemoveUserAttribute(ctx context.Context, username, name, value string) error {
	user := directory.NormalizeUsername(username)
	query, args := "DELETE FROM user_attributes WHERE username = ? AND name = ?", []any{user, name}
	if value != "" {
		query, args = query+" AND value = ?", append(args, value)
	}
	n, err := t.execCount(ctx, "remove user attribute", nil, query, args...)
	if err != nil || n > 0 {
		return err
	}
	if err := t.requireUser(ctx, user); err != nil {
		return err
	}
	return missingAttribute("user", user, name, value)
}

// missingAttribute is the ErrNotFound of a removal that matched nothing.
func missingAttribute(kind, owner, name, value string) error {
	if value == "" {
		return notFound("%s %q has no attribute %q", kind, owner, name)
	}
	return notFound("%s %q has no attribute %q with value %q", kind, owner, name, value)
}

// SetExternalID implements store.Tx.
func (t *tx) SetExternalID(ctx context.Context, username, platform, name string) error {
	user := directory.NormalizeUsername(username)
	if err := t.requireUser(ctx, user); err != nil {
		return err
	}
	// Name the user who holds the name already: the admin has to know whom
	// to unmap. The unique index still guards a concurrent writer.
	var owner string
	err := t.queryRow(ctx, "SELECT username FROM external_ids WHERE platform = ? AND name = ? AND username <> ?",
		platform, name, user).Scan(&owner)
	switch {
	case err == nil:
		return conflict("%s name %q is already mapped to user %q", platform, name, owner)
	case !errors.Is(err, sql.ErrNoRows):
		return t.fail("find external id", err)
	}
	_, err = t.execCount(ctx, "set external id",
		func() error { return conflict("%s name %q is already mapped to another user", platform, name) },
		"INSERT INTO external_ids (username, platform, name) VALUES (?, ?, ?)"+
			" ON CONFLICT (username, platform) DO UPDATE SET name = excluded.name",
		user, platform, name)
	return err
}

// DeleteExternalID implements store.Tx.
func (t *tx) DeleteExternalID(ctx context.Context, username, platform string) error {
	user := directory.NormalizeUsername(username)
	n, err := t.execCount(ctx, "delete external id", nil,
		"DELETE FROM external_ids WHERE username = ? AND platform = ?", user, platform)
	if err != nil || n > 0 {
		return err
	}
	if err := t.requireUser(ctx, user); err != nil {
		return err
	}
	return notFound("user %q has no %s external id", user, platform)
}
