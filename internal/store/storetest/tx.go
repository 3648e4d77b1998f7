package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

var errBoom = errors.New("boom")

func testRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	keep := newUser("keep@x.io")
	update(t, s, func(tx store.Tx) error { return tx.CreateUser(ctx, keep) })
	rev := revision(t, s)

	// Every kind of write, all undone when fn fails; inside the transaction
	// they are visible.
	err := s.Update(ctx, func(tx store.Tx) error {
		steps := []func() error{
			func() error { return tx.CreateUser(ctx, newUser("alice@x.io")) },
			func() error { _, err := tx.GrantPermission(ctx, "alice@x.io", directory.PermAudit); return err },
			func() error { _, err := tx.AddUserAttribute(ctx, "alice@x.io", "region", "EMEA"); return err },
			func() error { return tx.SetExternalID(ctx, "alice@x.io", directory.PlatformTrino, "alice") },
			func() error { return tx.CreateGroup(ctx, newGroup("g")) },
			func() error { _, err := tx.AddMember(ctx, "g", "keep@x.io"); return err },
			func() error { _, err := tx.AddGroupAttribute(ctx, "g", "region", "EMEA"); return err },
			func() error {
				return tx.PutIAM(ctx, directory.IAM{ID: "corp", DisplayName: "Corp", CreatedAt: t0, UpdatedAt: t0})
			},
			func() error {
				return tx.CreateToken(ctx, directory.Token{ID: "t", Username: "alice@x.io", Hash: "h", CreatedAt: t0})
			},
			func() error {
				_, err := tx.AppendAudit(ctx, audit.Record{Time: t0, Type: audit.UserCreate})
				return err
			},
			func() error { u := keep; u.Disabled = true; return tx.UpdateUser(ctx, u) },
			func() error { _, err := tx.AddIAMMember(ctx, "g", "alice@x.io", "corp"); return err },
			func() error { _, err := tx.AddIAMUserAttribute(ctx, "keep@x.io", "team", "data", "corp"); return err },
			func() error {
				return tx.SetSyncState(ctx, "keep@x.io", directory.SyncState{IAM: "corp", LastSyncAt: &t0})
			},
		}
		for i, step := range steps {
			if err := step(); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		u, err := tx.GetUser(ctx, "alice@x.io")
		if err != nil || len(u.Permissions) != 1 || len(u.ExternalIDs) != 1 {
			return fmt.Errorf("own writes not visible in the transaction: %+v, %v", u, err)
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want the error fn returned", err)
	}
	checkUntouched := func() {
		t.Helper()
		all := read(t, s, func(r store.Reader) ([]directory.User, error) {
			return r.ListUsers(ctx, store.UserFilter{IncludeDisabled: true})
		})
		equalJSON(t, "users after rollback", all, []directory.User{wantUser(keep)})
		equalJSON(t, "groups after rollback", read(t, s, func(r store.Reader) ([]directory.Group, error) { return r.ListGroups(ctx) }), []directory.Group{})
		equalJSON(t, "iams after rollback", read(t, s, func(r store.Reader) ([]directory.IAM, error) { return r.ListIAMs(ctx) }), []directory.IAM{})
		equalJSON(t, "audit after rollback", listAudit(t, s, audit.Query{}), []audit.Record{})
		err := viewErr(t, s, func(r store.Reader) (directory.User, error) {
			return r.UserByExternalID(ctx, directory.PlatformTrino, "alice")
		})
		wantErr(t, err, directory.ErrNotFound, "no user")
		err = viewErr(t, s, func(r store.Reader) (directory.Token, error) { return r.TokenByHash(ctx, "h") })
		wantErr(t, err, directory.ErrNotFound, "token not found")
		if got := revision(t, s); got != rev {
			t.Errorf("revision after rollback = %d, want %d", got, rev)
		}
	}
	checkUntouched()

	// A store error returned by fn undoes the writes before it.
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, newUser("bob@x.io")); err != nil {
			return err
		}
		return tx.CreateUser(ctx, keep)
	})
	wantErr(t, err, directory.ErrConflict, "already exists")
	checkUntouched()

	if err := s.View(ctx, func(store.Reader) error { return errBoom }); !errors.Is(err, errBoom) {
		t.Errorf("View = %v, want the error fn returned", err)
	}
}

func testRevision(t *testing.T, s store.Store) {
	ctx := t.Context()
	if rev := revision(t, s); rev != 0 {
		t.Errorf("revision of a new store = %d, want 0", rev)
	}
	steps := []struct {
		name string
		fn   func(tx store.Tx) error
		bump bool
	}{
		{"one write", func(tx store.Tx) error { return tx.CreateUser(ctx, newUser("a@x.io")) }, true},
		{"several writes", func(tx store.Tx) error {
			if err := tx.CreateUser(ctx, newUser("b@x.io")); err != nil {
				return err
			}
			if err := tx.CreateGroup(ctx, newGroup("g")); err != nil {
				return err
			}
			_, err := tx.AddMember(ctx, "g", "b@x.io")
			return err
		}, true},
		{"reads only", func(tx store.Tx) error {
			_, err := tx.ListUsers(ctx, store.UserFilter{})
			return err
		}, false},
		{"nothing", func(store.Tx) error { return nil }, false},
		{"audit only", func(tx store.Tx) error {
			_, err := tx.AppendAudit(ctx, audit.Record{Time: t0, Type: audit.UserCreate})
			return err
		}, false},
		{"failed", func(tx store.Tx) error {
			if err := tx.CreateUser(ctx, newUser("c@x.io")); err != nil {
				return err
			}
			return errBoom
		}, false},
		{"iam-owned writes", func(tx store.Tx) error {
			if _, err := tx.AddIAMMember(ctx, "g", "b@x.io", "corp"); err != nil {
				return err
			}
			_, err := tx.AddIAMUserAttribute(ctx, "b@x.io", "team", "data", "corp")
			return err
		}, true},
		// Policies do not read the sync state: recording an attempt that
		// changed nothing must not make decision caches refresh.
		{"sync state only", func(tx store.Tx) error {
			return tx.SetSyncState(ctx, "b@x.io", directory.SyncState{IAM: "corp", LastSyncAt: &t0, LastError: "timeout"})
		}, false},
		{"delete", func(tx store.Tx) error { return tx.DeleteUser(ctx, "a@x.io") }, true},
	}
	for _, step := range steps {
		before := revision(t, s)
		if err := s.Update(ctx, step.fn); err != nil && !errors.Is(err, errBoom) {
			t.Fatalf("%s: %v", step.name, err)
		}
		want := before
		if step.bump {
			want++
		}
		if got := revision(t, s); got != want {
			t.Errorf("%s: revision %d → %d, want %d", step.name, before, got, want)
		}
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, updates, readers = 20, 25, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := range writers {
		wg.Go(func() {
			for i := range updates {
				name := fmt.Sprintf("w%02d-%02d@x.io", w, i)
				err := s.Update(ctx, func(tx store.Tx) error {
					if err := tx.CreateUser(ctx, newUser(name)); err != nil {
						return err
					}
					if _, err := tx.GrantPermission(ctx, name, directory.PermAudit); err != nil {
						return err
					}
					_, err := tx.AppendAudit(ctx, audit.Record{Time: t0, Type: audit.UserCreate, Actor: "w", Target: "user:" + name})
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d, update %d: %w", w, i, err)
					return
				}
			}
		})
	}
	// Readers meanwhile see whole Updates only: as many audit records as users.
	for range readers {
		wg.Go(func() {
			for range 10 {
				err := s.View(ctx, func(r store.Reader) error {
					users, err := r.ListUsers(ctx, store.UserFilter{})
					if err != nil {
						return err
					}
					recs, err := r.ListAudit(ctx, audit.Query{Limit: 1000})
					if err != nil {
						return err
					}
					if len(users) != len(recs) {
						return fmt.Errorf("snapshot has %d users but %d audit records", len(users), len(recs))
					}
					return nil
				})
				if err != nil {
					errs <- fmt.Errorf("reader: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	users := read(t, s, func(r store.Reader) ([]directory.User, error) { return r.ListUsers(ctx, store.UserFilter{}) })
	if len(users) != writers*updates {
		t.Errorf("%d users, want %d", len(users), writers*updates)
	}
	for _, u := range users {
		if !u.HasPermission(directory.PermAudit) {
			t.Errorf("user %s lacks the permission granted with it", u.Email)
		}
	}
	if recs := listAudit(t, s, audit.Query{Limit: 1000}); len(recs) != writers*updates {
		t.Errorf("%d audit records, want %d", len(recs), writers*updates)
	}
	if rev := revision(t, s); rev != writers*updates {
		t.Errorf("revision %d, want %d", rev, writers*updates)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// snapshot is everything testReopen expects to survive a restart.
type snapshot struct {
	Users    []directory.User
	Groups   []directory.Group
	IAMs     []directory.IAM
	Token    directory.Token
	Audit    []audit.Record
	Revision int64
}

func takeSnapshot(t *testing.T, s store.Store) snapshot {
	t.Helper()
	ctx := t.Context()
	return read(t, s, func(r store.Reader) (snapshot, error) {
		var snap snapshot
		var err error
		if snap.Users, err = r.ListUsers(ctx, store.UserFilter{IncludeDisabled: true}); err != nil {
			return snap, err
		}
		if snap.Groups, err = r.ListGroups(ctx); err != nil {
			return snap, err
		}
		if snap.IAMs, err = r.ListIAMs(ctx); err != nil {
			return snap, err
		}
		if snap.Token, err = r.TokenByHash(ctx, "h"); err != nil {
			return snap, err
		}
		if snap.Audit, err = r.ListAudit(ctx, audit.Query{}); err != nil {
			return snap, err
		}
		snap.Revision, err = r.Revision(ctx)
		return snap, err
	})
}

func testReopen(t *testing.T, open func(t *testing.T, dir string) store.Store) {
	dir := t.TempDir()
	s := open(t, dir)
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		steps := []func() error{
			func() error {
				return tx.PutIAM(ctx, directory.IAM{ID: "corp", DisplayName: "Corp", CreatedAt: t0, UpdatedAt: t0})
			},
			func() error { return tx.CreateUser(ctx, newUser("alice@x.io")) },
			func() error { _, err := tx.GrantPermission(ctx, "alice@x.io", directory.PermGovernance); return err },
			func() error { _, err := tx.AddUserAttribute(ctx, "alice@x.io", "region", "EMEA"); return err },
			func() error { return tx.SetExternalID(ctx, "alice@x.io", directory.PlatformTrino, "alice") },
			func() error { return tx.CreateGroup(ctx, newGroup("g")) },
			func() error { _, err := tx.AddMember(ctx, "g", "alice@x.io"); return err },
			func() error { _, err := tx.AddGroupAttribute(ctx, "g", "tier", "gold"); return err },
			func() error { return tx.CreateGroup(ctx, newGroup("synced")) },
			func() error { _, err := tx.AddIAMMember(ctx, "synced", "alice@x.io", "corp"); return err },
			func() error { _, err := tx.AddIAMUserAttribute(ctx, "alice@x.io", "team", "data", "corp"); return err },
			func() error {
				return tx.SetSyncState(ctx, "alice@x.io", directory.SyncState{IAM: "corp", LastSyncAt: &t1, LastSuccessAt: &t0, LastError: "x"})
			},
			func() error {
				return tx.CreateToken(ctx, directory.Token{ID: "t", Username: "alice@x.io", Hash: "h", CreatedAt: t0, ExpiresAt: &t1})
			},
			func() error {
				_, err := tx.AppendAudit(ctx, audit.Record{Time: t0, Type: audit.UserCreate, Actor: "root"})
				return err
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	before := takeSnapshot(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, dir)
	equalJSON(t, "data after reopening", takeSnapshot(t, s), before)
	update(t, s, func(tx store.Tx) error { return tx.CreateUser(ctx, newUser("bob@x.io")) })
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openClosed(t, open, dir)
	after := takeSnapshot(t, s)
	if len(after.Users) != 2 || after.Revision != before.Revision+1 {
		t.Errorf("after a write and a second reopening: %d users, revision %d; want 2, %d",
			len(after.Users), after.Revision, before.Revision+1)
	}
}
