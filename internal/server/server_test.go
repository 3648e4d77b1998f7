package server_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/server/servertest"
)

// Profiles are served on debug-addr only, never with the API.
func TestPprofOnDebugAddrOnly(t *testing.T) {
	srv := servertest.Start(t, "", func(c *config.Config) { c.DebugAddr = "127.0.0.1:0" })
	get := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("http://" + srv.DebugAddr() + "/debug/pprof/heap"); code != http.StatusOK {
		t.Errorf("debug-addr /debug/pprof/heap: %d", code)
	}
	if code := get(srv.URL + "/debug/pprof/heap"); code == http.StatusOK {
		t.Error("the API listener serves /debug/pprof/heap")
	}
	if other := servertest.Start(t, ""); other.DebugAddr() != "" {
		t.Errorf("debug-addr is on by default: %s", other.DebugAddr())
	}
}

func TestHealthAndMetrics(t *testing.T) {
	srv := servertest.Start(t, "")
	resp, err := http.Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/health: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/users/someone@example.com", nil)
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	resp, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"go_goroutines",
		`gatehouse_http_requests_total{code="404",method="GET",route="GET /api/v1/users/{username}"} 1`,
		"gatehouse_http_request_duration_seconds_bucket",
		"go_sched_latencies_seconds_bucket",
		"go_cpu_classes_gc_total_cpu_seconds_total",
		"go_cpu_classes_gc_mark_assist_cpu_seconds_total",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(string(body), "someone@example.com") {
		t.Error("/metrics leaks a username into a label")
	}
}

func TestOversizedBodyIs413AndWritesNothing(t *testing.T) {
	srv := servertest.Start(t, "")
	big := `{"email":"big@example.com","fullName":"` + strings.Repeat("x", 2<<20) + `"}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/users", bytes.NewReader([]byte(big)))
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/api/v1/users/big@example.com", nil)
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("rejected write left a user behind: %d", resp.StatusCode)
	}
}
