package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/test/e2e/trinotest"
)

// TestTrinoSmoke proves the e2e harness end to end before gatehouse's own endpoints exist:
// a real coordinator, configured with the opa access control, sends its checks to a fake
// decision server, impersonation through X-Trino-User reaches it as ImpersonateUser, and a
// denial comes back to the client as "Access Denied".
func TestTrinoSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Trino coordinator; skipped with -short")
	}
	opa := newFakeOPA()
	opa.denyExecuteQuery["mallory"] = true
	srv := httptest.NewServer(opa)
	t.Cleanup(srv.Close) // registered first, so it closes after Trino has stopped

	coord := trinotest.Start(t, trinotest.Options{GatehouseURL: srv.URL})
	db := openDB(t, coord, "svc")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("alice through svc", func(t *testing.T) {
		opa.setStep("svc as alice: SELECT count(*) FROM tpch.tiny.nation")
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM tpch.tiny.nation", sql.Named("X-Trino-User", "alice")).Scan(&n); err != nil {
			t.Fatalf("count nations: %v", err)
		}
		if n != 25 {
			t.Errorf("count(*) of tpch.tiny.nation = %d, want 25", n)
		}

		opa.setStep("svc as alice: SELECT current_user")
		var user string
		if err := db.QueryRowContext(ctx, "SELECT current_user", sql.Named("X-Trino-User", "alice")).Scan(&user); err != nil {
			t.Fatalf("current_user: %v", err)
		}
		if user != "alice" {
			t.Errorf("current_user = %q, want alice", user)
		}

		if !opa.saw(func(r opaRequest) bool {
			return r.Operation() == "ImpersonateUser" && r.User() == "svc" && r.in.Input.Action.Resource.User.User == "alice"
		}) {
			t.Errorf("the decision server saw no ImpersonateUser from svc to alice; it saw:\n%s", opa.summary())
		}
		if !opa.saw(func(r opaRequest) bool { return r.Operation() == "ExecuteQuery" && r.User() == "alice" }) {
			t.Errorf("the decision server saw no ExecuteQuery for alice; it saw:\n%s", opa.summary())
		}
	})

	t.Run("mallory denied", func(t *testing.T) {
		opa.setStep("svc as mallory: SELECT 1 (ExecuteQuery denied)")
		var one int
		err := db.QueryRowContext(ctx, "SELECT 1", sql.Named("X-Trino-User", "mallory")).Scan(&one)
		if err == nil || !strings.Contains(err.Error(), "Access Denied") {
			t.Fatalf("query as mallory: err = %v, want an Access Denied error", err)
		}
		t.Logf("Trino's error: %v", err)
		if !opa.saw(func(r opaRequest) bool { return r.Operation() == "ExecuteQuery" && r.User() == "mallory" }) {
			t.Errorf("the decision server saw no ExecuteQuery for mallory; it saw:\n%s", opa.summary())
		}
	})

	// A few everyday statements, for the batch endpoint (Filter* checks, where the fake's
	// answer decides what the client sees) and for realistic request shapes in captures.
	t.Run("metadata and DDL", func(t *testing.T) {
		asAlice := sql.Named("X-Trino-User", "alice")
		for _, tc := range []struct {
			sql  string
			rows int // -1: do not check
		}{
			{"SHOW CATALOGS", 3}, // memory, system, tpch
			{"SHOW TABLES FROM tpch.tiny", 8},
			{"SHOW COLUMNS FROM tpch.tiny.region", 3},
			{"CREATE TABLE memory.default.e2e_smoke AS SELECT regionkey, name FROM tpch.tiny.region", 1},
			{"SELECT name FROM memory.default.e2e_smoke WHERE regionkey = 1", 1},
		} {
			opa.setStep("svc as alice: " + tc.sql)
			n, err := countRows(ctx, db, tc.sql, asAlice)
			if err != nil {
				t.Errorf("%s: %v", tc.sql, err)
			} else if tc.rows >= 0 && n != tc.rows {
				t.Errorf("%s: %d rows, want %d", tc.sql, n, tc.rows)
			}
		}
		opa.setStep("svc as alice with X-Trino-Session: SELECT 1")
		if _, err := countRows(ctx, db, "SELECT 1", asAlice, sql.Named("X-Trino-Session", "query_max_run_time=1h")); err != nil {
			t.Errorf("SELECT 1 with a session property: %v", err)
		}
		if !opa.saw(func(r opaRequest) bool { return r.Operation() == "FilterColumns" && r.Path == "/v1/data/trino/batch" }) {
			t.Errorf("the decision server saw no batched FilterColumns; it saw:\n%s", opa.summary())
		}
	})

	t.Logf("decision requests (path operation user):\n%s", opa.summary())
	if path := capturePath(); path != "" {
		opa.writeCapture(t, path)
	}
}

// countRows runs a statement and counts the rows it returns.
func countRows(ctx context.Context, db *sql.DB, query string, args ...any) (int, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// capturePath is where to write the captured requests: GATEHOUSE_E2E_CAPTURE names the
// file, or is "1"/"true" for testdata/captured-requests.jsonl; unset means no capture.
func capturePath() string {
	switch v := os.Getenv("GATEHOUSE_E2E_CAPTURE"); v {
	case "", "0", "false":
		return ""
	case "1", "true":
		return filepath.Join("testdata", "captured-requests.jsonl")
	default:
		return v
	}
}

// fakeOPA answers Trino's opa access control like a permissive OPA server: it allows every
// check except ExecuteQuery for the users in denyExecuteQuery, keeps every item of a batch
// (for FilterColumns the indices count the columns of the one table), returns no row
// filters and no masks. It records every request for assertions and captures.
type fakeOPA struct {
	denyExecuteQuery map[string]bool

	mu       sync.Mutex
	step     string
	requests []opaRequest
}

func newFakeOPA() *fakeOPA {
	return &fakeOPA{denyExecuteQuery: map[string]bool{}}
}

// opaRequest is one decision request as received, with the fields the fake needs decoded.
type opaRequest struct {
	Step string          `json:"step,omitempty"`
	Path string          `json:"path"`
	Body json.RawMessage `json:"body"`
	in   opaInput
}

func (r opaRequest) Operation() string { return r.in.Input.Action.Operation }
func (r opaRequest) User() string      { return r.in.Input.Context.Identity.User }

// opaInput is the part of Trino's request body the fake reads (trino-opa-protocol.md §2).
type opaInput struct {
	Input struct {
		Context struct {
			Identity struct {
				User string `json:"user"`
			} `json:"identity"`
		} `json:"context"`
		Action struct {
			Operation string `json:"operation"`
			Resource  struct {
				User struct {
					User string `json:"user"`
				} `json:"user"`
			} `json:"resource"`
			FilterResources []struct {
				Table *struct {
					Columns []string `json:"columns"`
				} `json:"table"`
			} `json:"filterResources"`
		} `json:"action"`
	} `json:"input"`
}

func (f *fakeOPA) setStep(step string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.step = step
}

func (f *fakeOPA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := opaRequest{Path: r.URL.Path}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		http.Error(w, "body is not JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	req.Body = compact.Bytes()
	if err := json.Unmarshal(body, &req.in); err != nil {
		http.Error(w, "unexpected body: "+err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	req.Step = f.step
	f.requests = append(f.requests, req)
	f.mu.Unlock()

	action := req.in.Input.Action
	var result any
	switch r.URL.Path {
	case "/v1/data/trino/allow":
		result = !(action.Operation == "ExecuteQuery" && f.denyExecuteQuery[req.User()])
	case "/v1/data/trino/batch":
		n := len(action.FilterResources)
		if action.Operation == "FilterColumns" && n > 0 && action.FilterResources[0].Table != nil {
			n = len(action.FilterResources[0].Table.Columns)
		}
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		result = all
	case "/v1/data/trino/rowFilters", "/v1/data/trino/batchColumnMasks":
		result = []any{}
	case "/v1/data/trino/columnMask":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
		return
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"result": result})
}

func (f *fakeOPA) snapshot() []opaRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *fakeOPA) saw(match func(opaRequest) bool) bool {
	return slices.ContainsFunc(f.snapshot(), match)
}

// summary lists the requests one per line, for failure messages.
func (f *fakeOPA) summary() string {
	var b strings.Builder
	for _, r := range f.snapshot() {
		b.WriteString("  " + strings.TrimPrefix(r.Path, "/v1/data/trino/") + " " + r.Operation() + " " + r.User() + "\n")
	}
	return b.String()
}

// writeCapture writes the distinct requests, in arrival order, as JSON lines.
func (f *fakeOPA) writeCapture(t *testing.T, path string) {
	t.Helper()
	var b bytes.Buffer
	seen := map[string]bool{}
	for _, r := range f.snapshot() {
		key := r.Path + "\x00" + string(r.Body)
		if seen[key] {
			continue
		}
		seen[key] = true
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("capture: %v", err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("capture: %v", err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatalf("capture: %v", err)
	}
	t.Logf("captured %d distinct decision requests in %s", len(seen), path)
}
