// Command gateway measures what `gatehouse gateway` costs a large result: the
// same tpch scan, read whole by a client, directly from a Trino coordinator and
// through the gateway in front of it, alternately, several times each.
//
// It starts everything itself on loopback ports: gatehouse (built from the
// tree, shipped policies, a fresh store), a Trino 476 coordinator asking it
// for decisions (test/e2e/trinotest; run test/e2e/fetch-trino.sh once), and a
// gateway in front of the coordinator. From the repository root:
//
//	go run ./bench/gateway -rows 1000000 -runs 5
//
// Two clients read the result: trino-go-client scanning every row (what an
// application pays), and a bare protocol client that follows nextUri and
// discards the pages (so that the client's own decoding hides nothing of the
// gateway's cost); trino-go-client runs both with Go's default transport,
// which asks for gzip, and with compression off (see run). The gateway session impersonates another user, so every
// query also pays for the impersonation (a SessionService.Resolve call and
// Trino's extra ImpersonateUser check). Results go to stdout as a Markdown
// table for docs/performance.md.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/trinodb/trino-go-client/trino"

	"github.com/gatehouse-authz/gatehouse/test/e2e/trinotest"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows the scan returns")
	runs := flag.Int("runs", 5, "measured runs per path and client (after one warm-up run each)")
	table := flag.String("table", "tpch.sf1.orders", "tpch table to scan (must have at least -rows rows)")
	flag.Parse()
	if err := run(*rows, *runs, *table); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// proc is a subprocess stopped by stop.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func start(dir, logName string, name string, args ...string) (*proc, error) {
	logf, err := os.Create(filepath.Join(dir, logName))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	return p, nil
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitHTTP(url string, ok func(*http.Response) bool) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(url); err == nil {
			good := ok(resp)
			resp.Body.Close()
			if good {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not come up", url)
}

func run(rows, runs int, table string) error {
	dir, err := os.MkdirTemp("", "gatehouse-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "gatehouse")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/gatehouse").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}

	// gatehouse, with the shipped policies: directory users may read tpch.
	httpAddr, grpcAddr := freeAddr(), freeAddr()
	tokb := make([]byte, 16)
	_, _ = rand.Read(tokb)
	token := hex.EncodeToString(tokb)
	gh, err := start(dir, "gatehouse.log", bin, "serve", "--http-addr", httpAddr, "--grpc-addr", grpcAddr,
		"--data-dir", filepath.Join(dir, "data"), "--policies-dir", "policies", "--audit-sink", "none",
		"--admin-token", token, "--log-format", "text")
	if err != nil {
		return err
	}
	defer gh.stop()
	ghURL := "http://" + httpAddr
	if err := waitHTTP(ghURL+"/health", func(r *http.Response) bool { return r.StatusCode == 200 }); err != nil {
		return err
	}
	for _, req := range []struct {
		path string
		body any
	}{
		{"/api/v1/users", map[string]string{"email": "svc@bench.example", "fullName": "bench service"}},
		{"/api/v1/users", map[string]string{"email": "alice@bench.example", "fullName": "bench viewer"}},
		{"/api/v1/users/svc@bench.example/permissions", map[string]string{"permission": "IMPERSONATE_USER"}},
		{"/api/v1/users/svc@bench.example/external-ids/trino", map[string]string{"username": "svc"}},
		{"/api/v1/users/alice@bench.example/external-ids/trino", map[string]string{"username": "alice"}},
	} {
		method := "POST"
		if strings.Contains(req.path, "external-ids") {
			method = "PUT"
		}
		b, _ := json.Marshal(req.body)
		r, _ := http.NewRequest(method, ghURL+req.path, bytes.NewReader(b))
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %s %s", method, req.path, resp.Status, body)
		}
	}

	tr, err := trinotest.Launch(trinotest.Options{GatehouseURL: ghURL}, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
	if err != nil {
		return err
	}
	defer tr.Stop()

	gwAddr := freeAddr()
	gw, err := start(dir, "gateway.log", bin, "gateway", "--gateway-addr", gwAddr, "--trino-url", tr.URL,
		"--gateway-resolver-addr", grpcAddr, "--log-format", "text")
	if err != nil {
		return err
	}
	defer gw.stop()
	gwURL := "http://" + gwAddr
	if err := waitHTTP(gwURL+"/v1/info", func(r *http.Response) bool { return r.StatusCode == 200 }); err != nil {
		return err
	}

	query := fmt.Sprintf("SELECT * FROM %s LIMIT %d", table, rows)
	type path struct {
		name, url string
		session   string // X-Trino-Session
		user      string // X-Trino-User: direct runs read as alice, as the gateway runs do
	}
	paths := []path{
		{"direct", tr.URL, "", "alice"},
		{"gateway", gwURL, "gatehouse.impersonate_user=alice", "svc"},
	}
	// Go's transport asks for gzip by default and Trino then compresses its
	// pages; the gateway reads pages uncompressed (it rewrites them as they
	// stream) and does not compress its own answers. So "gzip" compares what
	// a default client gets on each path, and "identity" compares the same
	// bytes on the wire: the proxy's own cost.
	identity := &http.Transport{DisableCompression: true}
	clients := []struct {
		name string
		read func(ctx context.Context, p path) (int, error)
	}{
		{"trino-go-client, gzip", func(ctx context.Context, p path) (int, error) {
			return goClient(ctx, http.DefaultTransport, p.url, p.user, p.session, query)
		}},
		{"trino-go-client, identity", func(ctx context.Context, p path) (int, error) {
			return goClient(ctx, identity, p.url, p.user, p.session, query)
		}},
		{"raw protocol, identity", func(ctx context.Context, p path) (int, error) {
			return rawClient(ctx, identity, p.url, p.user, p.session, query)
		}},
	}

	fmt.Fprintf(os.Stderr, "scanning %q, %d runs per path and client\n", query, runs)
	loadStart := loadAvg()
	ctx := context.Background()
	results := map[string][]time.Duration{}
	for _, c := range clients {
		for i := -1; i < runs; i++ { // run -1 warms up
			for _, p := range paths {
				began := time.Now()
				n, err := c.read(ctx, p)
				d := time.Since(began)
				if err != nil {
					return fmt.Errorf("%s via %s: %w", c.name, p.name, err)
				}
				if n != rows {
					return fmt.Errorf("%s via %s: %d rows, want %d", c.name, p.name, n, rows)
				}
				fmt.Fprintf(os.Stderr, "  %-16s %-8s run %2d: %s\n", c.name, p.name, i, d.Round(time.Millisecond))
				if i >= 0 {
					results[c.name+"/"+p.name] = append(results[c.name+"/"+p.name], d)
				}
			}
		}
	}

	fmt.Printf("Scan: `%s` (%d rows), %d runs per cell after one warm-up, direct and gateway alternating; %d CPUs, %s/%s, Trino %s; load average %s at the start, %s at the end.\n\n",
		query, rows, runs, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, trinotest.Version, loadStart, loadAvg())
	fmt.Println("| client | path | median | min | max | gateway overhead (median) |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, c := range clients {
		direct := stats(results[c.name+"/direct"])
		for _, p := range paths {
			s := stats(results[c.name+"/"+p.name])
			over := "—"
			if p.name == "gateway" {
				over = fmt.Sprintf("%+.1f%%", 100*(s.median.Seconds()/direct.median.Seconds()-1))
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", c.name, p.name, s.median.Round(time.Millisecond), s.min.Round(time.Millisecond), s.max.Round(time.Millisecond), over)
		}
	}
	return nil
}

// loadAvg is the 1-minute load average (Linux), to show how busy the machine
// was: other work on the same cores makes runs slower and noisier.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}

type summary struct{ median, min, max time.Duration }

func stats(ds []time.Duration) summary {
	s := slices.Clone(ds)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{m, s[0], s[len(s)-1]}
}

// basicAuth authenticates as svc on every request: the direct runs then ask
// Trino for alice through X-Trino-User (ImpersonateUser svc → alice), exactly
// the checks the gateway's runs cause.
type basicAuth struct {
	user string
	next http.RoundTripper
}

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, "")
	return b.next.RoundTrip(r)
}

var clientSeq int

// goClient reads the result with trino-go-client, scanning every value.
func goClient(ctx context.Context, rt http.RoundTripper, base, user, sessionProps, query string) (int, error) {
	clientSeq++
	name := fmt.Sprintf("bench-%d", clientSeq)
	if err := trino.RegisterCustomClient(name, &http.Client{Transport: basicAuth{"svc", rt}}); err != nil {
		return 0, err
	}
	defer trino.DeregisterCustomClient(name)
	q := url.Values{"custom_client": {name}}
	if sessionProps != "" {
		q.Set("session_properties", strings.Replace(sessionProps, "=", ":", 1))
	}
	db, err := sql.Open("trino", (&url.URL{Scheme: "http", User: url.User("svc"), Host: strings.TrimPrefix(base, "http://"), RawQuery: q.Encode()}).String())
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var args []any
	if user != "svc" {
		args = append(args, sql.Named("X-Trino-User", user))
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// rawClient follows nextUri with net/http and counts rows, decoding only the
// page envelope: the least a client can do.
func rawClient(ctx context.Context, rt http.RoundTripper, base, user, sessionProps, query string) (int, error) {
	client := &http.Client{Transport: basicAuth{"svc", rt}}
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/statement", strings.NewReader(query))
	req.Header.Set("X-Trino-User", user)
	if sessionProps != "" {
		req.Header.Set("X-Trino-Session", sessionProps)
	}
	n := 0
	for {
		resp, err := client.Do(req)
		if err != nil {
			return n, err
		}
		var page struct {
			NextURI string            `json:"nextUri"`
			Data    []json.RawMessage `json:"data"`
			Error   *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return n, fmt.Errorf("page: %s: %w", resp.Status, err)
		}
		if page.Error != nil {
			return n, errors.New(page.Error.Message)
		}
		n += len(page.Data)
		if page.NextURI == "" {
			return n, nil
		}
		req, _ = http.NewRequestWithContext(ctx, "GET", page.NextURI, nil)
		if sessionProps != "" {
			req.Header.Set("X-Trino-Session", sessionProps)
		}
	}
}
