package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The user-info sync's contract: IAM-owned memberships and attribute values
// next to manual ones, sync state, who is due, and case-folded external ids.

// ownedState is the SyncState a user has when an IAM owns details but the
// sync never recorded an attempt.
func ownedState(groups []string, attrs directory.Attributes) *directory.SyncState {
	return &directory.SyncState{Groups: groups, Attributes: attrs}
}

func testIAMMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		for _, u := range []string{"alice@x.io", "bob@x.io"} {
			if err := tx.CreateUser(ctx, newUser(u)); err != nil {
				return err
			}
		}
		for _, g := range []string{"manual", "synced", "both"} {
			if err := tx.CreateGroup(ctx, newGroup(g)); err != nil {
				return err
			}
		}
		if _, err := tx.AddMember(ctx, "manual", "alice@x.io"); err != nil {
			return err
		}
		_, err := tx.AddMember(ctx, "both", "alice@x.io")
		return err
	})
	add := func(group, user, iam string) bool {
		t.Helper()
		var added bool
		update(t, s, func(tx store.Tx) error {
			var err error
			added, err = tx.AddIAMMember(ctx, group, user, iam)
			return err
		})
		return added
	}
	if !add("synced", "ALICE@x.io", "corp") {
		t.Error("AddIAMMember of a new membership reported not added")
	}
	if add("synced", "alice@x.io", "corp") {
		t.Error("AddIAMMember twice reported added")
	}
	// A manual membership stays manual.
	if add("both", "alice@x.io", "corp") {
		t.Error("AddIAMMember over a manual membership reported added")
	}
	alice := getUser(t, s, "alice@x.io")
	equalJSON(t, "groups", alice.Groups, []string{"both", "manual", "synced"})
	equalJSON(t, "sync state", alice.Sync, ownedState([]string{"synced"}, directory.Attributes{}))
	equalJSON(t, "members of synced", getGroup(t, s, "synced").Members, []string{"alice@x.io"})
	equalJSON(t, "bob untouched", getUser(t, s, "bob@x.io"), wantUser(newUser("bob@x.io")))

	// Another IAM takes an owned membership over without adding it again.
	if add("synced", "alice@x.io", "other") {
		t.Error("AddIAMMember handing over to another IAM reported added")
	}
	equalJSON(t, "still owned", getUser(t, s, "alice@x.io").Sync.Groups, []string{"synced"})

	// RemoveIAMMember never removes a manual membership.
	err := s.Update(ctx, func(tx store.Tx) error { return tx.RemoveIAMMember(ctx, "both", "alice@x.io") })
	wantErr(t, err, directory.ErrNotFound, `user "alice@x.io" is not a member of group "both" through an identity provider`)
	update(t, s, func(tx store.Tx) error { return tx.RemoveIAMMember(ctx, "synced", "Alice@x.io") })
	alice = getUser(t, s, "alice@x.io")
	equalJSON(t, "groups after removal", alice.Groups, []string{"both", "manual"})
	if alice.Sync != nil {
		t.Errorf("sync state with nothing owned and no attempt = %+v, want nil", alice.Sync)
	}

	// A manual add of an owned membership makes it manual, and says so.
	add("synced", "alice@x.io", "corp")
	var added bool
	update(t, s, func(tx store.Tx) error {
		var err error
		added, err = tx.AddMember(ctx, "synced", "alice@x.io")
		return err
	})
	if !added {
		t.Error("AddMember over an owned membership reported not added")
	}
	update(t, s, func(tx store.Tx) error {
		var err error
		added, err = tx.AddMember(ctx, "synced", "alice@x.io")
		return err
	})
	if added {
		t.Error("AddMember of a manual membership reported added")
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.RemoveIAMMember(ctx, "synced", "alice@x.io") })
	wantErr(t, err, directory.ErrNotFound, "through an identity provider")
	// RemoveMember removes whatever kind.
	add("synced", "bob@x.io", "corp")
	update(t, s, func(tx store.Tx) error { return tx.RemoveMember(ctx, "synced", "bob@x.io") })
	equalJSON(t, "bob after RemoveMember", getUser(t, s, "bob@x.io"), wantUser(newUser("bob@x.io")))

	errs := []struct {
		name string
		fn   func(tx store.Tx) error
		msg  string
	}{
		{"add to missing group", func(tx store.Tx) error {
			_, err := tx.AddIAMMember(ctx, "nope", "alice@x.io", "corp")
			return err
		}, `group "nope" not found`},
		{"add missing user", func(tx store.Tx) error {
			_, err := tx.AddIAMMember(ctx, "synced", "nobody@x.io", "corp")
			return err
		}, `user "nobody@x.io" not found`},
		{"remove from missing group", func(tx store.Tx) error { return tx.RemoveIAMMember(ctx, "nope", "alice@x.io") }, `group "nope" not found`},
		{"remove missing user", func(tx store.Tx) error { return tx.RemoveIAMMember(ctx, "synced", "nobody@x.io") }, `user "nobody@x.io" not found`},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, s.Update(ctx, tc.fn), directory.ErrNotFound, tc.msg) })
	}

	// Deleting the group or the user takes owned memberships along.
	add("synced", "bob@x.io", "corp")
	update(t, s, func(tx store.Tx) error { return tx.DeleteGroup(ctx, "synced") })
	equalJSON(t, "bob after group delete", getUser(t, s, "bob@x.io"), wantUser(newUser("bob@x.io")))
}

func testIAMAttributes(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, newUser("alice@x.io")); err != nil {
			return err
		}
		_, err := tx.AddUserAttribute(ctx, "alice@x.io", "region", "EMEA")
		return err
	})
	add := func(name, value, iam string) bool {
		t.Helper()
		var added bool
		update(t, s, func(tx store.Tx) error {
			var err error
			added, err = tx.AddIAMUserAttribute(ctx, "Alice@x.io", name, value, iam)
			return err
		})
		return added
	}
	for _, step := range []struct {
		name, value, iam string
		want             bool
	}{
		{"region", "APAC", "corp", true},
		{"region", "APAC", "corp", false},
		{"region", "EMEA", "corp", false}, // manual stays manual
		{"team", "data", "corp", true},
		{"team", "data", "other", false}, // handed over
	} {
		if got := add(step.name, step.value, step.iam); got != step.want {
			t.Errorf("AddIAMUserAttribute(%s, %s, %s) = %v, want %v", step.name, step.value, step.iam, got, step.want)
		}
	}
	alice := getUser(t, s, "alice@x.io")
	equalJSON(t, "attributes", alice.Attributes, directory.Attributes{"region": {"APAC", "EMEA"}, "team": {"data"}})
	equalJSON(t, "sync state", alice.Sync, ownedState([]string{}, directory.Attributes{"region": {"APAC"}, "team": {"data"}}))

	err := s.Update(ctx, func(tx store.Tx) error { return tx.RemoveIAMUserAttribute(ctx, "alice@x.io", "region", "EMEA") })
	wantErr(t, err, directory.ErrNotFound, `user "alice@x.io" has no attribute "region" with value "EMEA" from an identity provider`)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.RemoveIAMUserAttribute(ctx, "nobody@x.io", "region", "EMEA") })
	wantErr(t, err, directory.ErrNotFound, `user "nobody@x.io" not found`)
	err = s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.AddIAMUserAttribute(ctx, "nobody@x.io", "region", "EMEA", "corp")
		return err
	})
	wantErr(t, err, directory.ErrNotFound, `user "nobody@x.io" not found`)

	update(t, s, func(tx store.Tx) error { return tx.RemoveIAMUserAttribute(ctx, "alice@x.io", "region", "APAC") })
	// A manual add of an owned value makes it manual.
	var added bool
	update(t, s, func(tx store.Tx) error {
		var err error
		added, err = tx.AddUserAttribute(ctx, "alice@x.io", "team", "data")
		return err
	})
	if !added {
		t.Error("AddUserAttribute over an owned value reported not added")
	}
	alice = getUser(t, s, "alice@x.io")
	equalJSON(t, "attributes after", alice.Attributes, directory.Attributes{"region": {"EMEA"}, "team": {"data"}})
	if alice.Sync != nil {
		t.Errorf("sync state = %+v, want nil", alice.Sync)
	}
	// RemoveUserAttribute removes owned values too.
	add("team", "ops", "corp")
	update(t, s, func(tx store.Tx) error { return tx.RemoveUserAttribute(ctx, "alice@x.io", "team", "") })
	alice = getUser(t, s, "alice@x.io")
	equalJSON(t, "attributes after RemoveUserAttribute", alice.Attributes, directory.Attributes{"region": {"EMEA"}})
	if alice.Sync != nil {
		t.Errorf("sync state = %+v, want nil", alice.Sync)
	}
}

func testSyncState(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, newUser("alice@x.io")); err != nil {
			return err
		}
		return tx.CreateUser(ctx, newUser("bob@x.io"))
	})
	if u := getUser(t, s, "alice@x.io"); u.Sync != nil {
		t.Fatalf("new user has sync state %+v", u.Sync)
	}
	rev := revision(t, s)
	failed := directory.SyncState{IAM: "corp", LastSyncAt: ptr(t0), LastError: "status 500"}
	update(t, s, func(tx store.Tx) error { return tx.SetSyncState(ctx, "ALICE@x.io", failed) })
	if got := revision(t, s); got != rev {
		t.Errorf("SetSyncState moved the revision from %d to %d", rev, got)
	}
	want := &directory.SyncState{IAM: "corp", LastSyncAt: ptr(stored(t0)), LastError: "status 500",
		Groups: []string{}, Attributes: directory.Attributes{}}
	equalJSON(t, "failed sync state", getUser(t, s, "alice@x.io").Sync, want)

	ok := directory.SyncState{IAM: "corp2", LastSyncAt: ptr(t1), LastSuccessAt: ptr(t1),
		Groups: []string{"ignored"}, Attributes: directory.Attributes{"ignored": {"x"}}}
	update(t, s, func(tx store.Tx) error { return tx.SetSyncState(ctx, "alice@x.io", ok) })
	want = &directory.SyncState{IAM: "corp2", LastSyncAt: ptr(stored(t1)), LastSuccessAt: ptr(stored(t1)),
		Groups: []string{}, Attributes: directory.Attributes{}}
	equalJSON(t, "replaced sync state", getUser(t, s, "alice@x.io").Sync, want)
	// Listing carries it too, and only for its user.
	users := read(t, s, func(r store.Reader) ([]directory.User, error) { return r.ListUsers(ctx, store.UserFilter{}) })
	if len(users) != 2 || users[0].Sync == nil || users[1].Sync != nil {
		t.Errorf("listed users' sync states: %+v", users)
	}

	err := s.Update(ctx, func(tx store.Tx) error { return tx.SetSyncState(ctx, "nobody@x.io", ok) })
	wantErr(t, err, directory.ErrNotFound, `user "nobody@x.io" not found`)

	// A rolled-back Update takes its sync state along.
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.SetSyncState(ctx, "bob@x.io", failed); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v", err)
	}
	if u := getUser(t, s, "bob@x.io"); u.Sync != nil {
		t.Errorf("rolled-back sync state stayed: %+v", u.Sync)
	}
	// Deleting the user takes it along; a new user of that name starts afresh.
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteUser(ctx, "alice@x.io"); err != nil {
			return err
		}
		return tx.CreateUser(ctx, newUser("alice@x.io"))
	})
	equalJSON(t, "re-created alice", getUser(t, s, "alice@x.io"), wantUser(newUser("alice@x.io")))
}

func testUsersToSync(t *testing.T, s store.Store) {
	ctx := t.Context()
	corp := func(email string, disabled bool) directory.User {
		u := newUser(email)
		u.IAM, u.Disabled = "corp", disabled
		return u
	}
	update(t, s, func(tx store.Tx) error {
		for _, u := range []directory.User{
			corp("d@x.io", false), corp("c@x.io", false), corp("b@x.io", false), corp("a@x.io", false),
			corp("off@x.io", true), newUser("bim@x.io"),
		} {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		for name, at := range map[string]time.Time{"a@x.io": t1, "b@x.io": t0, "off@x.io": t0, "bim@x.io": t0} {
			if err := tx.SetSyncState(ctx, name, directory.SyncState{IAM: "corp", LastSyncAt: ptr(at)}); err != nil {
				return err
			}
		}
		return nil
	})
	list := func(iam string, before time.Time, limit int) []store.SyncCandidate {
		t.Helper()
		return read(t, s, func(r store.Reader) ([]store.SyncCandidate, error) { return r.UsersToSync(ctx, iam, before, limit) })
	}
	// Never tried first (by name), then oldest attempt; disabled users and
	// other IAMs' users are not due.
	equalJSON(t, "all due", list("corp", t1.Add(time.Second), 0), []store.SyncCandidate{
		{Username: "c@x.io"}, {Username: "d@x.io"},
		{Username: "b@x.io", LastSyncAt: stored(t0)}, {Username: "a@x.io", LastSyncAt: stored(t1)},
	})
	equalJSON(t, "attempted before t1", list("corp", t1, 0), []store.SyncCandidate{
		{Username: "c@x.io"}, {Username: "d@x.io"}, {Username: "b@x.io", LastSyncAt: stored(t0)},
	})
	equalJSON(t, "limit", list("corp", t1, 1), []store.SyncCandidate{{Username: "c@x.io"}})
	equalJSON(t, "no such iam", list("nope", t1, 0), []store.SyncCandidate{})
	equalJSON(t, "bim", list(directory.BuiltinIAM, t0, 0), []store.SyncCandidate{})
}

func testExternalIDFold(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		for name, trino := range map[string]string{"a@x.io": "Alice", "b@x.io": "ÉMILE", "c@x.io": "alice2"} {
			if err := tx.CreateUser(ctx, newUser(name)); err != nil {
				return err
			}
			if err := tx.SetExternalID(ctx, name, directory.PlatformTrino, trino); err != nil {
				return err
			}
		}
		// Case-sensitively distinct names may both be stored.
		if err := tx.CreateUser(ctx, newUser("d@x.io")); err != nil {
			return err
		}
		if err := tx.SetExternalID(ctx, "d@x.io", directory.PlatformTrino, "ALICE"); err != nil {
			return err
		}
		return tx.SetExternalID(ctx, "c@x.io", "other", "alice")
	})
	fold := func(platform, name string) []string {
		t.Helper()
		return read(t, s, func(r store.Reader) ([]string, error) { return r.UsernamesByExternalIDFold(ctx, platform, name) })
	}
	equalJSON(t, "alice", fold(directory.PlatformTrino, "aLiCe"), []string{"a@x.io", "d@x.io"})
	equalJSON(t, "émile", fold(directory.PlatformTrino, "émile"), []string{"b@x.io"})
	equalJSON(t, "other platform", fold("other", "ALICE"), []string{"c@x.io"})
	equalJSON(t, "nobody", fold(directory.PlatformTrino, "bob"), []string{})
}

func ptr[T any](v T) *T { return &v }
