package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The null server answers every decision {"result":true} after reading the
// body, and /health 200, as the harness's readiness check needs.
func TestNullServer(t *testing.T) {
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	go func() { t.Log(serveNull(addr)) }()
	var resp *http.Response
	for range 100 {
		if resp, err = http.Get("http://" + addr + "/health"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = http.Post("http://"+addr+"/v1/data/trino/allow", "application/json", strings.NewReader(`{"input":{"x":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"result":true}` {
		t.Fatalf("decision: %d %s", resp.StatusCode, b)
	}
}
