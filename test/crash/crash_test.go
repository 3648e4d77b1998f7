// Package crash proves that an acknowledged admin write survives kill -9:
// it runs the real gatehouse binary, fires concurrent writes, kills the
// process mid-flight, restarts it on the same store and looks for every
// write that was answered 2xx.
package crash

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const token = "crash-test-bootstrap-token"

func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gatehouse")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/gatehouse")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build gatehouse: %v\n%s", err, out)
	}
	data := t.TempDir()

	url, proc := start(t, bin, data)
	const writes = 500
	var acked sync.Map
	var ackCount atomic.Int64
	killAt := int64(writes / 2)
	var wg sync.WaitGroup
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() { _ = proc.Process.Signal(syscall.SIGKILL) })
	}
	client := &http.Client{Timeout: 20 * time.Second}
	for i := range writes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("user%03d@example.com", i)
			body, _ := json.Marshal(map[string]string{"email": email, "fullName": "User " + email})
			req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/users", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				return // the kill cut it off: not acknowledged
			}
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				acked.Store(email, true)
				if ackCount.Add(1) == killAt {
					kill()
				}
			}
		}()
	}
	wg.Wait()
	kill()
	_ = proc.Wait()
	n := ackCount.Load()
	t.Logf("%d of %d writes acknowledged before kill -9", n, writes)
	if n < killAt {
		t.Fatalf("only %d writes were acknowledged; the test needs at least %d to mean anything", n, killAt)
	}

	url, _ = start(t, bin, data)
	req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/users?includeDisabled=true", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Users []struct{ Email string } `json:"users"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, u := range page.Users {
		have[u.Email] = true
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !have[k.(string)] {
			missing++
			t.Errorf("acknowledged write lost: %s", k)
		}
		return true
	})
	t.Logf("after restart: %d users present, %d acknowledged writes missing", len(page.Users), missing)
}

// start runs gatehouse on free loopback ports and waits for /health.
func start(t *testing.T, bin, data string) (string, *exec.Cmd) {
	t.Helper()
	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "serve", "--data-dir", data, "--http-addr", httpAddr, "--grpc-addr", grpcAddr,
		"--audit-sink", "none", "--log-level", "warn", "--policies-dir", "../../policies", "--policy-watch=false")
	cmd.Env = append(os.Environ(), "GATEHOUSE_ADMIN_TOKEN="+token)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	url := "http://" + httpAddr
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(url + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("gatehouse did not become healthy; its output:\n%s", logs.String())
	return "", nil
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
