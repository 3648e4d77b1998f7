package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// What the user-info sync needs of the store. A membership or user attribute
// value carries the identity provider that owns it in its iam column ('' for
// one set by hand, see migration 0002): the sync writes only owned rows, and
// a manual write of an owned row makes it manual.

// AddIAMMember implements store.Tx.
func (t *tx) AddIAMMember(ctx context.Context, group, username, iam string) (bool, error) {
	user := directory.NormalizeUsername(username)
	if err := t.requireGroup(ctx, group); err != nil {
		return false, err
	}
	if err := t.requireUser(ctx, user); err != nil {
		return false, err
	}
	return t.addOwned(ctx, "add iam member",
		"SELECT iam FROM group_members WHERE group_name = ? AND username = ?",
		"INSERT INTO group_members (group_name, username, iam) VALUES (?, ?, ?)",
		"UPDATE group_members SET iam = ? WHERE group_name = ? AND username = ?",
		iam, group, user)
}

// RemoveIAMMember implements store.Tx.
func (t *tx) RemoveIAMMember(ctx context.Context, group, username string) error {
	user := directory.NormalizeUsername(username)
	n, err := t.execCount(ctx, "remove iam member", nil,
		"DELETE FROM group_members WHERE group_name = ? AND username = ? AND iam <> ''", group, user)
	if err != nil || n > 0 {
		return err
	}
	if err := t.requireGroup(ctx, group); err != nil {
		return err
	}
	if err := t.requireUser(ctx, user); err != nil {
		return err
	}
	return notFound("user %q is not a member of group %q through an identity provider", user, group)
}

// AddIAMUserAttribute implements store.Tx.
func (t *tx) AddIAMUserAttribute(ctx context.Context, username, name, value, iam string) (bool, error) {
	user := directory.NormalizeUsername(username)
	if err := t.requireUser(ctx, user); err != nil {
		return false, err
	}
	return t.addOwned(ctx, "add iam user attribute",
		"SELECT iam FROM user_attributes WHERE username = ? AND name = ? AND value = ?",
		"INSERT INTO user_attributes (username, name, value, iam) VALUES (?, ?, ?, ?)",
		"UPDATE user_attributes SET iam = ? WHERE username = ? AND name = ? AND value = ?",
		iam, user, name, value)
}

// addOwned writes a row owned by iam whose key is key: inserted when
// absent (reported as new), handed to iam when another IAM owns it, left
// alone when it was set by hand. The insert lists the key columns before
// iam; the update sets iam before its WHERE on the key.
func (t *tx) addOwned(ctx context.Context, what, selectQ, insertQ, updateQ, iam string, key ...any) (bool, error) {
	var owner string
	err := t.queryRow(ctx, selectQ, key...).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err := t.execCount(ctx, what, nil, insertQ, append(key, iam)...)
		return err == nil, err
	case err != nil:
		return false, t.fail(what, err)
	case owner == "" || owner == iam:
		return false, nil
	default:
		_, err := t.execCount(ctx, what, nil, updateQ, append([]any{iam}, key...)...)
		return false, err
	}
}

// RemoveIAMUserAttribute implements store.Tx.
func (t *tx) RemoveIAMUserAttribute(ctx context.Context, username, name, value string) error {
	user := directory.NormalizeUsername(username)
	n, err := t.execCount(ctx, "remove iam user attribute", nil,
		"DELETE FROM user_attributes WHERE username = ? AND name = ? AND value = ? AND iam <> ''", user, name, value)
	if err != nil || n > 0 {
		return err
	}
	if err := t.requireUser(ctx, user); err != nil {
		return err
	}
	return notFound("user %q has no attribute %q with value %q from an identity provider", user, name, value)
}

// SetSyncState implements store.Tx. It writes through the transaction but
// not through exec, so the revision stays: a sync that changed nothing must
// not make every replica refresh its decision snapshot.
func (t *tx) SetSyncState(ctx context.Context, username string, st directory.SyncState) error {
	user := directory.NormalizeUsername(username)
	if err := t.requireUser(ctx, user); err != nil {
		return err
	}
	var last time.Time
	if st.LastSyncAt != nil {
		last = *st.LastSyncAt
	}
	_, err := t.q.ExecContext(ctx, t.d.rebind(
		"INSERT INTO user_sync (username, iam, last_sync_at, last_success_at, last_error) VALUES (?, ?, ?, ?, ?)"+
			" ON CONFLICT (username) DO UPDATE SET iam = excluded.iam, last_sync_at = excluded.last_sync_at,"+
			" last_success_at = excluded.last_success_at, last_error = excluded.last_error"),
		user, st.IAM, t.d.time(last), t.d.optTime(st.LastSuccessAt), st.LastError)
	if err != nil {
		return t.fail("set sync state", err)
	}
	return nil
}

// UsersToSync implements store.Reader. "IS NOT NULL" leads the ordering
// because SQLite sorts NULLs first and PostgreSQL last.
func (r *reader) UsersToSync(ctx context.Context, iam string, before time.Time, limit int) ([]store.SyncCandidate, error) {
	query := "SELECT u.username, s.last_sync_at FROM users u LEFT JOIN user_sync s ON s.username = u.username" +
		" WHERE u.iam = ? AND u.disabled = ? AND (s.last_sync_at IS NULL OR s.last_sync_at < ?)" +
		" ORDER BY s.last_sync_at IS NOT NULL, s.last_sync_at, u.username"
	args := []any{iam, false, r.d.time(before)}
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	out := []store.SyncCandidate{}
	var c store.SyncCandidate
	err := r.each(ctx, "list users to sync", query, args, []any{&c.Username, scanTime(&c.LastSyncAt)}, func() error {
		out = append(out, c)
		c = store.SyncCandidate{}
		return nil
	})
	return out, err
}

// UsernamesByExternalIDFold implements store.Reader. The folding happens here
// rather than in SQL because SQLite's lower() only folds ASCII while Go's
// (and Rego's) folds Unicode; it runs on external-id writes only, when
// case-insensitive Trino names are configured.
func (r *reader) UsernamesByExternalIDFold(ctx context.Context, platform, name string) ([]string, error) {
	want := strings.ToLower(name)
	out := []string{}
	var user, have string
	err := r.each(ctx, "find external ids", "SELECT username, name FROM external_ids WHERE platform = ? ORDER BY username",
		[]any{platform}, []any{&user, &have}, func() error {
			if strings.ToLower(have) == want {
				out = append(out, user)
			}
			return nil
		})
	return out, err
}
