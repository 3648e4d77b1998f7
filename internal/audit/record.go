// Package audit defines gatehouse's audit records and the sinks that ship
// them (JSON lines to stdout or a file). Admin-write records are persisted by
// the store in the same transaction as the write they describe; sinks get a
// copy after the commit.
package audit

import (
	"encoding/json"
	"time"
)

// Record is one audited event: an admin write now, decisions later.
type Record struct {
	ID        int64           `json:"id"`
	Time      time.Time       `json:"time"`
	Type      string          `json:"type"`   // e.g. "user.create", "permission.grant"
	Actor     string          `json:"actor"`  // username of the caller, or "bootstrap-admin"
	Target    string          `json:"target"` // what was acted on, e.g. "user:alice@example.com"
	Changes   json.RawMessage `json:"changes,omitempty"`
	RequestID string          `json:"requestId,omitempty"`
}

// Event types of admin writes. Usage metrics count these per day, so they
// are the vocabulary of the anonymised report too.
const (
	UserCreate        = "user.create"
	UserUpdate        = "user.update"
	UserDisable       = "user.disable"
	UserEnable        = "user.enable"
	UserDelete        = "user.delete"
	UserMigrate       = "user.migrate"
	PermissionGrant   = "permission.grant"
	PermissionRevoke  = "permission.revoke"
	UserAttributeAdd  = "user.attribute.add"
	UserAttributeDel  = "user.attribute.remove"
	ExternalIDSet     = "user.externalid.set"
	ExternalIDDelete  = "user.externalid.remove"
	GroupCreate       = "group.create"
	GroupUpdate       = "group.update"
	GroupDelete       = "group.delete"
	GroupMemberAdd    = "group.member.add"
	GroupMemberRemove = "group.member.remove"
	GroupAttributeAdd = "group.attribute.add"
	GroupAttributeDel = "group.attribute.remove"
	IAMPut            = "iam.put"
	IAMDelete         = "iam.delete"
	TokenCreate       = "token.create"
	TokenDelete       = "token.delete"
	PolicyReload      = "policy.reload"
	// UserSync is a user-info sync that changed the user's IAM-owned
	// memberships, attributes or external ids; its actor is the caller of
	// an on-demand sync, or admin.SyncActor for background ones.
	UserSync = "user.sync"
)

// Query selects audit records, newest first.
type Query struct {
	Since  time.Time // inclusive; zero means no bound
	Until  time.Time // exclusive; zero means no bound
	Actor  string
	Type   string // exact type, or a prefix ending in "." (e.g. "user.")
	Target string
	Before int64 // page cursor: only records with ID < Before; 0 means from the newest
	Limit  int   // 1..1000, default 100
}

// DailyCount is one cell of the anonymised usage report.
type DailyCount struct {
	Day   string `json:"day"` // YYYY-MM-DD, UTC
	Type  string `json:"workflow"`
	Count int64  `json:"count"`
}
