package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gatehouse is the server under test, run as a subprocess of the binary built from the
// tree, exactly as an operator runs it: its own flags, its own SQLite store and a policy
// directory on disk. A subprocess (rather than an in-process server) is what lets scenario
// 11 stop it and start it again on the same port and data directory, as a restart in
// production would.
type gatehouse struct {
	bin         string // the built binary
	dir         string // holds data/, policies/ and the log; removed by close
	dataDir     string
	policiesDir string
	httpAddr    string // host:port, fixed for the life of the suite so Trino's URIs stay valid
	grpcAddr    string
	token       string // the bootstrap admin token
	logFile     string
	extraArgs   []string

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	api  *http.Client
}

// gatehouseStartTimeout bounds one start of the server (store open, policy compile).
const gatehouseStartTimeout = 60 * time.Second

// buildGatehouse compiles ./cmd/gatehouse into dir, so the suite tests the tree as it is
// rather than a stale binary.
func buildGatehouse(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "gatehouse")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/gatehouse")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gatehouse: %v\n%s", err, out)
	}
	return bin, nil
}

// newGatehouse prepares a gatehouse in a fresh directory: a copy of the repository's
// policies/ with rules replacing its rules.json, an empty data directory, free loopback
// ports and a random admin token. It neither builds (set bin) nor starts it.
func newGatehouse(root string, rules []byte, extraArgs ...string) (*gatehouse, error) {
	dir, err := os.MkdirTemp("", "gatehouse-e2e-")
	if err != nil {
		return nil, err
	}
	g := &gatehouse{
		dir:         dir,
		dataDir:     filepath.Join(dir, "data"),
		policiesDir: filepath.Join(dir, "policies"),
		logFile:     filepath.Join(dir, "gatehouse.log"),
		extraArgs:   extraArgs,
		api:         &http.Client{Timeout: 30 * time.Second},
	}
	fail := func(err error) (*gatehouse, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := copyPolicies(filepath.Join(root, "policies"), g.policiesDir); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(g.policiesDir, "rules.json"), rules, 0o644); err != nil {
		return fail(err)
	}
	if g.httpAddr, err = freeAddr(); err != nil {
		return fail(err)
	}
	if g.grpcAddr, err = freeAddr(); err != nil {
		return fail(err)
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return fail(err)
	}
	g.token = hex.EncodeToString(tok)
	return g, nil
}

// copyPolicies copies the policy bundle as gatehouse serves it: Rego and data files,
// without Rego tests, testdata/ and examples/ (which the engine does not load either).
func copyPolicies(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if rel != "." && (name == "testdata" || name == "examples" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if strings.HasSuffix(name, "_test.rego") || strings.HasPrefix(name, ".") || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

// freeAddr finds a free loopback port by binding and releasing it; the port stays the
// gatehouse's for the whole suite (restarts reuse it).
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// URL is the base URL Trino's opa access control and the admin API use.
func (g *gatehouse) URL() string { return "http://" + g.httpAddr }

// start launches the server and waits until /health answers 200.
func (g *gatehouse) start() error {
	if g.cmd != nil {
		return errors.New("gatehouse already running")
	}
	logf, err := os.OpenFile(g.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append([]string{"serve",
		"--http-addr", g.httpAddr,
		"--grpc-addr", g.grpcAddr,
		"--data-dir", g.dataDir,
		"--policies-dir", g.policiesDir,
		"--audit-sink", "none", // the store keeps them for the audit API; no need for a copy
		"--log-format", "text",
		"--shutdown-timeout", "5s",
	}, g.extraArgs...)
	cmd := exec.Command(g.bin, args...)
	cmd.Dir = g.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = append(cleanEnv("GATEHOUSE_"), "GATEHOUSE_ADMIN_TOKEN="+g.token)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	setParentDeathSignal(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", g.bin, err)
	}
	g.cmd, g.done = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(g.done)
	}()

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(gatehouseStartTimeout)
	for {
		select {
		case <-g.done:
			g.cmd = nil
			return fmt.Errorf("gatehouse exited during start-up (%v)\n--- %s ---\n%s", cmd.ProcessState, g.logFile, g.logTail(40))
		default:
		}
		if resp, err := client.Get(g.URL() + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			g.stop()
			return fmt.Errorf("gatehouse not healthy within %s\n--- %s ---\n%s", gatehouseStartTimeout, g.logFile, g.logTail(40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM, waits for the graceful shutdown (bounded by --shutdown-timeout),
// and kills the process if it is still there after 20 s.
func (g *gatehouse) stop() {
	if g.cmd == nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(20 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.done
	}
	g.cmd = nil
}

// close stops the server and removes its files.
func (g *gatehouse) close() {
	g.stop()
	os.RemoveAll(g.dir)
}

func (g *gatehouse) logTail(n int) string {
	data, err := os.ReadFile(g.logFile)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", g.logFile, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cleanEnv is the test's environment without variables starting with prefix, so that a
// GATEHOUSE_* setting in the developer's shell cannot change the server under test.
func cleanEnv(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// ---------------------------------------------------------------------------
// Admin REST API (README "Admin API"): how each test seeds the directory.

// call sends one admin request and returns the body; a status other than want fails the
// test with the server's error message.
func (g *gatehouse) call(t testing.TB, method, path string, body any, want int) []byte {
	t.Helper()
	data, status, err := g.do(method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, data)
	}
	return data
}

func (g *gatehouse) do(method, path string, body any) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.URL()+path, rd)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+g.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.api.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return data, resp.StatusCode, err
}

// emailOf is the directory username of a Trino user name: every test user is created with
// this email and the Trino name as its `trino` external id, so the decisions exercise the
// directory's Trino-name mapping.
func emailOf(trinoName string) string { return trinoName + "@e2e.example" }

// userSpec is one directory user to seed.
type userSpec struct {
	permissions []string
	attributes  map[string][]string
	groups      []string
	disabled    bool
}

// createUser creates the directory user for trinoName with its Trino external id, then
// applies spec.
func (g *gatehouse) createUser(t testing.TB, trinoName string, spec userSpec) {
	t.Helper()
	email := emailOf(trinoName)
	g.call(t, "POST", "/api/v1/users", map[string]string{"email": email, "fullName": "e2e " + trinoName}, http.StatusCreated)
	g.call(t, "PUT", "/api/v1/users/"+url.PathEscape(email)+"/external-ids/trino", map[string]string{"username": trinoName}, http.StatusOK)
	for _, p := range spec.permissions {
		g.grant(t, trinoName, p)
	}
	for name, values := range spec.attributes {
		for _, v := range values {
			g.call(t, "POST", "/api/v1/users/"+url.PathEscape(email)+"/attributes", map[string]string{"name": name, "value": v}, http.StatusOK)
		}
	}
	for _, grp := range spec.groups {
		g.call(t, "POST", "/api/v1/groups/"+url.PathEscape(grp)+"/members", map[string]string{"username": email}, http.StatusOK)
	}
	if spec.disabled {
		g.setDisabled(t, trinoName, true)
	}
}

func (g *gatehouse) grant(t testing.TB, trinoName, permission string) {
	t.Helper()
	g.call(t, "POST", "/api/v1/users/"+url.PathEscape(emailOf(trinoName))+"/permissions", map[string]string{"permission": permission}, http.StatusOK)
}

func (g *gatehouse) revoke(t testing.TB, trinoName, permission string) {
	t.Helper()
	g.call(t, "DELETE", "/api/v1/users/"+url.PathEscape(emailOf(trinoName))+"/permissions/"+url.PathEscape(permission), nil, http.StatusOK)
}

func (g *gatehouse) setDisabled(t testing.TB, trinoName string, disabled bool) {
	t.Helper()
	action := ":enable"
	if disabled {
		action = ":disable"
	}
	g.call(t, "POST", "/api/v1/users/"+url.PathEscape(emailOf(trinoName))+action, nil, http.StatusOK)
}

// createGroup creates a group unless it exists (suite fixtures are seeded once, but a
// -count=N run seeds again into the same store).
func (g *gatehouse) createGroup(t testing.TB, name string) {
	t.Helper()
	data, status, err := g.do("POST", "/api/v1/groups", map[string]string{"name": name, "description": "e2e fixture"})
	if err != nil || status != http.StatusCreated && status != http.StatusConflict {
		t.Fatalf("creating group %s: status %d, %v: %s", name, status, err, data)
	}
}

// ---------------------------------------------------------------------------
// Audit API.

// decisionRecord is one decision audit record, with its details decoded (the shape of
// internal/authz.DecisionDetails, restated here because the suite sees only the API).
type decisionRecord struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Actor   string    `json:"actor"`
	Target  string    `json:"target"`
	Details struct {
		Endpoint          string `json:"endpoint"`
		Operation         string `json:"operation"`
		Result            string `json:"result"`
		Target            string `json:"target"`
		ImpersonationUser string `json:"impersonationUser"`
	} `json:"-"`
	Changes json.RawMessage `json:"changes"`
}

func (r decisionRecord) String() string {
	s := fmt.Sprintf("%s %s/%s actor=%s result=%s", r.Time.Format("15:04:05.000"), r.Details.Endpoint, r.Details.Operation, r.Actor, r.Details.Result)
	if r.Details.Target != "" {
		s += " target=" + r.Details.Target
	}
	if r.Details.ImpersonationUser != "" {
		s += " impersonationUser=" + r.Details.ImpersonationUser
	}
	return s
}

// decisions lists the decision audit records whose actor (the Trino user of the request;
// for ImpersonateUser the impersonator) is actor, newest first.
func (g *gatehouse) decisions(t testing.TB, actor string) []decisionRecord {
	t.Helper()
	q := url.Values{"type": {"decision"}, "actor": {actor}, "limit": {"1000"}}
	data := g.call(t, "GET", "/api/v1/audit?"+q.Encode(), nil, http.StatusOK)
	var page struct {
		Records []decisionRecord `json:"records"`
	}
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatalf("decoding the audit page: %v: %s", err, data)
	}
	for i := range page.Records {
		if err := json.Unmarshal(page.Records[i].Changes, &page.Records[i].Details); err != nil {
			t.Fatalf("decoding decision details %s: %v", page.Records[i].Changes, err)
		}
	}
	return page.Records
}

// waitDecisions polls the audit API until ok accepts actor's decision records: decisions
// are audited asynchronously (batched every 100 ms), so a query's records appear shortly
// after its answer. It returns the last list seen.
func (g *gatehouse) waitDecisions(t testing.TB, actor string, ok func([]decisionRecord) bool) []decisionRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := g.decisions(t, actor)
		if ok(recs) || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Prometheus metrics.

// sample is one line of the text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

type metricSet []sample

// metrics scrapes GET /metrics.
func (g *gatehouse) metrics(t testing.TB) metricSet {
	t.Helper()
	resp, err := g.api.Get(g.URL() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	ms, err := parseMetrics(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	return ms
}

// parseMetrics reads the Prometheus text format, enough of it for gatehouse's own series
// (label values without escaped quotes or commas).
func parseMetrics(r io.Reader) (metricSet, error) {
	var ms metricSet
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := sample{labels: map[string]string{}}
		var rest string
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				return nil, fmt.Errorf("bad metrics line %q", line)
			}
			s.name = line[:i]
			for _, kv := range strings.Split(line[i+1:j], ",") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					s.labels[k] = strings.Trim(v, `"`)
				}
			}
			rest = strings.TrimSpace(line[j+1:])
		} else {
			s.name, rest, _ = strings.Cut(line, " ")
		}
		v, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("bad metrics value in %q: %v", line, err)
		}
		s.value = f
		ms = append(ms, s)
	}
	return ms, sc.Err()
}

// sum adds the samples of name whose labels include every key/value of match.
func (ms metricSet) sum(name string, match map[string]string) float64 {
	var total float64
	for _, s := range ms {
		if s.name != name {
			continue
		}
		ok := true
		for k, v := range match {
			if s.labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			total += s.value
		}
	}
	return total
}

// decisionsFor sums gatehouse_decisions_total for one endpoint and operation over all results.
func (ms metricSet) decisionsFor(endpoint, operation string) float64 {
	m := map[string]string{"endpoint": endpoint}
	if operation != "" {
		m["operation"] = operation
	}
	return ms.sum("gatehouse_decisions_total", m)
}
