// Package trinotest starts a real single-node Trino 476 coordinator for end-to-end tests.
//
// The point of the e2e suite is to test gatehouse against what Trino actually sends and how
// it actually reacts to answers, so it runs the real server rather than replaying fixtures.
// The server comes from test/e2e/fetch-trino.sh, which extracts it (bin/, lib/ and the opa,
// memory and tpch plugins only) into <repo>/.cache/trino/trino-server-476. Start fails the
// test, rather than skipping it, when the server or a Java 24+ runtime is missing: a silently
// skipped e2e suite looks exactly like a passing one.
//
// Each Start gets its own etc/ and data directory in t.TempDir(), a free loopback port and
// its own process group, so tests may run coordinators in parallel (memory permitting: each
// JVM is capped at 1 GB of heap by default).
//
// Launch starts one tied to no test instead, for a package whose tests share a coordinator
// (started once, stopped after m.Run in TestMain): start-up is an e2e test's largest fixed cost.
//
// Start-up time is the cost every e2e test pays, so the JVM is tuned for it: C1-only JIT
// (-XX:TieredStopAtLevel=1) and a JDK 25 AOT cache (JEP 483/514) of Trino's class loading and
// linking, trained by the first coordinator that runs on a machine and reused afterwards
// (see aot.go). Set TRINOTEST_AOT=off to disable the cache.
//
// The package needs only the standard library; which client talks to the coordinator is up
// to the caller (the e2e tests use trino-go-client, see ../trinoclient_test.go).
package trinotest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Version is the Trino release this package runs. 476 is the newest release whose server is
// on Maven Central; fetch-trino.sh pins its checksum.
const Version = "476"

// DefaultStartTimeout bounds the wait for the coordinator to report "starting": false.
const DefaultStartTimeout = 180 * time.Second

// Options configures one coordinator. The zero value gives a coordinator with the memory
// and tpch catalogs and Trino's default (allow-all) access control.
type Options struct {
	// GatehouseURL is the base URL of the OPA-protocol decision server (gatehouse or a
	// fake), e.g. "http://127.0.0.1:8181". When set, Trino uses its opa access control with
	// all five decision URIs under <GatehouseURL>/v1/data/trino/.
	GatehouseURL string
	// AccessControl adds to or overrides etc/access-control.properties. An empty value
	// removes the key, e.g. {"opa.policy.batched-uri": ""} exercises Trino's unbatched path.
	AccessControl map[string]string
	// Config adds to or overrides etc/config.properties.
	Config map[string]string
	// Catalogs adds catalogs (name → properties, including connector.name) next to memory
	// and tpch; a catalog of the same name replaces the built-in one.
	Catalogs map[string]map[string]string
	// LogLevels, if set, becomes etc/log.properties, e.g. {"io.trino.plugin.opa": "DEBUG"}.
	LogLevels map[string]string
	// JVMOptions are appended to etc/jvm.config; HotSpot lets later flags win, so
	// "-Xmx2G" or "-XX:TieredStopAtLevel=4" override the defaults.
	JVMOptions []string
	// StartTimeout bounds start-up; zero means DefaultStartTimeout.
	StartTimeout time.Duration
}

// Coordinator is a running Trino coordinator. It is stopped by t.Cleanup.
type Coordinator struct {
	// URL is the coordinator's HTTP base URL, e.g. "http://127.0.0.1:41234".
	URL string
	// Dir holds etc/, data/ and the log; it is removed after the test.
	Dir string
	// LogFile receives the coordinator's stdout and stderr.
	LogFile string
	// StartupTime is the time from launching the process to "starting": false.
	StartupTime time.Duration

	proc *process
	aot  *aotPlan
}

// Start launches a coordinator and waits until it accepts queries. It fails the test (with
// the tail of Trino's log) if the server is missing or does not come up in time.
func Start(t testing.TB, opts Options) *Coordinator {
	t.Helper()
	serverDir, err := ServerDir()
	if err != nil {
		t.Fatal(err)
	}
	javaHome, err := JavaHome()
	if err != nil {
		t.Fatal(err)
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	dir := t.TempDir()

	// The free port is found by binding and closing it, so another process may grab it
	// before Trino binds; a bind failure is retried with a new port.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		c, err := start(t, serverDir, javaHome, filepath.Join(dir, fmt.Sprintf("run%d", attempt)), opts, timeout)
		if err == nil {
			return c
		}
		if errors.Is(err, errPortInUse) && attempt < attempts {
			t.Logf("trinotest: %v; retrying with another port", err)
			continue
		}
		t.Fatal(err)
	}
}

var errPortInUse = errors.New("trino could not bind its HTTP port")

func start(t env, serverDir, javaHome, dir string, opts Options, timeout time.Duration) (*Coordinator, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	etcDir := filepath.Join(dir, "etc")
	dataDir := filepath.Join(dir, "data")
	jvmFlags := jvmOptions(opts.JVMOptions)
	aot := planAOT(t, serverDir, javaHome, jvmFlags)
	if err := writeEtc(etcDir, dataDir, port, slices.Concat(jvmFlags, aot.flags), opts); err != nil {
		aot.abandon()
		return nil, err
	}

	c := &Coordinator{URL: base, Dir: dir, LogFile: filepath.Join(dir, "trino.log"), aot: aot}
	aot.log = c.LogFile
	launcher := filepath.Join(serverDir, "bin", "launcher")
	began := time.Now()
	c.proc, err = startProcess(launcher, []string{"run", "--etc-dir", etcDir}, javaHome, dataDir, c.LogFile)
	if err != nil {
		aot.abandon()
		return nil, fmt.Errorf("trinotest: launching %s: %w", launcher, err)
	}
	t.Cleanup(c.stop)

	if err := c.waitReady(timeout); err != nil {
		c.stop()
		tail := c.LogTail(80)
		if strings.Contains(tail, "BindException") || strings.Contains(tail, "Address already in use") {
			return nil, fmt.Errorf("%w %d", errPortInUse, port)
		}
		return nil, fmt.Errorf("trinotest: %w\n--- last lines of %s ---\n%s", err, c.LogFile, tail)
	}
	c.StartupTime = time.Since(began)
	t.Logf("trinotest: Trino %s ready at %s in %s (%s)", Version, c.URL, c.StartupTime.Round(10*time.Millisecond), aot.describe())
	return c, nil
}

// waitReady polls GET /v1/info until it reports "starting": false, the process exits, or
// the timeout passes.
func (c *Coordinator) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-c.proc.done:
			return fmt.Errorf("trino exited before it was ready: %v", c.proc.err)
		default:
		}
		if starting, err := c.starting(client); err == nil && !starting {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("trino did not report \"starting\": false within %s", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Coordinator) starting(client *http.Client) (bool, error) {
	resp, err := client.Get(c.URL + "/v1/info")
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return true, fmt.Errorf("GET /v1/info: %s", resp.Status)
	}
	var info struct {
		Starting *bool `json:"starting"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return true, err
	}
	if info.Starting == nil {
		return true, errors.New(`GET /v1/info: no "starting" field`)
	}
	return *info.Starting, nil
}

// stop ends the coordinator: gracefully when an AOT cache is being trained (the JVM writes
// it while exiting), otherwise with a short grace period, and always waits for the process
// so that t.TempDir's removal does not race with a JVM still writing into it.
func (c *Coordinator) stop() {
	if c.proc == nil {
		return
	}
	grace := 5 * time.Second
	if c.aot.training() {
		grace = 3 * time.Minute
	}
	clean := c.proc.stop(grace)
	c.aot.finish(clean)
	c.proc = nil
}

// LogTail returns the last n lines of the coordinator's log.
func (c *Coordinator) LogTail(n int) string {
	data, err := os.ReadFile(c.LogFile)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", c.LogFile, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ServerDir returns the extracted Trino server: $TRINO_HOME if set, else
// <repo>/.cache/trino/trino-server-476 as written by test/e2e/fetch-trino.sh.
func ServerDir() (string, error) {
	hint := "run test/e2e/fetch-trino.sh from the repository root (it needs mvn and Maven Central), or set TRINO_HOME to an extracted trino-server-" + Version
	dir := os.Getenv("TRINO_HOME")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", fmt.Errorf("trinotest: cannot find the repository root (%v); %s", err, hint)
		}
		dir = filepath.Join(root, ".cache", "trino", "trino-server-"+Version)
		if _, err := os.Stat(filepath.Join(dir, ".gatehouse-fetched")); err != nil {
			return "", fmt.Errorf("trinotest: Trino %s is not fetched (no %s): %s", Version, filepath.Join(dir, ".gatehouse-fetched"), hint)
		}
	}
	for _, need := range []string{"bin/launcher", "lib/io.trino_trino-main-" + Version + ".jar", "plugin/opa", "plugin/memory", "plugin/tpch"} {
		if _, err := os.Stat(filepath.Join(dir, need)); err != nil {
			return "", fmt.Errorf("trinotest: Trino server at %s is incomplete (%v): %s", dir, err, hint)
		}
	}
	return dir, nil
}

// JavaHome returns the JDK to run Trino with: $TRINO_JAVA_HOME if set, else the newest
// /usr/lib/jvm/temurin-25*. Trino 476 needs Java 24+, while the machines' default java is 17.
func JavaHome() (string, error) {
	if dir := os.Getenv("TRINO_JAVA_HOME"); dir != "" {
		if !isExecutable(filepath.Join(dir, "bin", "java")) {
			return "", fmt.Errorf("trinotest: TRINO_JAVA_HOME=%s has no executable bin/java", dir)
		}
		return dir, nil
	}
	const pattern = "/usr/lib/jvm/temurin-25*"
	matches, _ := filepath.Glob(pattern)
	slices.Sort(matches)
	for _, dir := range slices.Backward(matches) {
		if isExecutable(filepath.Join(dir, "bin", "java")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("trinotest: no Java for Trino %s: nothing matches %s; set TRINO_JAVA_HOME to a JDK 24 or newer", Version, pattern)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// repoRoot walks up from the working directory (the package directory under go test) to
// the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("trinotest: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// jvmOptions is etc/jvm.config without the AOT flags (which aot.go adds).
func jvmOptions(extra []string) []string {
	return append([]string{
		"-server",
		// Small: the tests query tiny data, and several coordinators may share a 2-core box.
		"-Xmx1G",
		"-XX:+UseG1GC",
		"-XX:+ExitOnOutOfMemoryError",
		"-XX:-OmitStackTraceInFastThrow",
		// Trino 476 refuses to start without it (it attaches the JOL agent to itself).
		"-Djdk.attach.allowAttachSelf=true",
		"-Dfile.encoding=UTF-8",
		// Java 25 runs Trino 476 without further flags but warns about the self-attached
		// agent, JNA's System::load and JOL's sun.misc.Unsafe use; these are the flags later
		// Trino releases put in jvm.config for Java 25, and they keep the log readable.
		"-XX:+EnableDynamicAgentLoading",
		"--enable-native-access=ALL-UNNAMED",
		"--sun-misc-unsafe-memory-access=allow",
		// Start-up speed: C1 compiles quickly and tests run short queries, so C2 never pays
		// off; no hsperfdata file to write.
		"-XX:TieredStopAtLevel=1",
		"-XX:-UsePerfData",
	}, extra...)
}

// writeEtc writes a fresh Trino configuration directory.
func writeEtc(etcDir, dataDir string, port int, jvmFlags []string, opts Options) error {
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	files := map[string]string{
		"node.properties": properties(map[string]string{
			"node.environment": "e2e",
			"node.id":          "trinotest-" + strconv.Itoa(port),
			"node.data-dir":    dataDir,
			// Loopback only: nothing outside the test should reach it, and the
			// coordinator announces itself to its own discovery service at this address.
			"node.bind-ip":          "127.0.0.1",
			"node.internal-address": "127.0.0.1",
		}, nil),
		"jvm.config": strings.Join(jvmFlags, "\n") + "\n",
		"config.properties": properties(map[string]string{
			"coordinator":                        "true",
			"node-scheduler.include-coordinator": "true",
			"http-server.http.port":              strconv.Itoa(port),
			// Trino before 477 needs a discovery URI even for a single node.
			"discovery.uri": base,
			// With static catalogs a query fails with "No nodes available to run query"
			// for several seconds after "starting": false, until the node manager's next
			// refresh (every 5 s) sees this node announce its catalogs. Dynamic catalog
			// management treats every catalog as present on every node, so the first query
			// only waits for the node to be active (query-manager.required-workers=1). It
			// also permits CREATE/DROP CATALOG, which tests can use.
			"catalog.management": "dynamic",
			// Less to start and less to write: no web UI, no HTTP request log, and a
			// worker pool sized for a 2-core machine.
			"web-ui.enabled":          "false",
			"http-server.log.enabled": "false",
			"task.max-worker-threads": "4",
			"task.concurrency":        "2",
		}, opts.Config),
		"catalog/memory.properties": "connector.name=memory\n",
		"catalog/tpch.properties":   "connector.name=tpch\n",
	}
	for name, props := range opts.Catalogs {
		files["catalog/"+name+".properties"] = properties(props, nil)
	}
	if opts.GatehouseURL != "" || len(opts.AccessControl) > 0 {
		ac := map[string]string{}
		if opts.GatehouseURL != "" {
			u := strings.TrimRight(opts.GatehouseURL, "/") + "/v1/data/trino/"
			ac = map[string]string{
				"access-control.name":                 "opa",
				"opa.policy.uri":                      u + "allow",
				"opa.policy.batched-uri":              u + "batch",
				"opa.policy.row-filters-uri":          u + "rowFilters",
				"opa.policy.column-masking-uri":       u + "columnMask",
				"opa.policy.batch-column-masking-uri": u + "batchColumnMasks",
			}
		}
		files["access-control.properties"] = properties(ac, opts.AccessControl)
	}
	if len(opts.LogLevels) > 0 {
		files["log.properties"] = properties(opts.LogLevels, nil)
	}

	for _, d := range []string{filepath.Join(etcDir, "catalog"), dataDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("trinotest: %w", err)
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(etcDir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("trinotest: %w", err)
		}
	}
	return nil
}

// properties renders base overridden by overrides (an empty override value deletes the
// key), sorted by key so the files are easy to diff.
func properties(base, overrides map[string]string) string {
	m := maps.Clone(base)
	if m == nil {
		m = map[string]string{}
	}
	for k, v := range overrides {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	var b bytes.Buffer
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s=%s\n", k, m[k])
	}
	return b.String()
}

// process is a launched coordinator in its own process group.
type process struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error // set before done is closed
}

func startProcess(launcher string, args []string, javaHome, dir, logFile string) (*process, error) {
	logf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(launcher, args...)
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = javaEnv(javaHome)
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &process{cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// javaEnv is the test's environment with JAVA_HOME pointing at javaHome, and without
// variables that would inject options into Trino's JVM behind the test's back.
func javaEnv(javaHome string) []string {
	drop := []string{"JAVA_HOME=", "JAVA_TOOL_OPTIONS=", "JDK_JAVA_OPTIONS=", "_JAVA_OPTIONS=", "CLASSPATH="}
	var env []string
	for _, kv := range os.Environ() {
		if slices.ContainsFunc(drop, func(p string) bool { return strings.HasPrefix(kv, p) }) {
			continue
		}
		if path, ok := strings.CutPrefix(kv, "PATH="); ok {
			kv = "PATH=" + filepath.Join(javaHome, "bin") + string(os.PathListSeparator) + path
		}
		env = append(env, kv)
	}
	return append(env, "JAVA_HOME="+javaHome)
}

// stop sends SIGTERM to the process group, waits up to grace, then kills the group. It
// reports whether the process exited by itself within the grace period.
func (p *process) stop(grace time.Duration) bool {
	select {
	case <-p.done:
		return true
	default:
	}
	signalGroup(p.cmd, false)
	select {
	case <-p.done:
		return true
	case <-time.After(grace):
	}
	signalGroup(p.cmd, true)
	<-p.done
	return false
}
