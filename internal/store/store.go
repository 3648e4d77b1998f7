// Package store defines how gatehouse persists its directory, tokens and audit
// log. Backends live in sub-packages (sqlite is the embedded default) and must
// all pass the conformance suite in storetest.
//
// Every write happens inside Update, so a write and the audit record that
// describes it commit together or not at all, and every committed Update bumps
// the directory revision that decision caches key on.
package store

import (
	"context"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

// Store is a backend. It is safe for concurrent use.
type Store interface {
	// View runs fn against a consistent read snapshot.
	View(ctx context.Context, fn func(Reader) error) error
	// Update runs fn in one read-write transaction: it commits (durably, before
	// Update returns nil) only if fn returns nil, and rolls back otherwise.
	Update(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	Close() error
}

// UserFilter selects users in ListUsers.
type UserFilter struct {
	IncludeDisabled bool
	IAM             string // only users of this IAM, when set
	After           string // page cursor: usernames strictly after this one
	Limit           int    // 0 means all
}

// SyncCandidate is a user due for a user-info sync.
type SyncCandidate struct {
	Username   string
	LastSyncAt time.Time // zero when never tried
}

// Reader is the read side, in a snapshot or a transaction.
type Reader interface {
	// Revision is the number of committed Updates that changed anything.
	Revision(ctx context.Context) (int64, error)

	// GetUser returns the user with all details; the name is matched
	// case-insensitively. ErrNotFound if absent.
	GetUser(ctx context.Context, username string) (directory.User, error)
	// ListUsers returns users with all details, ordered by username.
	ListUsers(ctx context.Context, f UserFilter) ([]directory.User, error)
	// UserByExternalID finds the user whose external id on platform is name.
	UserByExternalID(ctx context.Context, platform, name string) (directory.User, error)
	// UsernamesByExternalIDFold lists, ordered, the users whose external id on
	// platform equals name once both are lower-cased (strings.ToLower, the
	// folding Rego's lower() does too), for case-insensitive Trino names.
	UsernamesByExternalIDFold(ctx context.Context, platform, name string) ([]string, error)
	// UsersToSync lists the active users of iam whose last user-info sync
	// attempt was before before, or who were never tried: never-tried first,
	// then oldest attempt first, then by username; at most limit (0: all).
	UsersToSync(ctx context.Context, iam string, before time.Time, limit int) ([]SyncCandidate, error)

	GetGroup(ctx context.Context, name string) (directory.Group, error)
	// ListGroups returns groups with members and attributes, ordered by name.
	ListGroups(ctx context.Context) ([]directory.Group, error)

	GetIAM(ctx context.Context, id string) (directory.IAM, error)
	ListIAMs(ctx context.Context) ([]directory.IAM, error)

	// TokenByHash finds a token by the hash of its secret.
	TokenByHash(ctx context.Context, hash string) (directory.Token, error)
	ListTokens(ctx context.Context, username string) ([]directory.Token, error)

	// ListAudit returns records matching q, newest first.
	ListAudit(ctx context.Context, q audit.Query) ([]audit.Record, error)
	// CountAuditByDay counts records per UTC day and type in [since, until).
	CountAuditByDay(ctx context.Context, since, until time.Time) ([]audit.DailyCount, error)
}

// Tx is the write side of an Update. Writes that find their target missing
// return directory.ErrNotFound; writes that would duplicate a unique key
// return directory.ErrConflict. Validation is the caller's job.
type Tx interface {
	Reader

	// CreateUser stores a new user (core fields only).
	CreateUser(ctx context.Context, u directory.User) error
	// UpdateUser rewrites the core fields (full name, IAM, user id, disabled,
	// updated time) of an existing user.
	UpdateUser(ctx context.Context, u directory.User) error
	// DeleteUser removes the user and every trace of them: permissions,
	// memberships, attributes, external ids and tokens.
	DeleteUser(ctx context.Context, username string) error

	// GrantPermission reports whether the permission was newly granted.
	GrantPermission(ctx context.Context, username string, p directory.Permission) (bool, error)
	// RevokePermission returns ErrNotFound if the user does not hold p.
	RevokePermission(ctx context.Context, username string, p directory.Permission) error

	// AddUserAttribute adds a value set by hand and reports whether the user
	// did not hold it that way before: a value an IAM owned becomes manual, so
	// that the user-info sync leaves it alone from then on.
	AddUserAttribute(ctx context.Context, username, name, value string) (bool, error)
	// RemoveUserAttribute removes one value, or every value of name when value
	// is "", however it was set; ErrNotFound when nothing matched.
	RemoveUserAttribute(ctx context.Context, username, name, value string) error
	// AddIAMUserAttribute adds a value owned by iam (the user-info sync's) and
	// reports whether it is new. A value set by hand stays manual; one owned
	// by another IAM passes to iam.
	AddIAMUserAttribute(ctx context.Context, username, name, value, iam string) (bool, error)
	// RemoveIAMUserAttribute removes one IAM-owned value; ErrNotFound when the
	// user holds no such value owned by an IAM (a manual one stays).
	RemoveIAMUserAttribute(ctx context.Context, username, name, value string) error
	// SetSyncState records the outcome of a user-info sync attempt (IAM,
	// times, error; ownership is carried by the memberships and attributes
	// themselves). It does not move the revision: policies do not read it.
	SetSyncState(ctx context.Context, username string, st directory.SyncState) error

	// SetExternalID maps the user to name on platform, replacing any earlier
	// name; ErrConflict if another user has that name on that platform.
	SetExternalID(ctx context.Context, username, platform, name string) error
	DeleteExternalID(ctx context.Context, username, platform string) error

	CreateGroup(ctx context.Context, g directory.Group) error
	// UpdateGroup rewrites description, email and updated time.
	UpdateGroup(ctx context.Context, g directory.Group) error
	// DeleteGroup removes the group, its memberships and attributes.
	DeleteGroup(ctx context.Context, name string) error
	// AddMember adds a membership set by hand and reports whether the user
	// was not a manual member before (an IAM-owned membership becomes
	// manual, like AddUserAttribute's values); ErrNotFound if the group or
	// the user is missing.
	AddMember(ctx context.Context, group, username string) (bool, error)
	// RemoveMember removes a membership however it was set.
	RemoveMember(ctx context.Context, group, username string) error
	// AddIAMMember adds a membership owned by iam and reports whether it is
	// new; a manual membership stays manual, one owned by another IAM passes
	// to iam.
	AddIAMMember(ctx context.Context, group, username, iam string) (bool, error)
	// RemoveIAMMember removes an IAM-owned membership; ErrNotFound when the
	// user is not a member of group through an IAM (a manual one stays).
	RemoveIAMMember(ctx context.Context, group, username string) error
	AddGroupAttribute(ctx context.Context, group, name, value string) (bool, error)
	RemoveGroupAttribute(ctx context.Context, group, name, value string) error

	// PutIAM creates or replaces an identity provider.
	PutIAM(ctx context.Context, i directory.IAM) error
	// DeleteIAM returns ErrConflict while users still belong to it.
	DeleteIAM(ctx context.Context, id string) error

	CreateToken(ctx context.Context, t directory.Token) error
	DeleteToken(ctx context.Context, id string) error

	// AppendAudit stores r, assigning its ID (returned).
	AppendAudit(ctx context.Context, r audit.Record) (int64, error)
}
