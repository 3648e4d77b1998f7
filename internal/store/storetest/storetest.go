// Package storetest is the conformance suite of store.Store: every backend's
// tests call Run, so the behaviour the admin service and the decision engine
// rely on (errors, ordering, empty-not-nil details, revisions, atomicity,
// durability across reopening) is pinned once for all of them.
package storetest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Run runs the suite. open returns a backend keeping its data in dir; it is
// called once per subtest with a fresh directory, and more than once with
// the same directory to check that data survives Close. Run closes what
// open returns.
func Run(t *testing.T, open func(t *testing.T, dir string) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"ListUsers", testListUsers},
		{"Permissions", testPermissions},
		{"UserAttributes", testUserAttributes},
		{"ExternalIDs", testExternalIDs},
		{"DeleteUser", testDeleteUser},
		{"Groups", testGroups},
		{"Members", testMembers},
		{"GroupAttributes", testGroupAttributes},
		{"IAMs", testIAMs},
		{"IAMMembers", testIAMMembers},
		{"IAMAttributes", testIAMAttributes},
		{"SyncState", testSyncState},
		{"UsersToSync", testUsersToSync},
		{"ExternalIDFold", testExternalIDFold},
		{"Tokens", testTokens},
		{"AuditFilters", testAuditFilters},
		{"AuditPaging", testAuditPaging},
		{"CountAuditByDay", testCountAuditByDay},
		{"Rollback", testRollback},
		{"Revision", testRevision},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, openClosed(t, open, t.TempDir()))
		})
	}
	t.Run("Reopen", func(t *testing.T) {
		t.Parallel()
		testReopen(t, open)
	})
}

// openClosed opens a store that is closed when the test ends.
func openClosed(t *testing.T, open func(t *testing.T, dir string) store.Store, dir string) store.Store {
	t.Helper()
	s := open(t, dir)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// Fixed times with nanoseconds and a zone other than UTC: stores must hand
// them back in UTC, truncated to microseconds.
var (
	t0 = time.Date(2025, 3, 1, 12, 30, 45, 123456789, time.FixedZone("CET", 3600))
	t1 = t0.Add(36 * time.Hour)
)

// stored is what a store returns for t.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func newUser(email string) directory.User {
	return directory.User{Email: email, FullName: "Full " + email, IAM: directory.BuiltinIAM, UserID: "id-" + email, CreatedAt: t0, UpdatedAt: t0}
}

// wantUser is what GetUser returns for u right after CreateUser.
func wantUser(u directory.User) directory.User {
	u.Email = directory.NormalizeUsername(u.Email)
	u.CreatedAt, u.UpdatedAt = stored(u.CreatedAt), stored(u.UpdatedAt)
	u.Permissions = []directory.Permission{}
	u.Groups = []string{}
	u.Attributes = directory.Attributes{}
	u.ExternalIDs = map[string]string{}
	return u
}

func newGroup(name string) directory.Group {
	return directory.Group{Name: name, Description: "the " + name, Email: name + "@lists.example.com", CreatedAt: t0, UpdatedAt: t0}
}

func wantGroup(g directory.Group) directory.Group {
	g.CreatedAt, g.UpdatedAt = stored(g.CreatedAt), stored(g.UpdatedAt)
	g.Members = []string{}
	g.Attributes = directory.Attributes{}
	return g
}

// update runs fn in an Update that must succeed.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// read returns what fn reads in a View that must succeed.
func read[T any](t *testing.T, s store.Store, fn func(r store.Reader) (T, error)) T {
	t.Helper()
	var out T
	err := s.View(t.Context(), func(r store.Reader) error {
		var err error
		out, err = fn(r)
		return err
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return out
}

// viewErr returns the error of fn run in a View.
func viewErr[T any](t *testing.T, s store.Store, fn func(r store.Reader) (T, error)) error {
	t.Helper()
	return s.View(t.Context(), func(r store.Reader) error {
		_, err := fn(r)
		return err
	})
}

func getUser(t *testing.T, s store.Store, name string) directory.User {
	t.Helper()
	return read(t, s, func(r store.Reader) (directory.User, error) { return r.GetUser(t.Context(), name) })
}

func getGroup(t *testing.T, s store.Store, name string) directory.Group {
	t.Helper()
	return read(t, s, func(r store.Reader) (directory.Group, error) { return r.GetGroup(t.Context(), name) })
}

func revision(t *testing.T, s store.Store) int64 {
	t.Helper()
	return read(t, s, func(r store.Reader) (int64, error) { return r.Revision(t.Context()) })
}

// leaks are fragments of database internals that must never reach a caller
// through a not-found or conflict message.
var leaks = []string{"sql", "SQL", "constraint", "UNIQUE", "INSERT", "SELECT", "DELETE FROM", "UPDATE ", "violat", "duplicate key"}

// wantErr checks that err is of kind (directory.ErrNotFound, ErrConflict),
// that its message contains msg, and that it tells nothing of the database.
func wantErr(t *testing.T, err, kind error, msg string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("error = %v, want %v", err, kind)
		return
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
	for _, l := range leaks {
		if strings.Contains(err.Error(), l) {
			t.Errorf("error %q leaks database detail %q", err, l)
		}
	}
}

// equalJSON compares got and want as the API would show them, which also
// checks that times are UTC ("Z") and empty details are [] and {}, not null.
func equalJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}
