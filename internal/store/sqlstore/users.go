package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

const userSelect = "SELECT username, full_name, iam, user_id, disabled, created_at, updated_at FROM users"

// GetUser implements store.Reader.
func (r *reader) GetUser(ctx context.Context, username string) (directory.User, error) {
	name := directory.NormalizeUsername(username)
	users, err := r.loadUsers(ctx, " WHERE username = ?", name)
	if err != nil {
		return directory.User{}, err
	}
	if len(users) == 0 {
		return directory.User{}, directory.NotFound("user", name)
	}
	return users[0], nil
}

// ListUsers implements store.Reader.
func (r *reader) ListUsers(ctx context.Context, f store.UserFilter) ([]directory.User, error) {
	var conds []string
	var args []any
	if !f.IncludeDisabled {
		conds = append(conds, "disabled = ?")
		args = append(args, false)
	}
	if f.IAM != "" {
		conds = append(conds, "iam = ?")
		args = append(args, f.IAM)
	}
	if f.After != "" {
		conds = append(conds, "username > ?")
		args = append(args, directory.NormalizeUsername(f.After))
	}
	var clause string
	if len(conds) > 0 {
		clause = " WHERE " + strings.Join(conds, " AND ")
	}
	clause += " ORDER BY username"
	if f.Limit > 0 {
		clause += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return r.loadUsers(ctx, clause, args...)
}

// UserByExternalID implements store.Reader.
func (r *reader) UserByExternalID(ctx context.Context, platform, name string) (directory.User, error) {
	var username string
	err := r.queryRow(ctx, "SELECT username FROM external_ids WHERE platform = ? AND name = ?", platform, name).Scan(&username)
	if errors.Is(err, sql.ErrNoRows) {
		return directory.User{}, notFound("no user has %s name %q", platform, name)
	}
	if err != nil {
		return directory.User{}, r.fail("find user by external id", err)
	}
	return r.GetUser(ctx, username)
}

// loadUsers reads the users that userSelect+clause selects, with their
// details. Details come from one query per table over the username range the
// users span, so a page costs five queries however long it is; detail rows
// of users the clause filtered out are skipped.
func (r *reader) loadUsers(ctx context.Context, clause string, args ...any) ([]directory.User, error) {
	users := []directory.User{}
	var u directory.User
	err := r.each(ctx, "list users", userSelect+clause, args,
		[]any{&u.Email, &u.FullName, &u.IAM, &u.UserID, &u.Disabled, scanTime(&u.CreatedAt), scanTime(&u.UpdatedAt)},
		func() error {
			u.Permissions = []directory.Permission{}
			u.Groups = []string{}
			u.Attributes = directory.Attributes{}
			u.ExternalIDs = map[string]string{}
			users = append(users, u)
			return nil
		})
	if err != nil || len(users) == 0 {
		return users, err
	}
	byName := make(map[string]*directory.User, len(users))
	for i := range users {
		byName[users[i].Email] = &users[i]
	}
	span := []any{users[0].Email, users[len(users)-1].Email}

	var name, a, b, iam, lastError string
	var lastSync, lastSuccess time.Time
	lastSuccessCol := scanTime(&lastSuccess)
	details := []struct {
		what, query string
		dest        []any
		add         func(u *directory.User)
	}{
		{"list permissions", "SELECT username, permission FROM user_permissions WHERE username BETWEEN ? AND ?",
			[]any{&name, &a}, func(u *directory.User) { u.Permissions = append(u.Permissions, directory.Permission(a)) }},
		{"list memberships", "SELECT username, group_name, iam FROM group_members WHERE username BETWEEN ? AND ?",
			[]any{&name, &a, &iam}, func(u *directory.User) {
				u.Groups = append(u.Groups, a)
				if iam != "" {
					st := syncState(u)
					st.Groups = append(st.Groups, a)
				}
			}},
		{"list user attributes", "SELECT username, name, value, iam FROM user_attributes WHERE username BETWEEN ? AND ?",
			[]any{&name, &a, &b, &iam}, func(u *directory.User) {
				u.Attributes[a] = append(u.Attributes[a], b)
				if iam != "" {
					st := syncState(u)
					st.Attributes[a] = append(st.Attributes[a], b)
				}
			}},
		{"list external ids", "SELECT username, platform, name FROM external_ids WHERE username BETWEEN ? AND ?",
			[]any{&name, &a, &b}, func(u *directory.User) { u.ExternalIDs[a] = b }},
		{"list sync states", "SELECT username, iam, last_sync_at, last_success_at, last_error FROM user_sync WHERE username BETWEEN ? AND ?",
			[]any{&name, &iam, scanTime(&lastSync), lastSuccessCol, &lastError}, func(u *directory.User) {
				st := syncState(u)
				st.IAM, st.LastError = iam, lastError
				at := lastSync
				st.LastSyncAt = &at
				if lastSuccessCol.valid {
					ok := lastSuccess
					st.LastSuccessAt = &ok
				}
			}},
	}
	for _, d := range details {
		err := r.each(ctx, d.what, d.query, span, d.dest, func() error {
			if u := byName[name]; u != nil {
				d.add(u)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range users {
		sortPermissions(users[i].Permissions)
		slices.Sort(users[i].Groups)
		sortValues(users[i].Attributes)
		if st := users[i].Sync; st != nil {
			slices.Sort(st.Groups)
			sortValues(st.Attributes)
		}
	}
	return users, nil
}

// syncState returns u's sync state, creating an empty one on first use: a
// user has one once the sync tried them or an IAM owns any of their details.
func syncState(u *directory.User) *directory.SyncState {
	if u.Sync == nil {
		u.Sync = &directory.SyncState{Groups: []string{}, Attributes: directory.Attributes{}}
	}
	return u.Sync
}

// sortPermissions orders permissions as directory.Permissions lists them,
// then any unknown ones alphabetically.
func sortPermissions(ps []directory.Permission) {
	rank := func(p directory.Permission) int {
		if i := slices.Index(directory.Permissions, p); i >= 0 {
			return i
		}
		return len(directory.Permissions)
	}
	slices.SortFunc(ps, func(a, b directory.Permission) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
	})
}

// sortValues sorts each attribute's values in Go's order, the one
// directory.Attributes searches in, whatever the database's collation.
func sortValues(a directory.Attributes) {
	for _, vs := range a {
		slices.Sort(vs)
	}
}

// each runs query and calls fn after scanning each row into dest.
func (r *reader) each(ctx context.Context, what, query string, args, dest []any, fn func() error) error {
	rows, err := r.query(ctx, query, args...)
	if err != nil {
		return r.fail(what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return r.fail(what, err)
		}
		if err := fn(); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return r.fail(what, err)
	}
	return nil
}

// CreateUser implements store.Tx.
func (t *tx) CreateUser(ctx context.Context, u directory.User) error {
	name := directory.NormalizeUsername(u.Email)
	n, err := t.execCount(ctx, "create user", nil,
		"INSERT INTO users (username, full_name, iam, user_id, disabled, created_at, updated_at)"+
			" VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		name, u.FullName, u.IAM, u.UserID, u.Disabled, t.d.time(u.CreatedAt), t.d.time(u.UpdatedAt))
	if err == nil && n == 0 {
		err = directory.Conflict("user", name)
	}
	return err
}

// UpdateUser implements store.Tx.
func (t *tx) UpdateUser(ctx context.Context, u directory.User) error {
	name := directory.NormalizeUsername(u.Email)
	n, err := t.execCount(ctx, "update user", nil,
		"UPDATE users SET full_name = ?, iam = ?, user_id = ?, disabled = ?, updated_at = ? WHERE username = ?",
		u.FullName, u.IAM, u.UserID, u.Disabled, t.d.time(u.UpdatedAt), name)
	if err == nil && n == 0 {
		err = directory.NotFound("user", name)
	}
	return err
}

// DeleteUser implements store.Tx. Foreign keys with ON DELETE CASCADE take
// the user's permissions, memberships, attributes, external ids and tokens
// with it.
func (t *tx) DeleteUser(ctx context.Context, username string) error {
	name := directory.NormalizeUsername(username)
	n, err := t.execCount(ctx, "delete user", nil, "DELETE FROM users WHERE username = ?", name)
	if err == nil && n == 0 {
		err = directory.NotFound("user", name)
	}
	return err
}

// requireUser returns ErrNotFound unless the user (already normalised) exists.
func (r *reader) requireUser(ctx context.Context, name string) error {
	ok, err := r.exists(ctx, "SELECT 1 FROM users WHERE username = ?", name)
	if err != nil {
		return r.fail("find user", err)
	}
	if !ok {
		return directory.NotFound("user", name)
	}
	return nil
}
