package authz_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"

	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/policy"
	"github.com/gatehouse-authz/gatehouse/internal/store/sqlite"
)

func shippedPolicies() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "policies")
}

// TestIncrementalMirrorMatchesFullSnapshot makes many random admin writes,
// each mirrored incrementally into data.gatehouse by the commit hook, and
// checks after each that the mirror equals a snapshot read whole.
func TestIncrementalMirrorMatchesFullSnapshot(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := policy.New(ctx, shippedPolicies(), policy.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	settings := authz.Settings{AllowedServiceUsers: []string{"svc"}, PolicyExemptUsers: []string{"trino"}}
	dir := authz.NewDirectory(st, eng, settings, log)
	svc := admin.New(st, admin.WithBootstrapToken("bootstrap-token-0123456789"), admin.WithCommitHook(dir.Sync))
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := dir.Load(ctx); err != nil {
		t.Fatal(err)
	}
	boot, _ := svc.Authenticate(ctx, "bootstrap-token-0123456789")

	rng := rand.New(rand.NewPCG(1, 2))
	user := func() string { return fmt.Sprintf("u%d@example.com", rng.IntN(8)) }
	group := func() string { return fmt.Sprintf("g%d", rng.IntN(4)) }
	ops := []func(){
		func() { _, _ = svc.CreateUser(ctx, boot, admin.CreateUserRequest{Email: user(), FullName: "U"}) },
		func() { _, _ = svc.SetDisabled(ctx, boot, user(), rng.IntN(2) == 0) },
		func() { _ = svc.DeleteUser(ctx, boot, user(), "DELETE") },
		func() { _, _ = svc.GrantPermission(ctx, boot, user(), "IMPERSONATE_USER") },
		func() { _, _ = svc.RevokePermission(ctx, boot, user(), "IMPERSONATE_USER") },
		func() {
			_, _ = svc.AddUserAttribute(ctx, boot, user(), "region", []string{"EMEA", "APAC"}[rng.IntN(2)])
		},
		func() { _, _ = svc.RemoveUserAttribute(ctx, boot, user(), "region", "") },
		func() { _, _ = svc.SetExternalID(ctx, boot, user(), "trino", fmt.Sprintf("t%d", rng.IntN(5))) },
		func() { _, _ = svc.DeleteExternalID(ctx, boot, user(), "trino") },
		func() { _, _ = svc.CreateGroup(ctx, boot, groupOf(group())) },
		func() { _ = svc.DeleteGroup(ctx, boot, group()) },
		func() { _, _ = svc.AddMember(ctx, boot, group(), user()) },
		func() { _, _ = svc.RemoveMember(ctx, boot, group(), user()) },
		func() { _, _ = svc.AddGroupAttribute(ctx, boot, group(), "cost", "1") },
	}
	for i := range 400 {
		ops[rng.IntN(len(ops))]()
		if err := dir.Ready(); err != nil {
			t.Fatalf("after write %d: %v", i, err)
		}
		mirror := readDirectory(t, eng)
		full, _, _, err := authz.Snapshot(ctx, st, settings)
		if err != nil {
			t.Fatal(err)
		}
		if mirror.Compare(full) != 0 {
			t.Fatalf("after write %d the mirror differs from the store:\nmirror %v\nstore  %v", i, mirror, full)
		}
	}
}

func readDirectory(t *testing.T, eng *policy.Engine) ast.Value {
	t.Helper()
	ctx := context.Background()
	var v ast.Value
	err := storage.Txn(ctx, eng.Store(), storage.TransactionParams{}, func(txn storage.Transaction) error {
		x, err := eng.Store().Read(ctx, txn, storage.Path{policy.DirectoryKey})
		if err != nil {
			return err
		}
		switch x := x.(type) {
		case ast.Value:
			v = x
		default:
			v, err = ast.InterfaceToValue(x)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func groupOf(name string) directory.Group { return directory.Group{Name: name} }

// A snapshot read ahead of Load is used only if nothing was written since;
// otherwise the store is read again.
func TestLoadSnapshotReadAhead(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := policy.New(ctx, shippedPolicies(), policy.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	settings := authz.Settings{}
	dir := authz.NewDirectory(st, eng, settings, log)
	svc := admin.New(st, admin.WithBootstrapToken("bootstrap-token-0123456789"))
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	boot, _ := svc.Authenticate(ctx, "bootstrap-token-0123456789")
	ahead, err := authz.ReadSnapshot(ctx, st, settings)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, boot, admin.CreateUserRequest{Email: "late@example.com", FullName: "Late"}); err != nil {
		t.Fatal(err)
	}
	if err := dir.LoadSnapshot(ctx, ahead); err != nil {
		t.Fatal(err)
	}
	users := readDirectory(t, eng).(ast.Object).Get(ast.StringTerm("users")).Value.(ast.Object)
	if users.Get(ast.StringTerm("late@example.com")) == nil {
		t.Errorf("a user written after the read-ahead is missing: %v", users)
	}
}
