package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/server/servertest"
)

// TestNeverSyncedTrinoUserIsSyncedInTheBackground: a Trino user who was
// never synced is answered at once from what the directory has, while the
// sync their appearance triggers waits on a stalled endpoint; once the
// endpoint answers, the user has what it said, and they are not synced again
// for every decision.
func TestNeverSyncedTrinoUserIsSyncedInTheBackground(t *testing.T) {
	release := make(chan struct{})
	var requests atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte(`{"groups": [{"name": "Accountants"}], "authorizations": {"region": ["APAC"]}}`))
	}))
	defer up.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	srv := servertest.Start(t, "", func(c *config.Config) {
		c.UserInfoSyncInterval = 0 // only the trigger syncs here
		c.UserInfoTimeout = 30 * time.Second
	})
	admin := func(method, path string, body any) []byte {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		return out
	}
	admin("POST", "/api/v1/iams", map[string]any{"id": "corp", "displayName": "Corp", "userInfo": map[string]string{"uri": up.URL + "/userinfo"}})
	admin("POST", "/api/v1/users", map[string]string{"email": "dana@example.com", "fullName": "Dana", "iam": "corp"})
	admin("PUT", "/api/v1/users/dana@example.com/external-ids/trino", map[string]string{"username": "dana"})

	decide := func() string {
		t.Helper()
		body := `{"input": {"context": {"identity": {"user": "dana", "groups": []}, "softwareStack": {"trinoVersion": "476"}},
			"action": {"operation": "ExecuteQuery"}}}`
		resp, err := http.Post(srv.URL+"/v1/data/trino/allow", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return string(out)
	}
	// The endpoint is stalled: decisions do not wait for it.
	for range 3 {
		if got := decide(); !strings.Contains(got, `"result":true`) {
			t.Fatalf("decision while the sync is stalled: %s", got)
		}
	}
	waitFor(t, "the triggered sync to ask the endpoint", func() bool { return requests.Load() == 1 })

	close(release)
	released = true
	var u directory.User
	waitFor(t, "the background sync to finish", func() bool {
		if err := json.Unmarshal(admin("GET", "/api/v1/users/dana@example.com", nil), &u); err != nil {
			t.Fatal(err)
		}
		return u.Sync != nil && u.Sync.LastSuccessAt != nil
	})
	if strings.Join(u.Attributes["region"], ",") != "APAC" || strings.Join(u.Groups, ",") != "Accountants" {
		t.Errorf("after the background sync: %+v", u)
	}
	for range 3 {
		decide()
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the endpoint was asked %d times; a synced user is not synced per decision", n)
	}
	// The sync is counted after its write commits, which the user's record
	// above already shows: wait for the count too.
	var metrics []byte
	wants := []string{
		`gatehouse_userinfo_syncs_total{iam="corp",result="success"} 1`,
		`gatehouse_userinfo_requests_total{iam="corp",result="ok"} 1`,
		`gatehouse_userinfo_changes_total{kind="attribute",op="add"} 1`,
	}
	counted := func() bool {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range wants {
			if !strings.Contains(string(metrics), want) {
				return false
			}
		}
		return true
	}
	if !waitUntil(counted) {
		for _, want := range wants {
			if !strings.Contains(string(metrics), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	}
	if strings.Contains(string(metrics), "dana") {
		t.Error("/metrics names a user")
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	if !waitUntil(ok) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// waitUntil polls ok for up to 20 s and reports whether it held.
func waitUntil(ok func() bool) bool {
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
