package trino_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/server/servertest"
	"github.com/gatehouse-authz/gatehouse/internal/trino"
)

// The fuzzers start from every request of the conformance suite, so the
// mutations explore the neighbourhood of real Trino traffic (and of the
// known-bad inputs) rather than random bytes that fail at the first brace.
//
//	go test -run XXX -fuzz FuzzDecode -fuzztime 10s ./internal/trino/
//	go test -run XXX -fuzz FuzzHandler -fuzztime 10s ./internal/trino/

// fuzzSeeds adds the conformance requests as seeds: every rejected one (each
// exercises a different check) and one accepted request per endpoint and
// operation. More would only slow the start of every fuzzing run, which
// measures each seed's coverage in a large binary (OPA, SQLite, gRPC).
func fuzzSeeds(f *testing.F) {
	f.Helper()
	seen := map[string]bool{}
	for _, file := range loadConformanceFiles(f) {
		for _, c := range file.Cases {
			ep := 0
			for i, e := range trinoEndpoints {
				if c.trinoEndpoint() == e {
					ep = i
				}
			}
			if c.Status == http.StatusOK {
				var req struct {
					Input struct {
						Action struct {
							Operation any `json:"operation"`
						} `json:"action"`
					} `json:"input"`
				}
				_ = json.Unmarshal(c.body(), &req)
				key := fmt.Sprint(c.path(), req.Input.Action.Operation)
				if seen[key] {
					continue
				}
				seen[key] = true
			}
			f.Add(c.body(), uint8(ep))
		}
	}
}

// FuzzDecode checks Decode, the first code every byte from the network meets:
// it must never panic, must reject with a *BadRequest (which the handler turns
// into a 400 naming the field) and, when it accepts, must hand the engine
// what the policies rely on: a non-empty user and operation, and an input
// whose fields agree with them.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	// Corners where a hand-written JSON reader and encoding/json may part ways.
	for _, s := range []string{
		`{"input":{"context":{"identity":{"user":"alice","user":"bob"}},"action":{"operation":"ExecuteQuery","operation":"AccessCatalog","resource":{"catalog":{"name":"x"}}}}}`,
		`{"input":{"context":{"identity":{"user":"al\u0069ce\ud83d\ude00\ud800\u0041\udc00x\/"}},"action":{"operation":"ExecuteQuery"}}}`,
		"{\"input\":{\"context\":{\"identity\":{\"user\":\"al\xffce\xe2\x82\"}},\"action\":{\"operation\":\"ExecuteQuery\"}}}",
		`{"input":{"context":{"identity":{"user":"alice"},"n":[0,-0,1.50,-1e400,2E+3,1e-9]},"action":{"operation":"ExecuteQuery"}}}`,
		`{"input":{"context":{"identity":{"user":"alice"},"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},"action":{"operation":"ExecuteQuery"}}}`,
		"\ufeff{\"input\":{}}",
		`{"input":{"context":{"identity":{"user":"alice"}},"action":{"operation":"ExecuteQuery"}}}` + "\n\t \r",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, ep uint8) {
		endpoint := trinoEndpoints[int(ep)%len(trinoEndpoints)]
		r, err := trino.Decode(body, endpoint)
		if err != nil {
			var br *trino.BadRequest
			if !errors.As(err, &br) || br.Msg == "" {
				t.Fatalf("Decode error %v (%T) is not a *BadRequest with a message", err, err)
			}
			if r != nil {
				t.Fatalf("Decode returned both a request and an error")
			}
			return
		}
		// Decode parses the body itself: what it hands the policies must be
		// exactly what encoding/json (and so stock OPA's server) reads from
		// the same bytes, or gatehouse and `opa run` would decide different
		// inputs.
		if !json.Valid(body) {
			t.Fatalf("accepted a body encoding/json rejects: %q", body)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var doc struct{ Input any }
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("encoding/json cannot read an accepted body: %v", err)
		}
		want, err := ast.InterfaceToValue(doc.Input)
		if err != nil {
			t.Fatalf("ast.InterfaceToValue: %v", err)
		}
		if r.Input != nil && ast.Compare(r.Input, want) != 0 {
			t.Fatalf("Decode's input\n  %v\nencoding/json's\n  %v", r.Input, want)
		}
		if r.Operation == "" {
			t.Errorf("accepted with an empty operation")
		}
		if r.User == "" {
			t.Errorf("accepted with an empty identity.user")
		}
		if r.Input == nil {
			t.Fatalf("accepted with a nil Input")
		}
		in, ok := r.Input.(ast.Object)
		if !ok {
			t.Fatalf("Input is %T, not an object", r.Input)
		}
		if got := lookupString(in, "action", "operation"); got != r.Operation {
			t.Errorf("Input's operation %q != Operation %q", got, r.Operation)
		}
		if got := lookupString(in, "context", "identity", "user"); got != r.User {
			t.Errorf("Input's identity.user %q != User %q", got, r.User)
		}
		_, known := trino.Operations[r.Operation]
		if r.Known != known {
			t.Errorf("Known = %v for operation %q", r.Known, r.Operation)
		}
		if endpoint == trino.EndpointBatch || endpoint == trino.EndpointBatchColumnMasks {
			if r.FilterResources == nil {
				t.Errorf("batch endpoint %s accepted without filterResources", endpoint)
			}
			if endpoint == trino.EndpointBatch && r.Known && r.Operation == "FilterColumns" && r.Items() != 1 {
				t.Errorf("FilterColumns accepted with %d tables", r.Items())
			}
		}
		_ = r.Describe() // audit summary of any accepted request must not panic
	})
}

// lookupString reads a nested string of an AST object, "" when absent.
func lookupString(o ast.Object, path ...string) string {
	var v ast.Value = o
	for _, k := range path {
		obj, ok := v.(ast.Object)
		if !ok {
			return ""
		}
		t := obj.Get(ast.StringTerm(k))
		if t == nil {
			return ""
		}
		v = t.Value
	}
	s, _ := v.(ast.String)
	return string(s)
}

// FuzzHandler drives the real server (shipped policies, a small directory, a
// 4 KiB body limit) with mutated bodies: whatever arrives, the answer is a
// 200 in exactly the shape Trino decodes, or a 400/413 error — never a 5xx
// (which would mean a policy or shape-check failure on input Trino can send)
// and never anything but {"result":true} / {"result":false} from allow.
func FuzzHandler(f *testing.F) {
	fuzzSeeds(f)
	srv := servertest.Start(f, "", func(c *config.Config) {
		c.MaxRequestBytes = 4096
		c.PolicyExemptUsers = []string{"trino"}
		c.AllowedServiceUsers = []string{"svc_etl"}
	})
	for _, u := range []struct{ email, trino, perm string }{
		{"alice@example.com", "alice", ""},
		{"svc@example.com", "svc", "IMPERSONATE_USER"},
		{"bob@example.com", "", "GOVERNANCE"},
	} {
		adminCall(f, srv.URL, "POST", "/api/v1/users", map[string]string{"email": u.email, "fullName": u.email}, http.StatusCreated)
		if u.trino != "" {
			adminCall(f, srv.URL, "PUT", "/api/v1/users/"+u.email+"/external-ids/trino", map[string]string{"username": u.trino}, http.StatusOK)
		}
		if u.perm != "" {
			adminCall(f, srv.URL, "POST", "/api/v1/users/"+u.email+"/permissions", map[string]string{"permission": u.perm}, http.StatusOK)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, ep uint8) {
		endpoint := trinoEndpoints[int(ep)%len(trinoEndpoints)]
		status, resp, _ := postDecision(t, srv.URL+"/v1/data/trino/"+endpoint, body)
		switch status {
		case http.StatusOK:
			if endpoint == trino.EndpointAllow {
				if s := string(bytes.TrimSpace(resp)); s != `{"result":true}` && s != `{"result":false}` {
					t.Fatalf("allow answered %s", s)
				}
				return
			}
			if err := checkTrinoShape(endpoint, body, resp); err != nil {
				t.Fatalf("%s answered %s: %v", endpoint, bytes.TrimSpace(resp), err)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var e struct{ Code, Message string }
			if err := json.Unmarshal(resp, &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("status %d with body %s, not {\"code\", \"message\"}", status, resp)
			}
		default:
			t.Fatalf("status %d for %s: %s", status, endpoint, resp)
		}
	})
}
