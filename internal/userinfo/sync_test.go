package userinfo_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-authz/gatehouse/internal/userinfo"
)

// Syncs end to end below the transports: admin.Service with a real SQLite
// store asks a real endpoint on loopback, as the REST and gRPC calls, the
// periodic sync and the decision-path trigger all do.

const bootToken = "bootstrap-token-0123456789"

type syncEnv struct {
	svc     *admin.Service
	st      store.Store
	boot    admin.Principal
	reg     *prometheus.Registry
	ep      *endpoint
	commits chan []audit.Record

	mu     sync.Mutex
	status int
	body   string
}

// newSyncEnv starts an endpoint answering what set says (to ?userid=d-1
// only, with Basic auth svc/s3cret), a service over a fresh store, an IAM
// "corp" pointing at the endpoint, and user dana@example.com (id d-1) in it.
func newSyncEnv(t *testing.T) *syncEnv {
	t.Helper()
	ctx := t.Context()
	e := &syncEnv{reg: prometheus.NewRegistry(), commits: make(chan []audit.Record, 100)}
	e.ep = serve(t, nil, func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "svc" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("userid") != "d-1" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		e.mu.Lock()
		status, body := e.status, e.body
		e.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		_, _ = w.Write([]byte(body))
	})
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.st = st
	client := userinfo.NewClient(userinfo.WithRetries(1, time.Millisecond), userinfo.WithMetrics(userinfo.NewMetrics(e.reg)))
	e.svc = admin.New(st, admin.WithBootstrapToken(bootToken), admin.WithUserInfoClient(client),
		admin.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		admin.WithCommitHook(func(_ context.Context, recs []audit.Record) { e.commits <- recs }))
	if err := e.svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	e.boot, _ = e.svc.Authenticate(ctx, bootToken)
	e.answer(`{"groups": [], "authorizations": {}}`)
	if _, err := e.svc.CreateIAM(ctx, e.boot, directory.IAM{ID: "corp", DisplayName: "Corp",
		UserInfo:       &directory.UserInfoEndpoint{URI: e.ep.URL + "/userinfo", Username: "svc", Password: "s3cret"},
		ProfileMapping: map[string]string{directory.PlatformTrino: "login"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, e.boot, admin.CreateUserRequest{Email: "dana@example.com", FullName: "Dana", IAM: "corp", UserID: "d-1"}); err != nil {
		t.Fatal(err)
	}
	e.drain()
	return e
}

func (e *syncEnv) answer(body string) {
	e.mu.Lock()
	e.status, e.body = 0, body
	e.mu.Unlock()
}

func (e *syncEnv) fail(status int) {
	e.mu.Lock()
	e.status = status
	e.mu.Unlock()
}

// drain empties and returns what the commit hooks were given.
func (e *syncEnv) drain() []audit.Record {
	var out []audit.Record
	for {
		select {
		case recs := <-e.commits:
			out = append(out, recs...)
		default:
			return out
		}
	}
}

func (e *syncEnv) user(t *testing.T) directory.User {
	t.Helper()
	u, err := e.svc.GetUser(t.Context(), e.boot, "dana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *syncEnv) sync(t *testing.T) (directory.User, error) {
	t.Helper()
	return e.svc.SyncUser(t.Context(), e.boot, "dana@example.com")
}

func jsonEq(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func TestSyncAddsAndRemovesGroupsAndAttributes(t *testing.T) {
	e := newSyncEnv(t)
	ctx := t.Context()
	// What an admin set by hand, some of which the endpoint also names.
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.svc.CreateGroup(ctx, e.boot, directory.Group{Name: "Controllers"}))
	must(e.svc.AddMember(ctx, e.boot, "Controllers", "dana@example.com"))
	must(e.svc.AddUserAttribute(ctx, e.boot, "dana@example.com", "EMEA", "Sales"))
	must(e.svc.AddUserAttribute(ctx, e.boot, "dana@example.com", "team", "blue"))
	e.drain()

	steps := []struct {
		name   string
		answer string
		groups []string
		attrs  directory.Attributes
		owned  *directory.SyncState // Groups and Attributes only
		audit  string               // the user.sync record's changes, "" for none
	}{
		{
			name:   "first sync adds",
			answer: answer, // Accountants, Controllers; EMEA Sales+Expenses, APAC Sales
			groups: []string{"Accountants", "Controllers"},
			attrs:  directory.Attributes{"APAC": {"Sales"}, "EMEA": {"Expenses", "Sales"}, "team": {"blue"}},
			owned:  &directory.SyncState{Groups: []string{"Accountants"}, Attributes: directory.Attributes{"APAC": {"Sales"}, "EMEA": {"Expenses"}}},
			audit: `{"iam":"corp","groupsAdded":["Accountants"],"attributesAdded":{"APAC":["Sales"],"EMEA":["Expenses"]},` +
				`"groupsCreated":["Accountants"],"groups":["Accountants"]}`,
		},
		{
			name:   "the same answer changes nothing",
			answer: answer,
			groups: []string{"Accountants", "Controllers"},
			attrs:  directory.Attributes{"APAC": {"Sales"}, "EMEA": {"Expenses", "Sales"}, "team": {"blue"}},
			owned:  &directory.SyncState{Groups: []string{"Accountants"}, Attributes: directory.Attributes{"APAC": {"Sales"}, "EMEA": {"Expenses"}}},
		},
		{
			name:   "what disappears upstream goes, manual ones stay",
			answer: `{"groups": [{"name": "Auditors"}], "authorizations": {"APAC": ["Sales", "Travel"], "login": ["dana"]}}`,
			groups: []string{"Auditors", "Controllers"},
			attrs:  directory.Attributes{"APAC": {"Sales", "Travel"}, "EMEA": {"Sales"}, "login": {"dana"}, "team": {"blue"}},
			owned:  &directory.SyncState{Groups: []string{"Auditors"}, Attributes: directory.Attributes{"APAC": {"Sales", "Travel"}, "login": {"dana"}}},
			audit: `{"iam":"corp","groupsAdded":["Auditors"],"groupsRemoved":["Accountants"],"attributesAdded":{"APAC":["Travel"],"login":["dana"]},` +
				`"attributesRemoved":{"EMEA":["Expenses"]},"externalIds":{"trino":"dana"},"groupsCreated":["Auditors"],"groups":["Accountants","Auditors"]}`,
		},
		{
			name:   "an empty answer removes everything owned",
			answer: `{"groups": [], "authorizations": {}}`,
			groups: []string{"Controllers"},
			attrs:  directory.Attributes{"EMEA": {"Sales"}, "team": {"blue"}},
			owned:  &directory.SyncState{Groups: []string{}, Attributes: directory.Attributes{}},
			audit: `{"iam":"corp","groupsRemoved":["Auditors"],"attributesRemoved":{"APAC":["Sales","Travel"],"login":["dana"]},` +
				`"groups":["Auditors"]}`,
		},
	}
	for _, step := range steps {
		e.answer(step.answer)
		u, err := e.sync(t)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		jsonEq(t, step.name+": groups", u.Groups, step.groups)
		jsonEq(t, step.name+": attributes", u.Attributes, step.attrs)
		jsonEq(t, step.name+": owned groups", u.Sync.Groups, step.owned.Groups)
		jsonEq(t, step.name+": owned attributes", u.Sync.Attributes, step.owned.Attributes)
		if u.Sync.LastError != "" || u.Sync.LastSuccessAt == nil || u.Sync.IAM != "corp" {
			t.Errorf("%s: sync state %+v", step.name, u.Sync)
		}
		jsonEq(t, step.name+": user as read back", e.user(t), u)
		var syncs []string
		for _, r := range e.drain() {
			if r.Type == audit.UserSync {
				syncs = append(syncs, string(r.Changes))
			}
		}
		switch {
		case step.audit == "" && len(syncs) != 0:
			t.Errorf("%s: a sync that changed nothing was audited: %s", step.name, syncs)
		case step.audit != "" && (len(syncs) != 1 || syncs[0] != step.audit):
			t.Errorf("%s: audited\n %s\nwant\n %s", step.name, syncs, step.audit)
		}
	}
	if e.user(t).ExternalIDs[directory.PlatformTrino] != "dana" {
		t.Errorf("the profile mapping's Trino name went with the authorization: %v", e.user(t).ExternalIDs)
	}
	if got := counter(t, e.reg, "gatehouse_userinfo_syncs_total", map[string]string{"iam": "corp", "result": "success"}); got != 4 {
		t.Errorf("successful syncs counted %v, want 4", got)
	}
	if got := counter(t, e.reg, "gatehouse_userinfo_changes_total", map[string]string{"kind": "group", "op": "remove"}); got != 2 {
		t.Errorf("groups removed counted %v, want 2", got)
	}
}

func TestFailedSyncChangesNothing(t *testing.T) {
	e := newSyncEnv(t)
	e.answer(answer)
	before, err := e.sync(t)
	if err != nil {
		t.Fatal(err)
	}
	e.drain()
	failures := []struct {
		name string
		set  func()
		msg  string
	}{
		{"non-200", func() { e.fail(http.StatusInternalServerError) }, "HTTP 500 Internal Server Error (after 2 attempts)"},
		{"malformed JSON", func() { e.answer(`{"groups": [{"name": "Accountants"}`) }, "malformed answer: not JSON"},
		{"wrong shape", func() { e.answer(`{"groups": {"name": "Accountants"}}`) }, `malformed answer: "groups" is an object, not an array`},
	}
	for _, f := range failures {
		f.set()
		u, err := e.sync(t)
		if !errors.Is(err, directory.ErrUnavailable) || !strings.Contains(err.Error(), f.msg) {
			t.Errorf("%s: error %v, want ErrUnavailable saying %q", f.name, err, f.msg)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error shows the password: %v", f.name, err)
		}
		jsonEq(t, f.name+": groups", u.Groups, before.Groups)
		jsonEq(t, f.name+": attributes", u.Attributes, before.Attributes)
		if !strings.Contains(u.Sync.LastError, f.msg) || u.Sync.LastSuccessAt == nil ||
			!u.Sync.LastSuccessAt.Equal(*before.Sync.LastSuccessAt) || !u.Sync.LastSyncAt.After(*before.Sync.LastSyncAt) {
			t.Errorf("%s: sync state %+v", f.name, u.Sync)
		}
		if recs := e.drain(); len(recs) != 0 {
			t.Errorf("%s: a failed sync reached the commit hooks: %v", f.name, recs)
		}
	}
	if got := counter(t, e.reg, "gatehouse_userinfo_syncs_total", map[string]string{"result": "error"}); got != 3 {
		t.Errorf("failed syncs counted %v, want 3", got)
	}
	// The next good answer clears the error.
	e.answer(answer)
	if u, err := e.sync(t); err != nil || u.Sync.LastError != "" {
		t.Errorf("recovery: %v, %+v", err, u.Sync)
	}
}

func TestSyncSkipsWhatTheDirectoryCannotHold(t *testing.T) {
	e := newSyncEnv(t)
	e.answer(`{"groups": [{"name": "ok"}, {"name": "has space"}, {"name": ""}],
		"authorizations": {"ok": ["1", ""], "bad name": ["x"], "login": ["dana", "danielle"]}}`)
	u, err := e.sync(t)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, "groups", u.Groups, []string{"ok"})
	jsonEq(t, "attributes", u.Attributes, directory.Attributes{"login": {"dana", "danielle"}, "ok": {"1"}})
	jsonEq(t, "external ids", u.ExternalIDs, map[string]string{"trino": "dana"})
	for _, want := range []string{`group "has space" skipped`, `group "" skipped`, `authorization "ok" value "" skipped`,
		`authorization "bad name" value "x" skipped`, `profile mapping trino: authorization "login" has 2 values; used "dana"`} {
		if !strings.Contains(u.Sync.LastError, want) {
			t.Errorf("last error %q does not say %q", u.Sync.LastError, want)
		}
	}
	if got := counter(t, e.reg, "gatehouse_userinfo_syncs_total", map[string]string{"result": "partial"}); got != 1 {
		t.Errorf("partial syncs counted %v, want 1", got)
	}
}

func TestSystemSync(t *testing.T) {
	e := newSyncEnv(t)
	ctx := t.Context()
	e.answer(answer)
	// Only if never synced: the first call syncs, the second does not ask.
	if err := e.svc.SystemSync(ctx, "dana@example.com", true); err != nil {
		t.Fatal(err)
	}
	asked := e.ep.requests.Load()
	if err := e.svc.SystemSync(ctx, "dana@example.com", true); err != nil || e.ep.requests.Load() != asked {
		t.Errorf("a second never-synced sync asked the endpoint (%v)", err)
	}
	recs := e.drain()
	if len(recs) == 0 || recs[len(recs)-1].Actor != admin.SyncActor {
		t.Errorf("background sync audited as %v", recs)
	}
	// Users without an endpoint, and users gone, are nothing to do.
	if _, err := e.svc.CreateUser(ctx, e.boot, admin.CreateUserRequest{Email: "bim@example.com", FullName: "B"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"bim@example.com", "gone@example.com"} {
		if err := e.svc.SystemSync(ctx, u, false); err != nil {
			t.Errorf("SystemSync(%s) = %v", u, err)
		}
	}
}

func TestSyncStopsWithTheCaller(t *testing.T) {
	e := newSyncEnv(t)
	release := make(chan struct{})
	slow := serve(t, nil, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx := t.Context()
	if _, err := e.svc.PutIAM(ctx, e.boot, directory.IAM{ID: "corp", DisplayName: "Corp",
		UserInfo: &directory.UserInfoEndpoint{URI: slow.URL}}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := e.svc.SyncUser(cctx, e.boot, "dana@example.com")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the caller's deadline", err)
	}
	// A sync the caller abandoned says nothing about the endpoint.
	if u := e.user(t); u.Sync != nil {
		t.Errorf("abandoned sync recorded %+v", u.Sync)
	}
}

func TestCaseInsensitiveTrinoNamesClash(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, fold := range []bool{false, true} {
		svc := admin.New(st, admin.WithBootstrapToken(bootToken), admin.WithCaseInsensitiveTrinoNames(fold))
		if err := svc.Init(ctx); err != nil {
			t.Fatal(err)
		}
		boot, _ := svc.Authenticate(ctx, bootToken)
		a, b := "a-"+map[bool]string{false: "cs", true: "ci"}[fold]+"@example.com", "b-"+map[bool]string{false: "cs", true: "ci"}[fold]+"@example.com"
		for _, u := range []string{a, b} {
			if _, err := svc.CreateUser(ctx, boot, admin.CreateUserRequest{Email: u, FullName: "U"}); err != nil {
				t.Fatal(err)
			}
		}
		name := "Alice" + map[bool]string{false: "CS", true: "CI"}[fold]
		if _, err := svc.SetExternalID(ctx, boot, a, directory.PlatformTrino, name); err != nil {
			t.Fatal(err)
		}
		_, err := svc.SetExternalID(ctx, boot, b, directory.PlatformTrino, strings.ToLower(name))
		if fold != errors.Is(err, directory.ErrConflict) {
			t.Errorf("case-insensitive %v: setting %q beside %q: %v", fold, strings.ToLower(name), name, err)
		}
		// Other platforms stay case-sensitive; the user's own name may change case.
		if _, err := svc.SetExternalID(ctx, boot, b, "github", name); err != nil {
			t.Errorf("case-insensitive %v: another platform: %v", fold, err)
		}
		if fold {
			if _, err := svc.SetExternalID(ctx, boot, a, directory.PlatformTrino, strings.ToUpper(name)); err != nil {
				t.Errorf("changing the case of one's own name: %v", err)
			}
		}
	}
}

func TestSyncerTriggerAndPeriodic(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	err = st.Update(ctx, func(tx store.Tx) error {
		for _, i := range []directory.IAM{
			{ID: "corp", DisplayName: "Corp", UserInfo: &directory.UserInfoEndpoint{URI: "http://127.0.0.1:1/"}},
			{ID: "bim", DisplayName: "Built-in"},
		} {
			if err := tx.PutIAM(ctx, i); err != nil {
				return err
			}
		}
		for _, u := range []directory.User{
			{Email: "never@x.io", IAM: "corp"}, {Email: "old@x.io", IAM: "corp"}, {Email: "fresh@x.io", IAM: "corp"},
			{Email: "off@x.io", IAM: "corp", Disabled: true}, {Email: "bim@x.io", IAM: "bim"},
		} {
			u.FullName, u.UserID = "U", u.Email
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		for user, at := range map[string]time.Time{"old@x.io": now.Add(-2 * time.Hour), "fresh@x.io": now.Add(-10 * time.Minute)} {
			if err := tx.SetSyncState(ctx, user, directory.SyncState{IAM: "corp", LastSyncAt: &at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var calls []string
	running, maxRunning := 0, 0
	gate := make(chan struct{})
	fn := func(ctx context.Context, username string, onlyNever bool) error {
		mu.Lock()
		calls = append(calls, username+map[bool]string{true: " (if never synced)", false: ""}[onlyNever])
		running++
		maxRunning = max(maxRunning, running)
		mu.Unlock()
		select {
		case <-gate:
		case <-ctx.Done():
		}
		mu.Lock()
		running--
		mu.Unlock()
		return nil
	}
	s := userinfo.NewSyncer(st, fn, userinfo.WithInterval(time.Hour), userinfo.WithJitter(0),
		userinfo.WithConcurrency(2), userinfo.WithSyncClock(func() time.Time { return now }))

	// Due: never tried, and tried over an hour ago; not the fresh, the
	// disabled, or users of an IAM without endpoint.
	n, err := s.QueueDue(ctx)
	if err != nil || n != 2 {
		t.Fatalf("QueueDue = %d, %v; want 2", n, err)
	}
	// Queued users are not queued twice, by the periodic pass or a trigger.
	if n, _ := s.QueueDue(ctx); n != 0 {
		t.Errorf("second QueueDue queued %d", n)
	}
	if s.Trigger("never@x.io") {
		t.Error("a queued user was triggered again")
	}
	// A trigger is one-shot per user.
	if !s.Trigger("fresh@x.io") || s.Trigger("fresh@x.io") {
		t.Error("Trigger is not once per user")
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Run(runCtx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		r := running
		mu.Unlock()
		if r == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(gate)
	for {
		mu.Lock()
		c := len(calls)
		mu.Unlock()
		if c == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	<-done
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(calls)
	jsonEq(t, "synced", calls, []string{"fresh@x.io (if never synced)", "never@x.io", "old@x.io"})
	if maxRunning != 2 {
		t.Errorf("%d syncs ran at once, want the concurrency bound 2", maxRunning)
	}
}

func TestSyncerJitterSpreadsDueTimes(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	last := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const users = 50
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutIAM(ctx, directory.IAM{ID: "corp", DisplayName: "Corp", UserInfo: &directory.UserInfoEndpoint{URI: "http://127.0.0.1:1/"}}); err != nil {
			return err
		}
		for i := range users {
			u := directory.User{Email: strings.Repeat("u", i+1) + "@x.io", FullName: "U", IAM: "corp", UserID: "u"}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.SetSyncState(ctx, u.Email, directory.SyncState{IAM: "corp", LastSyncAt: &last}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Half-way through the jitter window about half the users are due; at
	// its end all of them.
	var now time.Time
	nop := func(context.Context, string, bool) error { return nil }
	for _, c := range []struct {
		after    time.Duration
		min, max int
	}{
		{time.Hour - time.Minute, 0, 0},
		{time.Hour + 5*time.Minute, 10, 40},
		{time.Hour + 10*time.Minute, users, users},
	} {
		now = last.Add(c.after)
		s := userinfo.NewSyncer(st, nop, userinfo.WithInterval(time.Hour), userinfo.WithJitter(10*time.Minute),
			userinfo.WithSyncClock(func() time.Time { return now }))
		n, err := s.QueueDue(ctx)
		if err != nil || n < c.min || n > c.max {
			t.Errorf("%s after the last sync: %d due (%v), want %d to %d", c.after, n, err, c.min, c.max)
		}
	}
}
