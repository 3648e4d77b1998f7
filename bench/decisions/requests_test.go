package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/trino"
)

var endpointOf = map[string]string{
	pathAllow:            trino.EndpointAllow,
	pathBatch:            trino.EndpointBatch,
	pathBatchColumnMasks: trino.EndpointBatchColumnMasks,
}

// decodeAll decodes each request as gatehouse does, failing on any body
// gatehouse would refuse or whose operation it does not know, and counts
// the operations.
func decodeAll(t *testing.T, reqs []request) map[string]int {
	t.Helper()
	ops := map[string]int{}
	for i, r := range reqs {
		ep, ok := endpointOf[r.path]
		if !ok {
			t.Fatalf("request %d: unknown path %s", i, r.path)
		}
		d, err := trino.Decode(r.body, ep)
		if err != nil {
			t.Fatalf("request %d: %v\n%s", i, err, r.body)
		}
		if !d.Known {
			t.Fatalf("request %d: unknown operation %s", i, d.Operation)
		}
		ops[d.Operation]++
	}
	return ops
}

func TestAllowMixBodies(t *testing.T) {
	t.Parallel()
	m := dirModel{users: 100_000, groups: 10_000}
	s := allowMix(m, 6000, 7)
	if len(s.reqs) < 6000 {
		t.Fatalf("%d requests, want at least 6,000", len(s.reqs))
	}
	ops := decodeAll(t, s.reqs)
	q := len(s.queries)
	for _, op := range []string{"ExecuteQuery", "AccessCatalog", "SelectFromColumns"} {
		if ops[op] != q {
			t.Errorf("%s: %d, want one per query (%d)", op, ops[op], q)
		}
	}
	for _, op := range []string{"SetSystemSessionProperty", "ShowSchemas", "ShowTables"} {
		if ops[op] < q/20 || ops[op] > q/6 { // one query in ten
			t.Errorf("%s: %d in %d queries, want about one in ten", op, ops[op], q)
		}
	}
	// Every query starts with ExecuteQuery, and its checks are one user's.
	for qi := range s.queries {
		from, to := s.queryRange(qi)
		if to-from != 3 && to-from != 6 {
			t.Fatalf("query %d has %d checks", qi, to-from)
		}
		first, _ := trino.Decode(s.reqs[from].body, trino.EndpointAllow)
		if first.Operation != "ExecuteQuery" {
			t.Fatalf("query %d starts with %s", qi, first.Operation)
		}
		for i := from + 1; i < to; i++ {
			d, _ := trino.Decode(s.reqs[i].body, trino.EndpointAllow)
			if d.User != first.User {
				t.Fatalf("query %d: %s then %s", qi, first.User, d.User)
			}
		}
	}
	// The same seed gives the same bytes: both servers get the same run.
	again := allowMix(m, 6000, 7)
	if len(again.reqs) != len(s.reqs) {
		t.Fatal("not deterministic")
	}
	for i := range s.reqs {
		if !bytes.Equal(again.reqs[i].body, s.reqs[i].body) {
			t.Fatalf("request %d differs between two generations", i)
		}
	}
	if other := allowMix(m, 100, 8); bytes.Equal(other.reqs[0].body, s.reqs[0].body) && bytes.Equal(other.reqs[1].body, s.reqs[1].body) {
		t.Error("another seed gave the same requests")
	}
}

// TestBodyShape pins the exact shape of one body against a request
// captured from Trino 476 (internal/trino/testdata/conformance/shipped.json).
func TestBodyShape(t *testing.T) {
	got := string(body("alice", "SelectFromColumns", table("tpch", "tiny", "nation", []string{"nationkey", "name"}), nil))
	want := `{"input":{"context":{"identity":{"user":"alice","groups":[]},"softwareStack":{"trinoVersion":"476"}},` +
		`"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"tpch","schemaName":"tiny","tableName":"nation","columns":["nationkey","name"]}}}}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := string(executeQuery("u1").body); !strings.HasSuffix(got, `"action":{"operation":"ExecuteQuery"}}}`) {
		t.Errorf("ExecuteQuery body %s", got)
	}
}

func TestBatchBodies(t *testing.T) {
	t.Parallel()
	m := dirModel{users: 100_000, groups: 10_000}
	ft := filterTables(m, 2, 0)
	if ops := decodeAll(t, ft); ops["FilterTables"] != 2 {
		t.Errorf("FilterTables bodies: %v", ops)
	}
	d, _ := trino.Decode(ft[0].body, trino.EndpointBatch)
	if d.Items() != filterTablesTables {
		t.Errorf("FilterTables lists %d tables, want %d", d.Items(), filterTablesTables)
	}
	cm := columnMasks(m, 2, 1000) // as buildWorkload numbers them
	decodeAll(t, cm)
	d, _ = trino.Decode(cm[0].body, trino.EndpointBatchColumnMasks)
	if d.Items() != maskColumns {
		t.Errorf("batchColumnMasks lists %d columns, want %d", d.Items(), maskColumns)
	}
	var last struct {
		Input struct {
			Action struct {
				FilterResources []columnRes `json:"filterResources"`
			} `json:"action"`
		} `json:"input"`
	}
	if err := json.Unmarshal(cm[0].body, &last); err != nil {
		t.Fatal(err)
	}
	if c := last.Input.Action.FilterResources[maskColumns-1].Column; c.ColumnName != "email" || c.TableName != "t3" || c.SchemaName != "sales_3" {
		t.Errorf("last column %+v, want hive.sales_3.t3.email", c)
	}
	// Each request is for a different user, so none is a cache hit.
	users := map[string]bool{}
	for _, r := range append(append([]request{}, ft...), cm...) {
		d, _ := trino.Decode(r.body, endpointOf[r.path])
		users[d.User] = true
	}
	if len(users) != 4 {
		t.Errorf("%d distinct users in 4 batch requests", len(users))
	}
	imp := impersonations(m, 1000, 1)
	if ops := decodeAll(t, imp); ops["ImpersonateUser"] != 1000 {
		t.Errorf("impersonation bodies: %v", ops)
	}
	for _, r := range imp {
		d, _ := trino.Decode(r.body, trino.EndpointAllow)
		var i int
		if _, err := fmtSscan(d.User, &i); err != nil || !m.impersonator(i) {
			t.Fatalf("impersonator %s does not hold IMPERSONATE_USER in the model", d.User)
		}
	}
}

func TestRegularUsers(t *testing.T) {
	m := dirModel{users: 1000, groups: 100}
	seen := map[int]bool{}
	for j := range 50 {
		i := m.regularUser(j)
		if !m.regular(i) {
			t.Errorf("regularUser(%d) = %d is not regular", j, i)
		}
		seen[i] = true
	}
	if len(seen) < 45 {
		t.Errorf("only %d distinct users in 50", len(seen))
	}
}

// fmtSscan reads the number of a Trino name u<i>.
func fmtSscan(name string, i *int) (int, error) { return fmt.Sscanf(name, "u%d", i) }
