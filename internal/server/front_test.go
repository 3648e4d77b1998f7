package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/server/servertest"
)

// The decision endpoints are served by the fasthttp front (front.go), the
// rest by the ServeMux behind it. These tests cover what the front does
// itself; internal/trino's conformance and differential suites run every
// decision case through it as well.

const executeQuery = `{"input":{"context":{"identity":{"user":"nobody-known","groups":[]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"ExecuteQuery"}}}`

func post(t *testing.T, c *http.Client, url, contentType string, body io.Reader) (int, string, string) {
	t.Helper()
	resp, err := c.Post(url, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header.Get("Content-Type")
}

func TestFrontAnswersDecisionsOnOneConnection(t *testing.T) {
	srv := servertest.Start(t, "")
	c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer c.CloseIdleConnections()
	// Bodies of different lengths, alternating, on one keep-alive
	// connection: the front reuses its read buffer between requests.
	for i := range 20 {
		status, body, ctype := post(t, c, srv.URL+"/v1/data/trino/allow", "application/json", strings.NewReader(executeQuery))
		if status != 200 || body != `{"result":false}`+"\n" || ctype != "application/json" {
			t.Fatalf("round %d: %d %q %q", i, status, body, ctype)
		}
		status, body, _ = post(t, c, srv.URL+"/v1/data/trino/allow", "application/json", strings.NewReader(`{"input": {"context": `))
		if status != 400 || !strings.Contains(body, `"code":"invalid_parameter"`) {
			t.Fatalf("round %d: bad JSON answered %d %q", i, status, body)
		}
	}
	// A chunked body (no Content-Length) is read whole.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(executeQuery[:40]))
		_, _ = pw.Write([]byte(executeQuery[40:]))
		pw.Close()
	}()
	if status, body, _ := post(t, c, srv.URL+"/v1/data/trino/allow", "application/json", pr); status != 200 || body != `{"result":false}`+"\n" {
		t.Fatalf("chunked: %d %q", status, body)
	}
}

func TestFrontLeavesOtherMethodsAndPathsToTheMux(t *testing.T) {
	srv := servertest.Start(t, "")
	resp, err := http.Get(srv.URL + "/v1/data/trino/allow")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "POST") {
		t.Fatalf("GET on a decision path: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// A query string does not take the request off the decision path.
	if status, body, _ := post(t, http.DefaultClient, srv.URL+"/v1/data/trino/allow?pretty=false", "application/json", strings.NewReader(executeQuery)); status != 200 || body != `{"result":false}`+"\n" {
		t.Fatalf("with a query string: %d %q", status, body)
	}
	// OPA's generic Data API is the mux's.
	status, body, _ := post(t, http.DefaultClient, srv.URL+"/v1/data/trino/no_such_rule", "application/json", strings.NewReader(`{"input":{}}`))
	if status != http.StatusNotFound || !strings.Contains(body, "resource_not_found") {
		t.Fatalf("generic data API: %d %q", status, body)
	}
}

func TestFrontRefusesBodiesOverItsOwnLimitAsJSON(t *testing.T) {
	srv := servertest.Start(t, "", func(c *config.Config) { c.MaxRequestBytes = 1024 })
	check := func(size int, status int, answer, ctype string) {
		t.Helper()
		var e struct{ Code, Message string }
		if err := json.Unmarshal([]byte(answer), &e); err != nil {
			t.Fatalf("%d bytes: answer is not JSON: %q", size, answer)
		}
		if status != http.StatusRequestEntityTooLarge || ctype != "application/json" || e.Code != "request_too_large" || !strings.Contains(e.Message, "larger than 1024 bytes") {
			t.Fatalf("%d bytes: %d %q %q", size, status, ctype, answer)
		}
	}
	// Under 1 MiB (the admin API's limit, which the listener must also
	// let through) the decision handler refuses the body.
	body := `{"input":{"context":{"identity":{"user":"` + strings.Repeat("x", 2<<10) + `"}}}}`
	status, answer, ctype := post(t, http.DefaultClient, srv.URL+"/v1/data/trino/batch", "application/json", strings.NewReader(body))
	check(len(body), status, answer, ctype)

	// Above it fasthttp refuses it from the Content-Length, before reading
	// the body, and closes the connection: the answer comes while the
	// client is still sending (a client that keeps writing may see a reset
	// instead; so this client sends only the headers and a little).
	const announced = 3 << 20
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "POST /v1/data/trino/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"input\":", announced)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	check(announced, resp.StatusCode, string(b), resp.Header.Get("Content-Type"))
}

func TestFrontCountsDecisionsUnderTheirRoutes(t *testing.T) {
	srv := servertest.Start(t, "")
	post(t, http.DefaultClient, srv.URL+"/v1/data/trino/allow", "application/json", strings.NewReader(executeQuery))
	post(t, http.DefaultClient, srv.URL+"/v1/data/trino/allow", "application/json", strings.NewReader(`{`))
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`gatehouse_http_requests_total{code="200",method="POST",route="POST /v1/data/trino/allow"} 1`,
		`gatehouse_http_requests_total{code="400",method="POST",route="POST /v1/data/trino/allow"} 1`,
		`gatehouse_http_request_duration_seconds_count{route="POST /v1/data/trino/allow"} 2`,
		`gatehouse_decisions_total{endpoint="allow",operation="ExecuteQuery",result="deny"} 1`,
	} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
