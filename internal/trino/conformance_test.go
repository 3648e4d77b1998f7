package trino_test

// The conformance suite pins gatehouse's answers to Trino's `opa` access
// control on the wire: one request as Trino 476 sends it, one exact answer.
// The cases live in testdata/conformance/*.json, so reviewing a protocol
// change means reading data, not code, and so the same requests can seed the
// fuzzers and be replayed against stock OPA (differential_test.go).
//
// Each file starts one real gatehouse (servertest: HTTP, store, policy
// engine, directory snapshot — nothing mocked), seeds its directory through
// the admin REST API exactly as an administrator would, then POSTs each case
// in order and compares status and body.
//
// File format:
//
//	{
//	  "description": "what the file covers",
//	  "server": {
//	    "rules": "fixture" | "shipped",   // testdata/rules.json copied over the shipped bundle, or policies/ unchanged
//	    "allowedServiceUsers": [...], "policyExemptUsers": [...], "maxRequestBytes": N   // optional config
//	  },
//	  "setup": {                            // optional, applied once through /api/v1 before the cases
//	    "groups": [{"name", "description"?}],
//	    "users": [{"email", "fullName"?, "trino"?, "permissions"?, "groups"?, "attributes"?, "disabled"?}],
//	    "calls": [{"method", "path", "body"?, "status"}]   // any other admin call
//	  },
//	  "cases": [{
//	    "name": "unique in the file",
//	    "setup": {...},                     // optional, same shape, applied just before this case
//	    "endpoint": "allow" | "batch" | "rowFilters" | "columnMask" | "batchColumnMasks" | "/v1/data/any/path",
//	    "body": {...} | "rawBody": "...",   // the POSTed bytes
//	    "status": 200,
//	    "response": {...} | "responseContains": "substring of the error message"
//	  }]
//	}
//
// Besides each case's own expectation, every 200 answer of a Trino endpoint
// is checked against the shape Trino decodes (trino-opa-protocol.md §3): a
// boolean for allow, sorted distinct in-range indices for batch (into
// filterResources, or into filterResources[0].table.columns for
// FilterColumns), `[]` and never `{}` for batch and batchColumnMasks, and so on.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/server/servertest"
	"github.com/gatehouse-authz/gatehouse/internal/trino"
)

const (
	conformanceGlob = "testdata/conformance/*.json"
	// fixtureRules replaces policies/rules.json for files with "rules": "fixture",
	// so their expectations do not move when the shipped default rules do.
	fixtureRules = "testdata/rules.json"
)

// trinoEndpoints are the five decision URIs, by the names cases use.
var trinoEndpoints = []string{
	trino.EndpointAllow, trino.EndpointBatch, trino.EndpointRowFilters,
	trino.EndpointColumnMask, trino.EndpointBatchColumnMasks,
}

type confFile struct {
	Description string     `json:"description"`
	Server      confServer `json:"server"`
	Setup       *confSetup `json:"setup"`
	Cases       []confCase `json:"cases"`

	path string
}

type confServer struct {
	Rules               string   `json:"rules"`
	AllowedServiceUsers []string `json:"allowedServiceUsers"`
	PolicyExemptUsers   []string `json:"policyExemptUsers"`
	MaxRequestBytes     int64    `json:"maxRequestBytes"`
}

type confSetup struct {
	Groups []confGroup `json:"groups"`
	Users  []confUser  `json:"users"`
	Calls  []confCall  `json:"calls"`
}

type confGroup struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type confUser struct {
	Email       string              `json:"email"`
	FullName    string              `json:"fullName"`
	Trino       string              `json:"trino"`
	Permissions []string            `json:"permissions"`
	Groups      []string            `json:"groups"`
	Attributes  map[string][]string `json:"attributes"`
	Disabled    bool                `json:"disabled"`
}

type confCall struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body"`
	Status int             `json:"status"`
}

type confCase struct {
	Name             string          `json:"name"`
	Setup            *confSetup      `json:"setup"`
	Endpoint         string          `json:"endpoint"`
	Body             json.RawMessage `json:"body"`
	RawBody          *string         `json:"rawBody"`
	Status           int             `json:"status"`
	Response         json.RawMessage `json:"response"`
	ResponseContains string          `json:"responseContains"`
}

// path is the URL path the case POSTs to.
func (c *confCase) path() string {
	if strings.HasPrefix(c.Endpoint, "/") {
		return c.Endpoint
	}
	return "/v1/data/trino/" + c.Endpoint
}

// trinoEndpoint is the decision endpoint the case's path names, or "".
func (c *confCase) trinoEndpoint() string {
	ep, ok := strings.CutPrefix(c.path(), "/v1/data/trino/")
	if ok && slices.Contains(trinoEndpoints, ep) {
		return ep
	}
	return ""
}

// body is the exact bytes the case POSTs.
func (c *confCase) body() []byte {
	if c.RawBody != nil {
		return []byte(*c.RawBody)
	}
	return c.Body
}

// loadConformanceFiles reads and checks every case file, so a typo in a
// field name fails loudly instead of silently testing nothing.
func loadConformanceFiles(t testing.TB) []*confFile {
	t.Helper()
	paths, err := filepath.Glob(conformanceGlob)
	if err != nil || len(paths) == 0 {
		t.Fatalf("no conformance files match %s (err %v)", conformanceGlob, err)
	}
	var files []*confFile
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		f := &confFile{path: p}
		if err := dec.Decode(f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := f.check(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		files = append(files, f)
	}
	return files
}

func (f *confFile) check() error {
	if f.Server.Rules != "fixture" && f.Server.Rules != "shipped" {
		return fmt.Errorf(`server.rules must be "fixture" or "shipped", not %q`, f.Server.Rules)
	}
	if len(f.Cases) == 0 {
		return fmt.Errorf("no cases")
	}
	seen := map[string]bool{}
	for i, c := range f.Cases {
		switch {
		case c.Name == "":
			return fmt.Errorf("case %d has no name", i)
		case seen[c.Name]:
			return fmt.Errorf("case name %q is used twice", c.Name)
		case !strings.HasPrefix(c.Endpoint, "/") && !slices.Contains(trinoEndpoints, c.Endpoint):
			return fmt.Errorf("case %q: endpoint %q is neither one of %v nor a path", c.Name, c.Endpoint, trinoEndpoints)
		case (c.Body == nil) == (c.RawBody == nil):
			return fmt.Errorf("case %q: give exactly one of body and rawBody", c.Name)
		case c.Status == 0:
			return fmt.Errorf("case %q: status is required", c.Name)
		case (c.Response == nil) == (c.ResponseContains == ""):
			return fmt.Errorf("case %q: give exactly one of response and responseContains", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// TestConformance runs every file against its own server, files in
// parallel, cases in order.
func TestConformance(t *testing.T) {
	for _, f := range loadConformanceFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(f.path), ".json"), func(t *testing.T) {
			t.Parallel()
			env := startConformanceServer(t, f)
			for _, c := range f.Cases {
				// Cases run in file order: a case's setup (disable a user, say)
				// is meant to affect the cases after it.
				if c.Setup != nil {
					env.apply(t, c.Setup)
				}
				t.Run(c.Name, func(t *testing.T) {
					status, body, ctype := postDecision(t, env.srv.URL+c.path(), c.body())
					checkCase(t, &c, status, body, ctype)
				})
			}
		})
	}
}

// confEnv is a started server for one file, with what it was started with.
type confEnv struct {
	srv         *servertest.Server
	policiesDir string
	settings    confServer
}

// startConformanceServer starts gatehouse as f asks and applies its setup.
// More options (opts) apply after f's.
func startConformanceServer(t *testing.T, f *confFile, opts ...func(*config.Config)) *confEnv {
	t.Helper()
	dir := servertest.PoliciesDir()
	if f.Server.Rules == "fixture" {
		dir = policiesWithRules(t, fixtureRules)
	}
	srv := servertest.Start(t, "", func(c *config.Config) {
		c.PoliciesDir = dir
		c.AllowedServiceUsers = f.Server.AllowedServiceUsers
		c.PolicyExemptUsers = f.Server.PolicyExemptUsers
		if f.Server.MaxRequestBytes > 0 {
			c.MaxRequestBytes = f.Server.MaxRequestBytes
		}
		for _, o := range opts {
			o(c)
		}
	})
	env := &confEnv{srv: srv, policiesDir: dir, settings: f.Server}
	if f.Setup != nil {
		env.apply(t, f.Setup)
	}
	return env
}

// policiesWithRules copies the shipped bundle — tests and testdata included,
// as stock OPA would load them — into a temp dir, with rulesFile as rules.json.
func policiesWithRules(t testing.TB, rulesFile string) string {
	t.Helper()
	src := servertest.PoliciesDir()
	dst := filepath.Join(t.TempDir(), "policies")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy policies: %v", err)
	}
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "rules.json"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// apply seeds the directory through the admin REST API, the way an
// administrator would: each call must answer its documented status.
func (e *confEnv) apply(t testing.TB, s *confSetup) {
	t.Helper()
	for _, g := range s.Groups {
		adminCall(t, e.srv.URL, "POST", "/api/v1/groups", map[string]string{"name": g.Name, "description": g.Description}, http.StatusCreated)
	}
	for _, u := range s.Users {
		name := u.FullName
		if name == "" {
			name = u.Email
		}
		adminCall(t, e.srv.URL, "POST", "/api/v1/users", map[string]string{"email": u.Email, "fullName": name}, http.StatusCreated)
		userPath := "/api/v1/users/" + url.PathEscape(u.Email)
		if u.Trino != "" {
			adminCall(t, e.srv.URL, "PUT", userPath+"/external-ids/trino", map[string]string{"username": u.Trino}, http.StatusOK)
		}
		for _, p := range u.Permissions {
			adminCall(t, e.srv.URL, "POST", userPath+"/permissions", map[string]string{"permission": p}, http.StatusOK)
		}
		for _, g := range u.Groups {
			adminCall(t, e.srv.URL, "POST", "/api/v1/groups/"+url.PathEscape(g)+"/members", map[string]string{"username": u.Email}, http.StatusOK)
		}
		names := make([]string, 0, len(u.Attributes))
		for n := range u.Attributes {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			for _, v := range u.Attributes[n] {
				adminCall(t, e.srv.URL, "POST", userPath+"/attributes", map[string]string{"name": n, "value": v}, http.StatusOK)
			}
		}
		if u.Disabled {
			adminCall(t, e.srv.URL, "POST", userPath+":disable", nil, http.StatusOK)
		}
	}
	for _, c := range s.Calls {
		var body any
		if c.Body != nil {
			body = c.Body
		}
		adminCall(t, e.srv.URL, c.Method, c.Path, body, c.Status)
	}
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// adminCall makes one admin REST call with the bootstrap token and checks
// its status; it returns the answer's body.
func adminCall(t testing.TB, base, method, path string, body any, want int) []byte {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case json.RawMessage:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, out)
	}
	return out
}

// postDecision POSTs a decision request as Trino's HTTP client does.
func postDecision(t testing.TB, u string, body []byte) (status int, respBody []byte, contentType string) {
	t.Helper()
	resp, err := httpClient.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: read answer: %v", u, err)
	}
	return resp.StatusCode, b, resp.Header.Get("Content-Type")
}

func checkCase(t *testing.T, c *confCase, status int, body []byte, ctype string) {
	t.Helper()
	if status != c.Status {
		t.Fatalf("status %d, want %d; body %s", status, c.Status, body)
	}
	if !strings.HasPrefix(ctype, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ctype)
	}
	if c.Response != nil {
		if !jsonEqual(t, body, c.Response) {
			t.Errorf("answer\n  %s\nwant\n  %s", bytes.TrimSpace(body), c.Response)
		}
	} else {
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Message == "" {
			t.Fatalf("error answer %s is not {\"code\", \"message\"}", body)
		}
		if !strings.Contains(e.Message, c.ResponseContains) {
			t.Errorf("message %q does not contain %q", e.Message, c.ResponseContains)
		}
	}
	if status == http.StatusOK {
		if ep := c.trinoEndpoint(); ep != "" {
			if err := checkTrinoShape(ep, c.body(), body); err != nil {
				t.Errorf("answer %s is not what Trino decodes: %v", bytes.TrimSpace(body), err)
			}
		}
	}
}

// jsonEqual compares two JSON documents semantically (key order and
// whitespace do not matter; array order does).
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("expected answer is not JSON: %v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

// checkTrinoShape checks a 200 answer against what Trino's opa plugin
// decodes for endpoint (trino-opa-protocol.md §3). reqBody gives the number
// of items batch indices may refer to.
func checkTrinoShape(endpoint string, reqBody, respBody []byte) error {
	dec := json.NewDecoder(bytes.NewReader(respBody))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	for k := range doc {
		if k != "result" {
			return fmt.Errorf("unexpected key %q", k)
		}
	}
	result, has := doc["result"]
	switch endpoint {
	case trino.EndpointAllow:
		if _, ok := result.(bool); !ok {
			return fmt.Errorf("allow needs a boolean result, got %v", result)
		}
	case trino.EndpointBatch:
		if !has {
			return fmt.Errorf("batch answers [] for none, never {}")
		}
		_, err := indices(result, batchItems(reqBody))
		return err
	case trino.EndpointRowFilters:
		arr, ok := result.([]any)
		if !ok {
			return fmt.Errorf("rowFilters needs an array, got %v", result)
		}
		for _, x := range arr {
			if err := viewExpressionShape(x); err != nil {
				return err
			}
		}
	case trino.EndpointColumnMask:
		if has {
			return viewExpressionShape(result)
		}
	case trino.EndpointBatchColumnMasks:
		if !has {
			return fmt.Errorf("batchColumnMasks answers [] for none: {} fails the query")
		}
		arr, ok := result.([]any)
		if !ok {
			return fmt.Errorf("batchColumnMasks needs an array, got %v", result)
		}
		var idx []any
		for _, x := range arr {
			m, ok := x.(map[string]any)
			if !ok || len(m) != 2 {
				return fmt.Errorf("mask %v is not {index, viewExpression}", x)
			}
			idx = append(idx, m["index"])
			if err := viewExpressionShape(m["viewExpression"]); err != nil {
				return err
			}
		}
		_, err := indices(idx, batchItems(reqBody))
		return err
	}
	return nil
}

// batchItems is how many items a batch answer's indices may refer to. It
// walks the request generically, so any body the handler accepted (the
// fuzzer's included) is measured the way the handler measures it.
func batchItems(reqBody []byte) int {
	var doc any
	if err := json.Unmarshal(reqBody, &doc); err != nil {
		return -1
	}
	get := func(v any, key string) any {
		m, _ := v.(map[string]any)
		return m[key]
	}
	action := get(get(doc, "input"), "action")
	items, _ := get(action, "filterResources").([]any)
	if get(action, "operation") == "FilterColumns" && len(items) == 1 {
		cols, _ := get(get(items[0], "table"), "columns").([]any)
		return len(cols)
	}
	return len(items)
}

// indices checks a list of batch indices: whole numbers in [0, n),
// strictly ascending (so distinct).
func indices(v any, n int) ([]int, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("indices must be an array, got %v", v)
	}
	out := make([]int, 0, len(arr))
	for _, x := range arr {
		num, ok := x.(json.Number)
		if !ok {
			return nil, fmt.Errorf("index %v is not a number", x)
		}
		i64, err := num.Int64()
		if err != nil || i64 < 0 || i64 >= int64(n) {
			return nil, fmt.Errorf("index %v out of range for %d items", x, n)
		}
		i := int(i64)
		if len(out) > 0 && i <= out[len(out)-1] {
			return nil, fmt.Errorf("indices %v are not strictly ascending", arr)
		}
		out = append(out, i)
	}
	return out, nil
}

func viewExpressionShape(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("view expression %v is not an object", v)
	}
	for k, x := range m {
		s, isStr := x.(string)
		switch {
		case k == "expression" && isStr && s != "":
		case k == "identity" && isStr && s != "":
		default:
			return fmt.Errorf("view expression %v: bad key %q", v, k)
		}
	}
	if _, ok := m["expression"]; !ok {
		return fmt.Errorf("view expression %v has no expression", v)
	}
	return nil
}

// TestConformanceCoverage keeps the suite honest as Trino adds operations:
// every operation gatehouse knows and every endpoint must appear in a case,
// and at least one file must run against the shipped policies unchanged.
func TestConformanceCoverage(t *testing.T) {
	ops := map[string]bool{}
	endpoints := map[string]bool{}
	shipped := false
	for _, f := range loadConformanceFiles(t) {
		shipped = shipped || f.Server.Rules == "shipped"
		for _, c := range f.Cases {
			endpoints[c.Endpoint] = true
			var req struct {
				Input struct {
					Action struct {
						Operation any `json:"operation"`
					} `json:"action"`
				} `json:"input"`
			}
			if json.Unmarshal(c.body(), &req) == nil && c.Status == http.StatusOK {
				if op, ok := req.Input.Action.Operation.(string); ok {
					ops[op] = true
				}
			}
		}
	}
	for op := range trino.Operations {
		if !ops[op] {
			t.Errorf("operation %s has no conformance case answered 200", op)
		}
	}
	for _, ep := range trinoEndpoints {
		if !endpoints[ep] {
			t.Errorf("endpoint %s has no conformance case", ep)
		}
	}
	if !shipped {
		t.Errorf("no conformance file runs against the shipped policies")
	}
}

// TestRequestBodyLimitBoundary pins the limit to the byte: a body of exactly
// max-request-bytes is answered, one byte more is 413. (JSON allows the
// trailing whitespace used as padding.)
func TestRequestBodyLimitBoundary(t *testing.T) {
	const limit = 512
	srv := servertest.Start(t, "", func(c *config.Config) { c.MaxRequestBytes = limit })
	base := []byte(`{"input": {"context": {"identity": {"user": "nobody", "groups": []}}, "action": {"operation": "ExecuteQuery"}}}`)
	for _, tc := range []struct {
		size int
		want int
	}{{limit - 1, http.StatusOK}, {limit, http.StatusOK}, {limit + 1, http.StatusRequestEntityTooLarge}, {4 * limit, http.StatusRequestEntityTooLarge}} {
		body := append(bytes.Clone(base), bytes.Repeat([]byte(" "), tc.size-len(base))...)
		for _, path := range []string{"/v1/data/trino/allow", "/v1/data/trino/rules_errors"} {
			status, resp, _ := postDecision(t, srv.URL+path, body)
			if status != tc.want {
				t.Errorf("%s with %d bytes: status %d, want %d: %s", path, tc.size, status, tc.want, resp)
			}
		}
	}
}

// TestPolicyReloadTakesEffectOnTheNextDecision: a policy author's reload must
// decide the very next request — the same bytes Trino sent a moment before
// must not get the old answer — and a bundle that does not compile must leave
// the last good one answering.
func TestPolicyReloadTakesEffectOnTheNextDecision(t *testing.T) {
	dir := policiesWithRules(t, fixtureRules)
	srv := servertest.Start(t, "", func(c *config.Config) { c.PoliciesDir = dir })
	adminCall(t, srv.URL, "POST", "/api/v1/users", map[string]string{"email": "alice@example.com", "fullName": "Alice"}, http.StatusCreated)
	adminCall(t, srv.URL, "PUT", "/api/v1/users/alice@example.com/external-ids/trino", map[string]string{"username": "alice"}, http.StatusOK)
	body := []byte(`{"input": {"context": {"identity": {"user": "alice", "groups": []}, "softwareStack": {"trinoVersion": "476"}},
		"action": {"operation": "AccessCatalog", "resource": {"catalog": {"name": "blackhole"}}}}}`)
	ask := func(step, want string) {
		t.Helper()
		status, got, _ := postDecision(t, srv.URL+"/v1/data/trino/allow", body)
		if status != http.StatusOK || !jsonEqual(t, got, []byte(want)) {
			t.Fatalf("%s: %d %s, want %s", step, status, got, want)
		}
	}
	ask("fixture rules: no rule for blackhole", `{"result": false}`)

	rules := []byte(`{"catalogs": [{"catalog": "blackhole", "allow": "read-only"}]}`)
	if err := os.WriteFile(filepath.Join(dir, "rules.json"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	adminCall(t, srv.URL, "POST", "/api/v1/policies:reload", nil, http.StatusOK)
	ask("right after reloading rules that grant it", `{"result": true}`)

	if err := os.WriteFile(filepath.Join(dir, "broken.rego"), []byte("package trino\n\nallow if {"), 0o644); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/policies:reload", nil)
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Errorf("reloading a bundle that does not compile answered %d", resp.StatusCode)
	}
	ask("after a rejected reload the last good bundle answers", `{"result": true}`)
}
