package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// userInfoEndpoint is an identity provider's external user-info endpoint (issue 6), run
// by the test on loopback: it answers GET ?userid=<email> with Basic auth, saying what
// the test last set for that user.
type userInfoEndpoint struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]string // userid → JSON answer; absent → 404
	failing bool              // answer 500 to everyone
	hold    chan struct{}     // when set, requests wait until it is closed
}

func newUserInfoEndpoint(t *testing.T) *userInfoEndpoint {
	t.Helper()
	e := &userInfoEndpoint{answers: map[string]string{}}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "gatehouse" || p != "e2e-s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		e.mu.Lock()
		hold := e.hold
		e.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		e.mu.Lock()
		body, ok := e.answers[r.URL.Query().Get("userid")]
		failing := e.failing
		e.mu.Unlock()
		switch {
		case failing:
			w.WriteHeader(http.StatusInternalServerError)
		case !ok:
			http.NotFound(w, r)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}
	}))
	t.Cleanup(e.Close)
	return e
}

// set makes the endpoint answer, for trinoName's directory user, that their Trino login
// is trinoName and their regions are regions.
func (e *userInfoEndpoint) set(trinoName string, regions ...string) {
	b, _ := json.Marshal(map[string]any{
		"groups":         []map[string]string{{"name": "ui_analysts"}},
		"authorizations": map[string][]string{"region": regions, "login": {trinoName}},
	})
	e.mu.Lock()
	e.answers[emailOf(trinoName)] = string(b)
	e.mu.Unlock()
}

func (e *userInfoEndpoint) fail(on bool) {
	e.mu.Lock()
	e.failing = on
	e.mu.Unlock()
}

// TestUserInfoAttributeDrivesRowFilter: memory.e2e.sales has the row filter
// `region IN (${user.attributes.region})`. An identity provider whose user-info endpoint
// (a real HTTP server on loopback, with Basic auth) says a user's region is APAC, and whose
// profile mapping takes the Trino login from the endpoint too, is created through the
// admin API; the user, created in it without any attribute or Trino name, is synced, and
// their query sees APAC rows only. When the endpoint says EMEA, the next sync moves them
// to EMEA rows; when it fails, nothing changes and the user shows why.
func TestUserInfoAttributeDrivesRowFilter(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("ui")
	dana := n.user("dana")
	idp := newUserInfoEndpoint(t)
	idp.set(dana, "APAC")

	iam := "idp-" + n.prefix
	s.gh.call(t, "POST", "/api/v1/iams", map[string]any{
		"id": iam, "displayName": "e2e user-info IdP",
		"userInfo":       map[string]string{"uri": idp.URL + "/user-info", "username": "gatehouse", "password": "e2e-s3cret"},
		"profileMapping": map[string]string{"trino": "login"},
	}, http.StatusCreated)
	email := emailOf(dana)
	s.gh.call(t, "POST", "/api/v1/users", map[string]string{"email": email, "fullName": "e2e " + dana, "iam": iam}, http.StatusCreated)

	sync := func(want int) map[string]any {
		t.Helper()
		var u map[string]any
		if err := json.Unmarshal(s.gh.call(t, "POST", "/api/v1/users/"+url.PathEscape(email)+":sync", nil, want), &u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	u := sync(http.StatusOK)
	if ext, _ := u["externalIds"].(map[string]any); ext["trino"] != dana {
		t.Fatalf("the profile mapping did not give %s their Trino name: %v", email, u)
	}

	const dashboard = "SELECT region, amount FROM memory.e2e.sales ORDER BY id"
	db := openDB(t, s.coord(), dana)
	check := func(step string, want [][]string) {
		t.Helper()
		got, err := queryRows(ctx, db, dashboard)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: %s sees %q, want %q", step, dana, got, want)
		}
	}
	check("region APAC from the endpoint", [][]string{{"APAC", "300"}})

	idp.set(dana, "EMEA")
	sync(http.StatusOK)
	check("region EMEA after the next sync", [][]string{{"EMEA", "100"}, {"EMEA", "200"}})

	idp.fail(true)
	var failed struct {
		Code, Message string
	}
	if err := json.Unmarshal(s.gh.call(t, "POST", "/api/v1/users/"+url.PathEscape(email)+":sync", nil, http.StatusBadGateway), &failed); err != nil {
		t.Fatal(err)
	}
	t.Logf("sync with the endpoint failing: %s", failed.Message)
	idp.fail(false)
	check("after a failed sync, unchanged", [][]string{{"EMEA", "100"}, {"EMEA", "200"}})
	var got struct {
		Sync struct {
			LastError string `json:"lastError"`
		} `json:"sync"`
	}
	if err := json.Unmarshal(s.gh.call(t, "GET", "/api/v1/users/"+url.PathEscape(email), nil, http.StatusOK), &got); err != nil {
		t.Fatal(err)
	}
	if got.Sync.LastError == "" {
		t.Error("the failed sync does not show on the user")
	}
}

// TestUserInfoNeverSyncedUserSyncedInBackground: a user of that identity provider who was
// never synced queries at once, while the endpoint stalls. Gatehouse answers from what the
// directory has (no region: no rows) without waiting for the endpoint, and syncs them in
// the background; once the endpoint answers, their queries see the region it gave.
func TestUserInfoNeverSyncedUserSyncedInBackground(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("uibg")
	erin := n.user("erin")
	idp := newUserInfoEndpoint(t)
	idp.set(erin, "AMER")
	iam := "idp-" + n.prefix
	s.gh.call(t, "POST", "/api/v1/iams", map[string]any{
		"id": iam, "displayName": "e2e user-info IdP",
		"userInfo":       map[string]string{"uri": idp.URL + "/user-info", "username": "gatehouse", "password": "e2e-s3cret"},
		"profileMapping": map[string]string{"trino": "login"},
	}, http.StatusCreated)
	email := emailOf(erin)
	s.gh.call(t, "POST", "/api/v1/users", map[string]string{"email": email, "fullName": "e2e " + erin, "iam": iam}, http.StatusCreated)
	// Her Trino name set by hand (the sync would set the same): without it the first
	// query could not name her.
	s.gh.call(t, "PUT", "/api/v1/users/"+url.PathEscape(email)+"/external-ids/trino", map[string]string{"username": erin}, http.StatusOK)

	hold := make(chan struct{})
	idp.mu.Lock()
	idp.hold = hold
	idp.mu.Unlock()
	const q = "SELECT region FROM memory.e2e.sales"
	db := openDB(t, s.coord(), erin)
	got, err := column(ctx, db, q)
	close(hold)
	if err != nil {
		t.Fatalf("first query, with the endpoint stalled: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("first query, before any sync: %s sees %q, want no rows (no region yet)", erin, got)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Equal(got, []string{"AMER"}) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still sees %q; the background sync did not give her region AMER", erin, got)
		}
		time.Sleep(200 * time.Millisecond)
		if got, err = column(ctx, db, q); err != nil {
			t.Fatal(err)
		}
	}
}
