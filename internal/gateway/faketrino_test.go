package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeTrino speaks enough of Trino's client protocol to test the gateway
// without a JVM (the end-to-end suite runs the real one): a POST answers
// QUEUED with an absolute nextUri, which leads to one page with the first
// half of the rows (and a partialCancelUri), then the last page. It records
// what it was sent, so tests can check what the gateway forwarded.
//
// Statements it knows:
//
//	SELECT whoami      one row: X-Trino-User, X-Trino-Original-User,
//	                   X-Trino-Session, the Basic-auth user
//	SHOW SESSION ...   Trino's own rows (two properties)
//	SELECT rows N      N rows (i, 'row i'), over pages of up to 10,000
//	SELECT fail        a query that fails (USER_ERROR)
//	anything else      one row: the statement's text
type fakeTrino struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request // clones, bodies read into bodies
	bodies   []string
	queries  map[string]*fakeQuery
}

type fakeQuery struct {
	columns []map[string]any
	rows    [][]any
	pos     int
	fail    string
}

func newFakeTrino(t *testing.T) *fakeTrino {
	f := &fakeTrino{queries: map[string]*fakeQuery{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func varcharCol(name string) map[string]any {
	return map[string]any{"name": name, "type": "varchar", "typeSignature": map[string]any{"rawType": "varchar", "arguments": []any{map[string]any{"kind": "LONG", "value": 2147483647}}}}
}

func bigintCol(name string) map[string]any {
	return map[string]any{"name": name, "type": "bigint", "typeSignature": map[string]any{"rawType": "bigint", "arguments": []any{}}}
}

func (f *fakeTrino) record(r *http.Request) string {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	f.bodies = append(f.bodies, string(body))
	return string(body)
}

// last returns the last request whose path starts with prefix.
func (f *fakeTrino) last(prefix string) (*http.Request, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if strings.HasPrefix(f.requests[i].URL.Path, prefix) {
			return f.requests[i], f.bodies[i]
		}
	}
	return nil, ""
}

func (f *fakeTrino) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r.URL.Path, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeTrino) serve(w http.ResponseWriter, r *http.Request) {
	body := f.record(r)
	base := "http://" + r.Host
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/statement":
		if strings.Contains(r.Header.Get("X-Trino-Session"), "gatehouse") {
			http.Error(w, "fake Trino: catalog 'gatehouse' not found", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		id := fmt.Sprintf("20250101_000000_%05d_fake0", len(f.queries))
		f.queries[id] = newFakeQuery(r, body)
		f.mu.Unlock()
		writeJSON(w, map[string]any{"id": id, "infoUri": base + "/ui/query.html?" + id,
			"nextUri": base + "/v1/statement/queued/" + id + "/slug/1", "stats": map[string]any{"state": "QUEUED"}})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/statement/"):
		parts := strings.Split(r.URL.Path, "/") // "", v1, statement, queued|executing, id, slug, token
		if len(parts) < 7 || r.URL.RawQuery != "" {
			http.Error(w, "fake Trino: bad page URI "+r.URL.String(), http.StatusNotFound)
			return
		}
		id := parts[4]
		f.mu.Lock()
		q := f.queries[id]
		f.mu.Unlock()
		if q == nil {
			http.Error(w, "fake Trino: no query "+id, http.StatusNotFound)
			return
		}
		page := map[string]any{"id": id, "infoUri": base + "/ui/query.html?" + id, "stats": map[string]any{"state": "RUNNING"}}
		if q.fail != "" {
			page["stats"] = map[string]any{"state": "FAILED"}
			page["error"] = map[string]any{"message": q.fail, "errorCode": 1, "errorName": "SYNTAX_ERROR", "errorType": "USER_ERROR"}
			writeJSON(w, page)
			return
		}
		page["columns"] = q.columns
		n := min(len(q.rows)-q.pos, 10_000)
		page["data"] = q.rows[q.pos : q.pos+n]
		q.pos += n
		if q.pos < len(q.rows) || parts[3] == "queued" {
			tok, _ := strconv.Atoi(parts[6])
			page["nextUri"] = fmt.Sprintf("%s/v1/statement/executing/%s/slug/%d", base, id, tok+1)
			page["partialCancelUri"] = base + "/v1/stage/" + id + ".0"
		} else {
			page["stats"] = map[string]any{"state": "FINISHED"}
		}
		if len(page["data"].([][]any)) == 0 {
			delete(page, "data")
		}
		writeJSON(w, page)
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/v1/info":
		writeJSON(w, map[string]any{"starting": false, "echoUser": r.Header.Get("X-Trino-User")})
	case r.URL.Path == "/ui":
		http.Redirect(w, r, base+"/ui/", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

func newFakeQuery(r *http.Request, sql string) *fakeQuery {
	q := &fakeQuery{}
	basic, _, _ := r.BasicAuth()
	switch s := strings.TrimSpace(sql); {
	case s == "SELECT whoami":
		q.columns = []map[string]any{varcharCol("user"), varcharCol("original"), varcharCol("session"), varcharCol("basic")}
		q.rows = [][]any{{r.Header.Get("X-Trino-User"), r.Header.Get("X-Trino-Original-User"), strings.Join(r.Header.Values("X-Trino-Session"), ";"), basic}}
	case strings.HasPrefix(strings.ToUpper(s), "SHOW SESSION"):
		q.columns = []map[string]any{varcharCol("Name"), varcharCol("Value"), varcharCol("Default"), varcharCol("Type"), varcharCol("Description")}
		q.rows = [][]any{{"query_max_run_time", "100.00d", "100.00d", "varchar", "Maximum run time"}, {"tpch.splits_per_node", "4", "4", "integer", "Splits"}}
	case strings.HasPrefix(s, "SELECT rows "):
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "SELECT rows "))
		q.columns = []map[string]any{bigintCol("i"), varcharCol("s")}
		for i := range n {
			q.rows = append(q.rows, []any{i, fmt.Sprintf("row %d \"quoted\" ]bracket[ \\ %d", i, i)})
		}
	case s == "SELECT fail":
		q.fail = "line 1:8: fake failure"
	default:
		q.columns = []map[string]any{varcharCol("sql")}
		q.rows = [][]any{{s}}
	}
	return q
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
