// Package directory is gatehouse's identity domain: users, groups, attributes,
// permissions and identity providers (IAMs), with the rules user admins rely on
// and the errors those rules produce. It does no I/O: stores persist these types,
// the admin service enforces the rules, policies read a snapshot of them.
package directory

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// BuiltinIAM is the id of the identity provider every directory has: users
// created without naming an IAM belong to it.
const BuiltinIAM = "bim"

// PlatformTrino is the external-id platform whose value is the user's Trino name.
const PlatformTrino = "trino"

// DeleteConfirmation is the word an admin must type to delete a user for good.
const DeleteConfirmation = "DELETE"

// Permission is one of a closed set of capabilities a user can hold.
type Permission string

// The closed set of permissions. Anything else is rejected with ErrInvalid.
const (
	PermUserAdmin        Permission = "USER_ADMIN"
	PermGovernance       Permission = "GOVERNANCE"
	PermImpersonateUser  Permission = "IMPERSONATE_USER"
	PermCreateProject    Permission = "CREATE_PROJECT"
	PermCreateDataSource Permission = "CREATE_DATA_SOURCE"
	PermAudit            Permission = "AUDIT"
)

// Permissions lists every valid permission, in a stable order.
var Permissions = []Permission{
	PermUserAdmin, PermGovernance, PermImpersonateUser,
	PermCreateProject, PermCreateDataSource, PermAudit,
}

// Attributes maps an attribute name to its set of values, kept sorted and
// without duplicates so that equal sets compare and serialise equally.
type Attributes map[string][]string

// Add puts value into the set under name; it reports whether it was new.
func (a Attributes) Add(name, value string) bool {
	vs := a[name]
	i, found := slices.BinarySearch(vs, value)
	if found {
		return false
	}
	a[name] = slices.Insert(vs, i, value)
	return true
}

// Remove takes value out of the set under name; it reports whether it was there.
func (a Attributes) Remove(name, value string) bool {
	vs := a[name]
	i, found := slices.BinarySearch(vs, value)
	if !found {
		return false
	}
	vs = slices.Delete(vs, i, i+1)
	if len(vs) == 0 {
		delete(a, name)
	} else {
		a[name] = vs
	}
	return true
}

// Clone returns a deep copy.
func (a Attributes) Clone() Attributes {
	out := make(Attributes, len(a))
	for k, v := range a {
		out[k] = slices.Clone(v)
	}
	return out
}

// User is a person or service account. The email is the username: it is
// unique case-insensitively and stored lower-cased.
type User struct {
	Email     string    `json:"email"`
	FullName  string    `json:"fullName"`
	IAM       string    `json:"iam"`
	UserID    string    `json:"userId"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`

	// Details below are loaded with the user and written through their own
	// store calls; they are never written by a user update.
	Permissions []Permission      `json:"permissions"`
	Groups      []string          `json:"groups"`
	Attributes  Attributes        `json:"attributes"`
	ExternalIDs map[string]string `json:"externalIds"`
	// Sync is what the user-info sync knows of the user; nil until it first
	// tried them. Only the sync writes it.
	Sync *SyncState `json:"sync,omitempty"`
}

// SyncState is a user's standing with the user-info sync: when it last
// asked the user's identity provider, what went wrong, and which of the
// user's memberships and attribute values it owns. Owned ones are the IAM's
// to add and remove; every other membership or value was set by hand and the
// sync never touches it, so the two can be told apart here.
type SyncState struct {
	// IAM is the identity provider the last sync asked.
	IAM string `json:"iam,omitempty"`
	// LastSyncAt is the last attempt, whatever its outcome.
	LastSyncAt *time.Time `json:"lastSyncAt,omitempty"`
	// LastSuccessAt is the last attempt whose answer was applied.
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
	// LastError says why the last attempt failed, or what of its answer
	// could not be applied; "" when it applied everything.
	LastError string `json:"lastError,omitempty"`
	// Groups and Attributes are the subsets of User.Groups and
	// User.Attributes that an identity provider owns.
	Groups     []string   `json:"groups"`
	Attributes Attributes `json:"attributes"`
}

// HasPermission reports whether the user holds p.
func (u *User) HasPermission(p Permission) bool { return slices.Contains(u.Permissions, p) }

// Group is a named set of users with attributes of its own.
type Group struct {
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Email       string     `json:"email"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	Members     []string   `json:"members"`
	Attributes  Attributes `json:"attributes"`
}

// IAM is an identity provider. Its optional user-info endpoint answers, per
// user, groups and authorizations that the user-info sync (internal/userinfo)
// turns into memberships and attributes owned by the IAM; its profile mapping
// names, per platform (e.g. "trino"), the authorization that holds the user's
// name there, which the sync writes as the user's external id.
type IAM struct {
	ID             string            `json:"id"`
	DisplayName    string            `json:"displayName"`
	UserInfo       *UserInfoEndpoint `json:"userInfo,omitempty"`
	ProfileMapping map[string]string `json:"profileMapping,omitempty"`
	CreatedAt      time.Time         `json:"createdAt"`
	UpdatedAt      time.Time         `json:"updatedAt"`
}

// UserInfoEndpoint is where an IAM answers who a user is and what they hold.
type UserInfoEndpoint struct {
	URI      string `json:"uri"`
	Username string `json:"username,omitempty"`
	// Password is write-only: APIs never return it.
	Password string `json:"password,omitempty"`
	CAFile   string `json:"caFile,omitempty"`
	CertFile string `json:"certFile,omitempty"`
	KeyFile  string `json:"keyFile,omitempty"`
}

// Token is an admin API bearer token. Only a hash of its secret is kept.
type Token struct {
	ID          string     `json:"id"`
	Username    string     `json:"username"`
	Description string     `json:"description"`
	Hash        string     `json:"-"`
	CreatedAt   time.Time  `json:"createdAt"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
}

// NormalizeUsername folds an email to the form it is stored and compared in.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// SortStrings sorts and removes duplicates in place, returning the result.
func SortStrings(s []string) []string {
	sort.Strings(s)
	return slices.Compact(s)
}
