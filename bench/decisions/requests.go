package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// Request bodies as Trino 476's opa access control sends them (the shapes of
// internal/trino/testdata/conformance, captured from a real coordinator):
// {"input": {"context": {"identity": {"user", "groups": []},
// "softwareStack": {"trinoVersion": "476"}}, "action": {"operation", ...}}}.
// Struct fields keep Trino's member order.

type trinoInput struct {
	Input struct {
		Context trinoContext `json:"context"`
		Action  trinoAction  `json:"action"`
	} `json:"input"`
}

type trinoContext struct {
	Identity struct {
		User   string   `json:"user"`
		Groups []string `json:"groups"`
	} `json:"identity"`
	SoftwareStack struct {
		TrinoVersion string `json:"trinoVersion"`
	} `json:"softwareStack"`
}

type trinoAction struct {
	Operation       string `json:"operation"`
	Resource        any    `json:"resource,omitempty"`
	FilterResources []any  `json:"filterResources,omitempty"`
}

type catalogRes struct {
	Catalog struct {
		Name string `json:"name"`
	} `json:"catalog"`
}

type schemaRes struct {
	Schema struct {
		CatalogName string `json:"catalogName"`
		SchemaName  string `json:"schemaName"`
	} `json:"schema"`
}

type tableRef struct {
	CatalogName string   `json:"catalogName"`
	SchemaName  string   `json:"schemaName"`
	TableName   string   `json:"tableName"`
	Columns     []string `json:"columns,omitempty"`
}

type tableRes struct {
	Table tableRef `json:"table"`
}

type columnRes struct {
	Column struct {
		CatalogName string `json:"catalogName"`
		SchemaName  string `json:"schemaName"`
		TableName   string `json:"tableName"`
		ColumnName  string `json:"columnName"`
		ColumnType  string `json:"columnType"`
	} `json:"column"`
}

type userRes struct {
	User struct {
		User string `json:"user"`
	} `json:"user"`
}

type sessionPropRes struct {
	SystemSessionProperty struct {
		Name string `json:"name"`
	} `json:"systemSessionProperty"`
}

// The endpoints, as Trino's opa.policy.* URIs name them.
const (
	pathAllow            = "/v1/data/trino/allow"
	pathBatch            = "/v1/data/trino/batch"
	pathBatchColumnMasks = "/v1/data/trino/batchColumnMasks"
)

// body encodes one request of user for op with a resource or a batch.
func body(user, op string, resource any, batch []any) []byte {
	var in trinoInput
	in.Input.Context.Identity.User = user
	in.Input.Context.Identity.Groups = []string{} // Trino sends [] (the directory knows the groups)
	in.Input.Context.SoftwareStack.TrinoVersion = "476"
	in.Input.Action = trinoAction{Operation: op, Resource: resource, FilterResources: batch}
	b, err := json.Marshal(in)
	if err != nil {
		panic(err) // only fixed shapes are encoded
	}
	return b
}

func catalog(name string) catalogRes {
	var r catalogRes
	r.Catalog.Name = name
	return r
}

func schema(cat, name string) schemaRes {
	var r schemaRes
	r.Schema.CatalogName, r.Schema.SchemaName = cat, name
	return r
}

func table(cat, sch, name string, cols []string) tableRes {
	return tableRes{Table: tableRef{CatalogName: cat, SchemaName: sch, TableName: name, Columns: cols}}
}

func column(cat, sch, tbl, name, typ string) columnRes {
	var r columnRes
	r.Column.CatalogName, r.Column.SchemaName, r.Column.TableName, r.Column.ColumnName, r.Column.ColumnType = cat, sch, tbl, name, typ
	return r
}

// request is one decision request: where it goes and what it says.
type request struct {
	path string
	body []byte
}

// sequence is a run of simulated Trino queries: their checks in order,
// flattened, and where each query's checks start. The open loop sends the
// checks one by one on the schedule; the closed loop gives each worker a
// whole query, whose checks it sends back to back as Trino does.
type sequence struct {
	reqs    []request
	queries []int // index in reqs of each query's first check
}

// queryRange returns the checks of query q: reqs[from:to].
func (s *sequence) queryRange(q int) (from, to int) {
	from = s.queries[q]
	to = len(s.reqs)
	if q+1 < len(s.queries) {
		to = s.queries[q+1]
	}
	return from, to
}

var (
	hiveColumns = []string{"id", "email", "region", "amount", "created_at", "customer_id", "status", "note"}
	tpchTables  = map[string][]string{
		"nation":   {"nationkey", "name", "regionkey", "comment"},
		"region":   {"regionkey", "name", "comment"},
		"customer": {"custkey", "name", "address", "nationkey", "phone", "acctbal", "mktsegment", "comment"},
		"orders":   {"orderkey", "custkey", "orderstatus", "totalprice", "orderdate", "orderpriority", "clerk", "shippriority", "comment"},
	}
	tpchNames   = []string{"nation", "region", "customer", "orders"}
	systemProps = []string{"query_max_run_time", "join_distribution_type", "query_max_memory"}
)

// allowMix generates at least n checks of simulated queries, deterministic
// for a seed, so that gatehouse and OPA get the very same sequence. Each
// query is by a user drawn uniformly from the directory (plus 1% names it
// does not know; its disabled users come up as they are drawn):
// ExecuteQuery, AccessCatalog, SelectFromColumns of 2–8 columns on one
// table (80% one of the 1,000 hive tables with rules, 20% tpch.tiny), and
// in one query of ten also SetSystemSessionProperty, ShowSchemas and
// ShowTables.
func allowMix(m dirModel, n int, seed uint64) *sequence {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	s := &sequence{}
	for len(s.reqs) < n {
		s.queries = append(s.queries, len(s.reqs))
		u := user(m, rng)
		add := func(op string, res any) { s.reqs = append(s.reqs, request{pathAllow, body(u, op, res, nil)}) }
		add("ExecuteQuery", nil)
		var cat, sch, tbl string
		var cols []string
		if rng.IntN(10) < 8 {
			k := rng.IntN(ruleTables)
			cat, sch, tbl, cols = "hive", schemaOf(k), tableName(k), hiveColumns
		} else {
			tbl = tpchNames[rng.IntN(len(tpchNames))]
			cat, sch, cols = "tpch", "tiny", tpchTables[tbl]
		}
		add("AccessCatalog", catalog(cat))
		add("SelectFromColumns", table(cat, sch, tbl, pickColumns(rng, cols)))
		if rng.IntN(10) == 0 {
			var p sessionPropRes
			p.SystemSessionProperty.Name = systemProps[rng.IntN(len(systemProps))]
			add("SetSystemSessionProperty", p)
			add("ShowSchemas", catalog(cat))
			add("ShowTables", schema(cat, sch))
		}
	}
	return s
}

// user draws a Trino user name: one of the directory's, or (1%) unknown.
func user(m dirModel, rng *rand.Rand) string {
	i := rng.IntN(m.users + m.users/100)
	if i >= m.users {
		return fmt.Sprintf("nobody%d", i)
	}
	return m.trinoName(i)
}

// pickColumns chooses 2–8 distinct columns of cols (as many as it has, at most).
func pickColumns(rng *rand.Rand, cols []string) []string {
	n := min(2+rng.IntN(7), len(cols))
	out := make([]string, 0, n)
	for _, i := range rng.Perm(len(cols))[:n] {
		out = append(out, cols[i])
	}
	return out
}

// filterTablesTables is how many tables one FilterTables request lists.
const filterTablesTables = 10_000

// filterTables builds count FilterTables requests of 10,000 hive tables
// (t0..t9999 spread over the sales_* schemas, the first 1,000 with rules of
// their own), each for a different regular user so that every request is
// evaluated afresh.
func filterTables(m dirModel, count, first int) []request {
	items := make([]any, filterTablesTables)
	for k := range items {
		items[k] = table("hive", schemaOf(k), tableName(k), nil)
	}
	out := make([]request, count)
	for j := range out {
		out[j] = request{pathBatch, body(m.trinoName(m.regularUser(first+j)), "FilterTables", nil, items)}
	}
	return out
}

// Column masks ask for 500 columns of one table that a rule masks for
// everyone: table k = 3 (k%3 == 0 masks email; k%10 != 0, so the rule is not
// restricted to a group). Its schema is sales_3.
const (
	maskTable   = 3
	maskColumns = 500
)

// columnMasks builds count batchColumnMasks requests: GetColumnMask for
// c0..c498 and email of the mask table, each for a different regular user.
func columnMasks(m dirModel, count, first int) []request {
	items := make([]any, 0, maskColumns)
	for c := range maskColumns - 1 {
		items = append(items, column("hive", schemaOf(maskTable), tableName(maskTable), fmt.Sprintf("c%d", c), "varchar"))
	}
	items = append(items, column("hive", schemaOf(maskTable), tableName(maskTable), "email", "varchar"))
	out := make([]request, count)
	for j := range out {
		out[j] = request{pathBatchColumnMasks, body(m.trinoName(m.regularUser(first+j)), "GetColumnMask", nil, items)}
	}
	return out
}

// impersonations builds n ImpersonateUser checks: a holder of
// IMPERSONATE_USER (every 100th user, the service accounts of the model)
// switching to a random user, as Trino asks before each query of a client
// that sets a session user.
func impersonations(m dirModel, n int, seed uint64) []request {
	rng := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	out := make([]request, n)
	for j := range out {
		svc := rng.IntN(max(m.users/100, 1)) * 100
		var res userRes
		res.User.User = m.trinoName(rng.IntN(m.users))
		out[j] = request{pathAllow, body(m.trinoName(svc), "ImpersonateUser", res, nil)}
	}
	return out
}

// executeQuery is the check the write-visibility probe repeats for one user.
func executeQuery(user string) request {
	return request{pathAllow, body(user, "ExecuteQuery", nil, nil)}
}
