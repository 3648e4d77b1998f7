package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a measured server process: gatehouse or OPA, started from its
// binary (never through `go run`, so the pid is the server's own and its
// memory is its own).
type server struct {
	name    string
	addr    string // HTTP host:port
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
	// StartupSeconds is from exec to the first 200 of GET /health.
	startup time.Duration
}

// startServer execs bin with args and env, its output to logPath, and
// waits for GET /health to answer 200, timing exec → ready.
func startServer(ctx context.Context, name, addr, logPath, bin string, args, env []string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	s := &server{name: name, addr: addr, cmd: cmd, done: make(chan struct{}), logPath: logPath}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { _ = cmd.Wait(); logf.Close(); close(s.done) }()
	if err := s.waitHealthy(ctx, began, 3*time.Minute); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s: %w (log: %s)", name, err, logPath)
	}
	s.startup = time.Since(began)
	return s, nil
}

// waitHealthy polls /health every 5 ms: fine enough to time a start-up of
// a few seconds to within a few milliseconds, cheap enough not to slow it.
func (s *server) waitHealthy(ctx context.Context, began time.Time, limit time.Duration) error {
	k := newConn(s.addr, 2*time.Second)
	defer k.close()
	for time.Since(began) < limit {
		select {
		case <-s.done:
			return errors.New("exited before it was healthy")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if status, _, err := k.get("/health"); err == nil && status == 200 {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("not healthy after %s", limit)
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 30 s).
func (s *server) stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// memory is a process's resident set from /proc/<pid>/status, in KiB.
type memory struct {
	RSSKiB int64 `json:"vmrss_kib"` // VmRSS: resident now
	HWMKiB int64 `json:"vmhwm_kib"` // VmHWM: the peak resident set so far
}

func (s *server) memory() (memory, error) {
	return readMemory(s.cmd.Process.Pid)
}

func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.RSSKiB
		case "VmHWM":
			dst = &m.HWMKiB
		default:
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
		}
		*dst = n
	}
	return m, sc.Err()
}

// freeAddr finds a free loopback port. (It is released before the server
// binds it; on a machine running nothing else that race is harmless.)
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// cleanEnv is the harness's environment without GATEHOUSE_* variables and
// Go runtime tuning (GOGC, GOMAXPROCS, GOMEMLIMIT, GODEBUG), so that nothing
// set in the caller's shell changes either server's settings or the
// export's: both run with their own defaults and what the run sets.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "GATEHOUSE_"), name == "GOGC", name == "GOMAXPROCS", name == "GOMEMLIMIT", name == "GODEBUG":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}
