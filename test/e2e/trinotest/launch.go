package trinotest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// env is what starting a coordinator needs from its caller: somewhere to log and a way to
// register the stop. A *testing.T or *testing.B is one (Start); Launch supplies its own for
// code that runs outside any one test, such as a TestMain sharing a coordinator.
type env interface {
	Logf(format string, args ...any)
	Cleanup(func())
}

// Launched is a coordinator started by Launch, shared by whatever the caller likes (for
// example every test of a package). The caller must call Stop.
type Launched struct {
	*Coordinator
	env *launchEnv
}

// launchEnv is Launch's env: it logs through a function and keeps the cleanups for Stop.
type launchEnv struct {
	dir      string
	logf     func(format string, args ...any)
	mu       sync.Mutex
	cleanups []func()
}

func (e *launchEnv) Logf(format string, args ...any) { e.logf(format, args...) }

func (e *launchEnv) Cleanup(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cleanups = append(e.cleanups, f)
}

// stop runs the cleanups, newest first, and removes the directory.
func (e *launchEnv) stop() {
	e.mu.Lock()
	fs, dir := e.cleanups, e.dir
	e.cleanups, e.dir = nil, ""
	e.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
}

// Launch starts a coordinator like Start, but tied to no test: a package whose tests share
// one coordinator (start-up is the biggest fixed cost of an e2e test) launches it once, for
// example from TestMain or the first test that needs it, and stops it after m.Run. It logs
// through logf (nil: standard error) and returns an error instead of failing a test. Its
// files live in a fresh temporary directory that Stop removes.
func Launch(opts Options, logf func(format string, args ...any)) (*Launched, error) {
	if logf == nil {
		logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	serverDir, err := ServerDir()
	if err != nil {
		return nil, err
	}
	javaHome, err := JavaHome()
	if err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	dir, err := os.MkdirTemp("", "trinotest-")
	if err != nil {
		return nil, fmt.Errorf("trinotest: %w", err)
	}
	e := &launchEnv{dir: dir, logf: logf}
	const attempts = 3
	for attempt := 1; ; attempt++ {
		c, err := start(e, serverDir, javaHome, filepath.Join(dir, fmt.Sprintf("run%d", attempt)), opts, timeout)
		if err == nil {
			return &Launched{Coordinator: c, env: e}, nil
		}
		if errors.Is(err, errPortInUse) && attempt < attempts {
			logf("trinotest: %v; retrying with another port", err)
			continue
		}
		e.stop()
		return nil, err
	}
}

// Stop stops the coordinator, waits for it to exit and removes its files. It is safe to
// call more than once.
func (l *Launched) Stop() { l.env.stop() }
