// Package servertest starts a real in-process gatehouse on loopback ports
// with a fresh embedded store, for tests of the REST and gRPC boundaries.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/server"
)

// AdminToken is the bootstrap admin token of every test server.
const AdminToken = "test-bootstrap-admin-token"

// Server is a running test server.
type Server struct {
	*server.Server
	URL     string // http://127.0.0.1:port
	DataDir string
}

// Start runs a server until the test ends. dataDir "" means a fresh temp dir.
func Start(t testing.TB, dataDir string, opts ...func(*config.Config)) *Server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", dataDir
	cfg.AdminToken, cfg.AuditSink, cfg.ShutdownTimeout = AdminToken, "none", 5*time.Second
	cfg.PoliciesDir, cfg.PolicyWatch = PoliciesDir(), false
	for _, o := range opts {
		o(cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(ctx, cfg, server.WithLogger(log))
	if err != nil {
		cancel()
		t.Fatalf("start gatehouse: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gatehouse run: %v", err)
		}
	})
	s := &Server{Server: srv, URL: "http://" + srv.HTTPAddr(), DataDir: dataDir}
	waitHealthy(t, s.URL)
	return s
}

// PoliciesDir is the repository's shipped policy bundle.
func PoliciesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "policies")
}

func waitHealthy(t testing.TB, url string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("gatehouse at %s never became healthy", url)
}
