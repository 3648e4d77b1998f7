// Command decisions measures gatehouse side by side with stock OPA v1.22.0
// on identical work, in one run on one machine (issue 7), and writes the
// results into docs/performance.md:
//
//	go run ./bench/decisions                             # report on stdout
//	go run ./bench/decisions -write docs/performance.md  # or: make bench
//	go run ./bench/decisions -quick                      # smoke run, ~1 minute
//
// In order: build gatehouse from the tree and make sure stock OPA is in
// .cache/bin; seed a fresh embedded store with a 100,000-user directory
// (the model of internal/trino's in-process benchmarks); write a policy
// directory of the tree's Rego with generated rules for 1,000 tables;
// export the directory with `gatehouse data export`; then start gatehouse,
// run the scenarios, stop it, start `opa run -s` on the same policies and
// data, run the same scenarios with the very same requests, stop it. The
// two never run at the same time. Every figure of the report comes from
// this run; raw results go to .cache/bench/results-<time>.json.
//
// The load generator is open loop (fixed schedule, latency from the due
// time: no coordinated omission) or closed loop (N workers back to back);
// see loadgen.go. It shares the cores with the server it measures, so it
// is kept cheap: bodies encoded beforehand, raw HTTP/1.1 keep-alive
// connections, HDR histograms per worker.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is what the flags say.
type config struct {
	write         string
	generatorNice int
	quick         bool
	scale         float64
	only          map[string]bool
	profile       bool
	// batchRequests overrides plan.SeqRequests when > 0.
	batchRequests int
	// floorSpin is CPU the null server burns per decision (diagnostics).
	floorSpin time.Duration
	keep      bool
	users     int
	rate      int64
	conns     int
	// Diagnostics, not for the report: skip OPA, and extra environment
	// for gatehouse (e.g. GODEBUG=gctrace=1, into gatehouse.log).
	noOPA        bool
	gatehouseEnv []string
}

// plan is the run's shape: phase lengths, request counts, concurrency.
type plan struct {
	Users, Groups int
	Rate          int64 // open-loop requests per second
	ClosedConns   int   // closed-loop workers (= connections), the same for both servers
	OpenConns     int   // open-loop connection pool
	Warmup        time.Duration
	Closed        time.Duration
	Open          time.Duration
	Impersonation time.Duration
	Visibility    time.Duration
	Pause         time.Duration // idle between phases
	Grace         time.Duration // open loop: how long after the last due time requests may still go out
	Timeout       time.Duration // per request
	SeqWarm       int           // FilterTables / masks requests sent first, not measured
	SeqRequests   int           // FilterTables / masks requests measured
	SeqBudget     time.Duration // at most this long per sequential phase
	Writes        int           // admin writes in the visibility scenario
	// ClosedRate sizes the closed loop's pre-encoded sequence: enough for
	// this many requests per second for the phase's length.
	ClosedRate int
}

func newPlan(c config) plan {
	p := plan{
		Users: c.users, Groups: max(c.users/10, 1), Rate: c.rate, ClosedConns: c.conns, OpenConns: 32,
		Warmup: 3 * time.Second, Closed: 15 * time.Second, Open: 20 * time.Second,
		Impersonation: 10 * time.Second, Visibility: 12 * time.Second,
		Pause: time.Second, Grace: 5 * time.Second, Timeout: 60 * time.Second,
		SeqWarm: 3, SeqRequests: 30, SeqBudget: 90 * time.Second, Writes: 20, ClosedRate: 16000,
	}
	if c.quick {
		p.Warmup, p.Closed, p.Open, p.Impersonation, p.Visibility = time.Second/2, 2*time.Second, 2*time.Second, 2*time.Second, 2*time.Second
		p.Pause, p.Grace, p.SeqWarm, p.SeqRequests, p.SeqBudget = time.Second/5, 2*time.Second, 1, 5, 20*time.Second
	}
	if c.batchRequests > 0 {
		p.SeqRequests = c.batchRequests
	}
	for _, d := range []*time.Duration{&p.Warmup, &p.Closed, &p.Open, &p.Impersonation, &p.Visibility, &p.SeqBudget} {
		*d = max(time.Duration(float64(*d)*c.scale).Round(time.Second/10), time.Second/2)
	}
	return p
}

func (p plan) closedRequests() int { return int(float64(p.ClosedRate)*p.Closed.Seconds()) + 1000 }

func (p plan) profileSeconds() int { return max(1, min(10, int(p.Open.Seconds()))) }

// MarshalJSON writes durations as Go duration strings.
func (p plan) MarshalJSON() ([]byte, error) {
	type alias plan
	m := map[string]any{}
	b, err := json.Marshal(alias(p))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range map[string]time.Duration{"Warmup": p.Warmup, "Closed": p.Closed, "Open": p.Open, "Impersonation": p.Impersonation,
		"Visibility": p.Visibility, "Pause": p.Pause, "Grace": p.Grace, "Timeout": p.Timeout, "SeqBudget": p.SeqBudget} {
		m[k] = v.String()
	}
	return json.Marshal(m)
}

func main() {
	if addr := os.Getenv(nullServerEnv); addr != "" {
		fmt.Fprintln(os.Stderr, serveNull(addr))
		os.Exit(1)
	}
	var c config
	flag.StringVar(&c.write, "write", "", "also put the report into this file's bench:decisions section (e.g. docs/performance.md); default: stdout only")
	flag.BoolVar(&c.quick, "quick", false, "short smoke run: 1,000 users, 2 s phases, 5 batch requests (numbers not comparable)")
	flag.Float64Var(&c.scale, "duration", 1, "scale every timed phase by this factor")
	only := flag.String("only", strings.Join(allScenarios, ","), "comma-separated scenarios to run, of: "+strings.Join(allScenarios, ", "))
	flag.BoolVar(&c.profile, "profile", false, "take a CPU profile of gatehouse (pprof, up to 10 s) during the allow-mix open loop (without the allow mix: from the start of the FilterTables phase), into .cache/bench/")
	flag.IntVar(&c.batchRequests, "batch-requests", 0, "measured FilterTables and batchColumnMasks requests (default 30; -quick 5)")
	flag.DurationVar(&c.floorSpin, "floor-spin", 0, "diagnostics: the floor's null server spins this long on the CPU per decision (e.g. 90us, a decision's CPU), to tell CPU load from the rest")
	flag.BoolVar(&c.keep, "keep", false, "keep the run's store, data.json and policies under .cache/bench/run-<time>/")
	flag.IntVar(&c.users, "users", 100_000, "directory users (groups: a tenth as many); -quick sets 1,000")
	flag.Int64Var(&c.rate, "rate", 5000, "open-loop rate, requests per second")
	flag.IntVar(&c.conns, "conns", 8, "closed-loop connections (concurrent queries), the same for both servers")
	flag.BoolVar(&c.noOPA, "no-opa", false, "diagnostics: run gatehouse only (no side by side; do not -write)")
	flag.IntVar(&c.generatorNice, "generator-nice", generatorNice, "the generator's nice (root only to go below 0); the servers run at 0")
	gEnv := flag.String("gatehouse-env", "", "diagnostics: extra NAME=value pairs, space-separated, for gatehouse's environment (e.g. GODEBUG=gctrace=1; see the run's gatehouse.log with -keep)")
	flag.Parse()
	c.gatehouseEnv = strings.Fields(*gEnv)
	if c.noOPA && c.write != "" {
		fmt.Fprintln(os.Stderr, "decisions: -no-opa makes no side-by-side report; drop -write")
		os.Exit(2)
	}
	if c.quick && !flagSet("users") {
		c.users = 1000
	}
	c.only = map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(allScenarios, s) {
			fmt.Fprintf(os.Stderr, "decisions: unknown scenario %q (have %s)\n", s, strings.Join(allScenarios, ", "))
			os.Exit(2)
		}
		c.only[s] = true
	}
	if c.scale <= 0 || c.users < 100 || c.rate < 1 || c.conns < 1 || len(c.only) == 0 {
		fmt.Fprintln(os.Stderr, "decisions: -duration, -users (≥ 100), -rate, -conns must be positive and -only must name a scenario")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "decisions:", err)
		os.Exit(1)
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// results is the run's raw record (the JSON file).
type results struct {
	Started   time.Time     `json:"started"`
	Command   string        `json:"command"`
	Quick     bool          `json:"quick"`
	Scenarios []string      `json:"scenarios"`
	Plan      plan          `json:"plan"`
	Machine   machine       `json:"machine"`
	Directory seedStats     `json:"directory"`
	Rules     rulesInfo     `json:"rules"`
	DataBytes int64         `json:"data_json_bytes"`
	Gatehouse *targetResult `json:"gatehouse,omitempty"`
	// Floor is the allow mix's open loop against a null server (floor.go).
	Floor     *phaseResult         `json:"floor,omitempty"`
	OPA       *targetResult        `json:"opa,omitempty"`
	Agreement map[string]agreement `json:"agreement,omitempty"`
	Targets   []targetCheck        `json:"targets"`
	Seconds   float64              `json:"total_seconds"`
	// GeneratorNice is the harness's scheduling priority (servers run at 0).
	GeneratorNice int `json:"generator_nice"`
}

// rulesInfo sizes the generated rules.
type rulesInfo struct {
	Tables     int `json:"tables_with_rules"`
	TableRules int `json:"table_rules"`
	GroupRules int `json:"group_restricted"`
	MaskRules  int `json:"masking"`
	FilterRule int `json:"row_filtering"`
}

func describeRules(d rulesDoc) rulesInfo {
	ri := rulesInfo{Tables: ruleTables, TableRules: len(d.Tables)}
	for _, r := range d.Tables {
		if _, ok := r["group"]; ok {
			ri.GroupRules++
		}
		if _, ok := r["columns"]; ok {
			ri.MaskRules++
		}
		if _, ok := r["filter"]; ok {
			ri.FilterRule++
		}
	}
	return ri
}

func run(ctx context.Context, c config) (err error) {
	began := time.Now()
	debug.SetGCPercent(400) // the generator's heap is mostly request bodies; collect rarely
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "gatehouse")); err != nil {
		return errors.New("run from the repository root (go run ./bench/decisions)")
	}
	p := newPlan(c)
	m := dirModel{users: p.Users, groups: p.Groups}
	stamp := began.Format("20060102-150405")
	benchDir := filepath.Join(root, ".cache", "bench")
	runDir := filepath.Join(benchDir, "run-"+stamp)
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return err
	}
	if !c.keep {
		defer func() {
			for _, f := range []string{"store", "data.json", "policies"} {
				os.RemoveAll(filepath.Join(runDir, f))
			}
		}()
	}
	res := &results{Started: began, Command: command(), Quick: c.quick, Plan: p, Machine: describeMachine(), Agreement: map[string]agreement{}}
	for _, s := range allScenarios {
		if c.only[s] {
			res.Scenarios = append(res.Scenarios, s)
		}
	}
	logf := func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, "[%5.1fs] "+f+"\n", append([]any{time.Since(began).Seconds()}, a...)...)
	}
	if load1, _ := strconv.ParseFloat(strings.Fields(res.Machine.LoadBefore + " 0")[0], 64); load1 > 0.5*float64(runtime.NumCPU()) {
		logf("warning: load average %s before the run: the machine is not idle, figures will be noisy", res.Machine.LoadBefore)
	}

	// 1. Build.
	res.Machine.Gatehouse = gitDescribe(ctx, root)
	logf("building gatehouse %s into %s", res.Machine.Gatehouse, benchDir)
	bin, err := buildGatehouse(ctx, root, benchDir, res.Machine.Gatehouse)
	if err != nil {
		return err
	}
	opa, err := ensureOPA(ctx, root)
	if err != nil {
		return err
	}
	if res.Machine.OPAVersion, err = opaBinaryVersion(ctx, opa); err != nil {
		return err
	}

	// 2. Directory.
	storeDir := filepath.Join(runDir, "store")
	logf("seeding %d users, %d groups into %s", m.users, m.groups, storeDir)
	if res.Directory, err = seedStore(ctx, storeDir, m); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	logf("seeded in %.1f s", res.Directory.Seconds)

	// 3. Rules and policies.
	rules := generateRules(ruleTables)
	res.Rules = describeRules(rules)
	polDir := filepath.Join(runDir, "policies")
	if err := writePolicies(filepath.Join(root, "policies"), polDir, rules); err != nil {
		return err
	}

	// The OPA data file, exported now: the directory exactly as seeded.
	env := cleanEnv()
	dataFile := filepath.Join(runDir, "data.json")
	needOPA := !c.noOPA && (c.only[scAllow] || c.only[scFilter] || c.only[scMasks] || c.only[scImpersonate])
	if needOPA {
		logf("exporting the directory with gatehouse data export")
		if err := exportData(ctx, bin, storeDir, dataFile, env); err != nil {
			return err
		}
		if st, err := os.Stat(dataFile); err == nil {
			res.DataBytes = st.Size()
		}
	}

	// The seeded store and the exported data file are still dirty pages:
	// the kernel writes them back ~30 s after they were written, which would
	// be in the middle of the loops (the export's ~30 MB landed in
	// gatehouse's). Write them now.
	logf("flushing the seeded store and data file to disk")
	syscall.Sync()

	logf("encoding requests")
	w := buildWorkload(m, p, c.only)
	runtime.GC()
	// From here on the harness only generates load, and one P is plenty
	// for it. With one, a request handed from the dispatcher to a worker
	// stays on the same thread and the idle thread waits in epoll, which
	// the precise timer wakes at once: the generator's own lateness fell
	// from ~1.2 ms to ~0.1 ms at p99 (5,000 req/s against a trivial
	// server), and it no longer wakes idle threads for every request.
	runtime.GOMAXPROCS(1)
	res.GeneratorNice = raisePriority(c.generatorNice)
	logf("generator at nice %d, servers at 0", res.GeneratorNice)

	// The floor, first: what the open loop costs before any decision.
	if c.only[scAllow] {
		if res.Floor, err = runFloor(ctx, p, w, runDir, env, c.floorSpin, res.GeneratorNice, logf); err != nil {
			return err
		}
	}
	// 4–6. gatehouse.
	if res.Gatehouse, err = runGatehouse(ctx, c, p, m, w, bin, storeDir, polDir, runDir, benchDir, stamp, env, res.GeneratorNice, logf); err != nil {
		return fmt.Errorf("gatehouse: %w", err)
	}
	// 4–6. OPA, after gatehouse has stopped.
	if needOPA {
		if res.OPA, err = runOPA(ctx, p, w, opa, polDir, dataFile, runDir, env, c.only, res.GeneratorNice, logf); err != nil {
			return fmt.Errorf("opa: %w", err)
		}
		for key, g := range res.Gatehouse.Phases {
			if o := res.OPA.Phases[key]; o != nil {
				res.Agreement[key] = compareDigests(g.digests, o.digests)
			}
		}
	}
	res.Machine.LoadAfter = loadAverage()
	res.Seconds = time.Since(began).Seconds()

	// 7. Report.
	res.Targets = checkTargets(res)
	jsonPath := filepath.Join(benchDir, "results-"+stamp+".json")
	if err := writeJSON(jsonPath, res); err != nil {
		return err
	}
	md := renderReport(res)
	fmt.Print(md)
	logf("raw results: %s", jsonPath)
	if c.write != "" {
		if err := writeSection(c.write, md); err != nil {
			return err
		}
		logf("report written into %s", c.write)
	}
	return nil
}

func runGatehouse(ctx context.Context, c config, p plan, m dirModel, w *workload, bin, storeDir, polDir, runDir, benchDir, stamp string,
	env []string, nice int, logf func(string, ...any)) (*targetResult, error) {
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	grpcAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	debugAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 24)
	_, _ = rand.Read(tok)
	token := hex.EncodeToString(tok)
	logf("starting gatehouse on %s (pprof on %s)", httpAddr, debugAddr)
	name, args := atNormalPriority(nice, bin, []string{"serve", "--http-addr", httpAddr, "--grpc-addr", grpcAddr, "--debug-addr", debugAddr,
		"--data-dir", storeDir, "--policies-dir", polDir, "--audit-sink", "none", "--log-format", "text"})
	srv, err := startServer(ctx, "gatehouse", httpAddr, filepath.Join(runDir, "gatehouse.log"), name, args,
		append(append(slices.Clone(env), c.gatehouseEnv...), "GATEHOUSE_ADMIN_TOKEN="+token))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	logf("gatehouse healthy after %.2f s", srv.startup.Seconds())
	var prof *profiler
	if c.profile && (c.only[scAllow] || c.only[scFilter]) {
		prof = &profiler{debugAddr: debugAddr, dir: benchDir, stamp: stamp}
	}
	tr, err := runScenarios(ctx, srv, w, p, c.only, prof)
	if err != nil {
		return tr, err
	}
	if tr.Profile != "" {
		logf("CPU profile of gatehouse: %s (go tool pprof -http : %s %s)", tr.Profile, bin, tr.Profile)
	}
	if c.only[scVisibility] {
		meter := startCPU(srv.cmd.Process.Pid)
		vr, load, err := measureVisibility(ctx, srv, token, m, w, p)
		meter.stopInto(&load)
		tr.Visibility = vr
		tr.Phases[phWritesLoaded] = &load
		if err != nil {
			return tr, err
		}
		if tr.MemEnd, err = srv.memory(); err != nil {
			return tr, err
		}
	}
	return tr, nil
}

func runOPA(ctx context.Context, p plan, w *workload, opa, polDir, dataFile, runDir string, env []string, only map[string]bool,
	nice int, logf func(string, ...any)) (*targetResult, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logf("starting opa run -s on %s", addr)
	// --skip-version-check: stock OPA would otherwise ask GitHub for its
	// latest release at start (this machine has no network); it changes
	// nothing else.
	name, args := atNormalPriority(nice, opa, []string{"run", "-s", "--addr", addr, "--log-level", "error", "--skip-version-check", polDir, dataFile})
	srv, err := startServer(ctx, "opa", addr, filepath.Join(runDir, "opa.log"), name, args, env)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	logf("opa healthy after %.2f s", srv.startup.Seconds())
	onlyOPA := map[string]bool{}
	for k, v := range only {
		onlyOPA[k] = v && k != scVisibility
	}
	return runScenarios(ctx, srv, w, p, onlyOPA, nil)
}

// command is how the run was started, as the report quotes it.
func command() string {
	args := append([]string{"go", "run", "./bench/decisions"}, os.Args[1:]...)
	return strings.Join(args, " ")
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
