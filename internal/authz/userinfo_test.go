package authz_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/policy"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/sqlite"
)

// The user-info sync as the decision side sees it: what a sync writes
// reaches data.gatehouse by the commit hook, never-synced Trino users are
// found without evaluating policies, and case-insensitive Trino names.

type mirrorEnv struct {
	st   store.Store
	eng  *policy.Engine
	dir  *authz.Directory
	svc  *admin.Service
	boot admin.Principal
	set  authz.Settings
	body atomic.Value // what the user-info endpoint answers
	url  string
}

func newMirrorEnv(t *testing.T, settings authz.Settings) *mirrorEnv {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &mirrorEnv{set: settings}
	e.body.Store(`{"groups": [], "authorizations": {}}`)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(e.body.Load().(string)))
	}))
	t.Cleanup(up.Close)
	e.url = up.URL
	var err error
	if e.st, err = sqlite.Open(ctx, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.st.Close() })
	if e.eng, err = policy.New(ctx, shippedPolicies(), policy.WithLogger(log)); err != nil {
		t.Fatal(err)
	}
	e.dir = authz.NewDirectory(e.st, e.eng, settings, log)
	e.svc = admin.New(e.st, admin.WithBootstrapToken("bootstrap-token-0123456789"), admin.WithLogger(log),
		admin.WithCommitHook(e.dir.Sync), admin.WithCaseInsensitiveTrinoNames(settings.CaseInsensitiveTrinoNames))
	if err := e.svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.dir.Load(ctx); err != nil {
		t.Fatal(err)
	}
	e.boot, _ = e.svc.Authenticate(ctx, "bootstrap-token-0123456789")
	return e
}

// check fails unless the mirror equals a full snapshot of the store.
func (e *mirrorEnv) check(t *testing.T, step string) ast.Object {
	t.Helper()
	mirror := readDirectory(t, e.eng)
	full, _, _, err := authz.Snapshot(context.Background(), e.st, e.set)
	if err != nil {
		t.Fatal(err)
	}
	if mirror.Compare(full) != 0 {
		t.Fatalf("%s: the mirror differs from the store:\nmirror %v\nstore  %v", step, mirror, full)
	}
	return full
}

func get(t *testing.T, obj ast.Object, path ...string) ast.Value {
	t.Helper()
	var v ast.Value = obj
	for _, k := range path {
		o, ok := v.(ast.Object)
		if !ok {
			return nil
		}
		term := o.Get(ast.StringTerm(k))
		if term == nil {
			return nil
		}
		v = term.Value
	}
	return v
}

func TestSyncedDetailsReachPolicyData(t *testing.T) {
	ctx := context.Background()
	e := newMirrorEnv(t, authz.Settings{})
	if _, err := e.svc.CreateIAM(ctx, e.boot, directory.IAM{ID: "corp", DisplayName: "Corp",
		UserInfo: &directory.UserInfoEndpoint{URI: e.url}, ProfileMapping: map[string]string{"trino": "login"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, e.boot, admin.CreateUserRequest{Email: "dana@example.com", FullName: "Dana", IAM: "corp"}); err != nil {
		t.Fatal(err)
	}
	if u, ok := e.dir.UnsyncedUser("dana@example.com"); !ok || u != "dana@example.com" {
		t.Errorf("UnsyncedUser(dana@example.com) = %q, %v; want the never-synced user", u, ok)
	}

	e.body.Store(`{"groups": [{"name": "Accountants"}], "authorizations": {"region": ["EMEA"], "login": ["dana"]}}`)
	if _, err := e.svc.SyncUser(ctx, e.boot, "dana@example.com"); err != nil {
		t.Fatal(err)
	}
	data := e.check(t, "after the first sync")
	if got := get(t, data, "users", "dana@example.com", "attributes", "region"); got == nil || got.String() != `["EMEA"]` {
		t.Errorf("region in policy data = %v", got)
	}
	if got := get(t, data, "groups", "Accountants", "members"); got == nil || got.String() != `["dana@example.com"]` {
		t.Errorf("Accountants members in policy data = %v", got)
	}
	if got := get(t, data, "trinoUsers", "dana"); got == nil || got.String() != `"dana@example.com"` {
		t.Errorf("trinoUsers.dana = %v", got)
	}
	// Synced, found by the Trino name the profile mapping gave.
	if u, ok := e.dir.UnsyncedUser("dana"); ok || u != "dana@example.com" {
		t.Errorf("UnsyncedUser(dana) after a sync = %q, %v", u, ok)
	}

	e.body.Store(`{"groups": [{"name": "Auditors"}], "authorizations": {"region": ["APAC"], "login": ["dana"]}}`)
	if _, err := e.svc.SyncUser(ctx, e.boot, "dana@example.com"); err != nil {
		t.Fatal(err)
	}
	data = e.check(t, "after the second sync")
	if got := get(t, data, "groups", "Accountants", "members"); got == nil || got.String() != `[]` {
		t.Errorf("Accountants members after dana left it upstream = %v", got)
	}
	if got := get(t, data, "users", "dana@example.com", "groups"); got == nil || got.String() != `["Auditors"]` {
		t.Errorf("dana's groups = %v", got)
	}
	// Migrating to an IAM without endpoint drops the owned details, mirrored.
	if _, err := e.svc.MigrateUser(ctx, e.boot, "dana@example.com", directory.BuiltinIAM, ""); err != nil {
		t.Fatal(err)
	}
	data = e.check(t, "after migrating to bim")
	if got := get(t, data, "groups", "Auditors", "members"); got == nil || got.String() != `[]` {
		t.Errorf("Auditors members after the migration = %v", got)
	}
}

func TestUnsyncedUser(t *testing.T) {
	ctx := context.Background()
	e := newMirrorEnv(t, authz.Settings{})
	mk := func(email, iam, trino string) {
		t.Helper()
		if _, err := e.svc.CreateUser(ctx, e.boot, admin.CreateUserRequest{Email: email, FullName: "U", IAM: iam}); err != nil {
			t.Fatal(err)
		}
		if trino != "" {
			if _, err := e.svc.SetExternalID(ctx, e.boot, email, "trino", trino); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := e.svc.CreateIAM(ctx, e.boot, directory.IAM{ID: "plain", DisplayName: "No endpoint"}); err != nil {
		t.Fatal(err)
	}
	mk("a@x.io", "plain", "alice")
	mk("b@x.io", directory.BuiltinIAM, "")
	if _, ok := e.dir.UnsyncedUser("alice"); ok {
		t.Error("a user of an IAM without endpoint is to be synced")
	}
	// Giving the IAM an endpoint makes its users due (the IAM write reaches
	// the index by the commit hook too).
	if _, err := e.svc.PutIAM(ctx, e.boot, directory.IAM{ID: "plain", DisplayName: "Now with one", UserInfo: &directory.UserInfoEndpoint{URI: e.url}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		trino, user string
		ok          bool
	}{
		{"alice", "a@x.io", true},
		{"ALICE", "alice", false},  // Trino names are case-sensitive by default
		{"A@X.IO", "a@x.io", true}, // the lower-cased name is a username
		{"b@x.io", "b@x.io", false},
		{"nobody", "nobody", false},
	} {
		if u, ok := e.dir.UnsyncedUser(tc.trino); u != tc.user || ok != tc.ok {
			t.Errorf("UnsyncedUser(%s) = %q, %v; want %q, %v", tc.trino, u, ok, tc.user, tc.ok)
		}
	}
	if _, err := e.svc.SetDisabled(ctx, e.boot, "a@x.io", true); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.dir.UnsyncedUser("alice"); ok {
		t.Error("a disabled user is to be synced")
	}
	// A full load agrees with the incremental index.
	if err := e.dir.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.dir.UnsyncedUser("alice"); ok {
		t.Error("after a reload, a disabled user is to be synced")
	}
}

func TestCaseInsensitiveTrinoNames(t *testing.T) {
	ctx := context.Background()
	e := newMirrorEnv(t, authz.Settings{CaseInsensitiveTrinoNames: true})
	if _, err := e.svc.CreateUser(ctx, e.boot, admin.CreateUserRequest{Email: "alice@example.com", FullName: "A"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetExternalID(ctx, e.boot, "alice@example.com", "trino", "Alice.Smith"); err != nil {
		t.Fatal(err)
	}
	data := e.check(t, "after setting the Trino name")
	if got := get(t, data, "trinoUsers", "alice.smith"); got == nil || got.String() != `"alice@example.com"` {
		t.Errorf("trinoUsers keyed %v", get(t, data, "trinoUsers"))
	}
	if got := get(t, data, "settings", "trinoNameMatching"); got == nil || got.String() != `"case-insensitive"` {
		t.Errorf("settings.trinoNameMatching = %v", got)
	}
	// The policies resolve every spelling to alice.
	for _, name := range []string{"Alice.Smith", "alice.smith", "ALICE.SMITH"} {
		input := ast.MustParseTerm(`{"context": {"identity": {"user": "` + name + `", "groups": []}, "softwareStack": {"trinoVersion": "476"}},
			"action": {"operation": "ExecuteQuery"}}`).Value
		v, ok, err := e.eng.Eval(ctx, "allow", input)
		if err != nil || !ok || v != true {
			t.Errorf("ExecuteQuery as %s: %v, %v, %v", name, v, ok, err)
		}
	}
}

// TestCaseInsensitiveCollisionsAreDeterministic: names written before
// case-insensitive matching was turned on may fold together; the mirror then
// maps the key to the smallest username, incrementally as in a full load.
func TestCaseInsensitiveCollisionsAreDeterministic(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Written while names were case-sensitive.
	sensitive := admin.New(st, admin.WithBootstrapToken("bootstrap-token-0123456789"))
	if err := sensitive.Init(ctx); err != nil {
		t.Fatal(err)
	}
	boot, _ := sensitive.Authenticate(ctx, "bootstrap-token-0123456789")
	for email, trino := range map[string]string{"b@x.io": "Pat", "a@x.io": "pat", "c@x.io": "PAT"} {
		if _, err := sensitive.CreateUser(ctx, boot, admin.CreateUserRequest{Email: email, FullName: "U"}); err != nil {
			t.Fatal(err)
		}
		if _, err := sensitive.SetExternalID(ctx, boot, email, "trino", trino); err != nil {
			t.Fatal(err)
		}
	}
	settings := authz.Settings{CaseInsensitiveTrinoNames: true}
	eng, err := policy.New(ctx, shippedPolicies(), policy.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	dir := authz.NewDirectory(st, eng, settings, log)
	if err := dir.Load(ctx); err != nil {
		t.Fatal(err)
	}
	svc := admin.New(st, admin.WithBootstrapToken("bootstrap-token-0123456789"), admin.WithCommitHook(dir.Sync),
		admin.WithCaseInsensitiveTrinoNames(true))
	want := func(step, owner string) {
		t.Helper()
		mirror := readDirectory(t, eng)
		full, _, _, err := authz.Snapshot(ctx, st, settings)
		if err != nil {
			t.Fatal(err)
		}
		if mirror.Compare(full) != 0 {
			t.Fatalf("%s: mirror %v\nstore %v", step, mirror, full)
		}
		got := get(t, full, "trinoUsers", "pat")
		if owner == "" && got != nil || owner != "" && (got == nil || got.String() != `"`+owner+`"`) {
			t.Errorf("%s: trinoUsers.pat = %v, want %q", step, got, owner)
		}
	}
	want("loaded", "a@x.io")
	if _, err := svc.DeleteExternalID(ctx, boot, "a@x.io", "trino"); err != nil {
		t.Fatal(err)
	}
	want("a's name removed", "b@x.io")
	if err := svc.DeleteUser(ctx, boot, "b@x.io", "DELETE"); err != nil {
		t.Fatal(err)
	}
	want("b deleted", "c@x.io")
	// New clashes are refused now.
	if _, err := svc.SetExternalID(ctx, boot, "a@x.io", "trino", "pAt"); err == nil {
		t.Error("a case-insensitive clash was accepted")
	}
	if _, err := svc.DeleteExternalID(ctx, boot, "c@x.io", "trino"); err != nil {
		t.Fatal(err)
	}
	want("all gone", "")
}

// TestRecordTriggersNeverSyncedUsers: the decision path hands never-synced
// Trino users to the trigger, and only those, without waiting on anything.
func TestRecordTriggersNeverSyncedUsers(t *testing.T) {
	ctx := context.Background()
	e := newMirrorEnv(t, authz.Settings{})
	if _, err := e.svc.CreateIAM(ctx, e.boot, directory.IAM{ID: "corp", DisplayName: "Corp", UserInfo: &directory.UserInfoEndpoint{URI: e.url}}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ email, iam, trino string }{
		{"new@x.io", "corp", "newbie"}, {"target@x.io", "corp", "target"}, {"local@x.io", "bim", "local"},
	} {
		if _, err := e.svc.CreateUser(ctx, e.boot, admin.CreateUserRequest{Email: u.email, FullName: "U", IAM: u.iam}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SetExternalID(ctx, e.boot, u.email, "trino", u.trino); err != nil {
			t.Fatal(err)
		}
	}
	a := authz.NewAuthorizer(e.eng, e.dir, nil, nil)
	var mu sync.Mutex
	var triggered []string
	a.SetSyncTrigger(func(username string) {
		mu.Lock()
		triggered = append(triggered, username)
		mu.Unlock()
	})
	a.Record(authz.Decision{Endpoint: "allow", Operation: "ExecuteQuery", User: "local", Result: authz.ResultAllow})
	a.Record(authz.Decision{Endpoint: "allow", Operation: "ExecuteQuery", User: "newbie", Result: authz.ResultAllow})
	a.Record(authz.Decision{Endpoint: "allow", Operation: "ImpersonateUser", User: "local", Target: "target", Result: authz.ResultDeny})
	a.Record(authz.Decision{Endpoint: "allow", Operation: "ExecuteQuery", User: "stranger", Result: authz.ResultDeny})
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(triggered) != "[new@x.io target@x.io]" {
		t.Errorf("triggered %v, want [new@x.io target@x.io]", triggered)
	}
}
