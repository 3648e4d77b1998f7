package trino_test

// Differential tests: gatehouse promises that the policies in policies/ are
// portable — `gatehouse data export -f data.json && opa run -s policies/
// data.json` must decide exactly as gatehouse does. That is what lets a
// customer fall back to stock OPA, and what makes benchmarks against OPA
// honest. So the same requests are answered twice:
//
//   - by gatehouse, over HTTP, from a real server (servertest);
//   - by stock OPA's rego package, loading the policy directory the way
//     `opa run -s` does — every file, *_test.rego and testdata/ included —
//     plus the data file written by the real `gatehouse data export` command.
//
// OPA's raw value then goes through the handler's documented normalisation
// (response.go: undefined → false / [] / no mask, batch indices sorted and
// distinct, masks sorted by index). These tests live in package trino_test —
// servertest and cli import package trino, so an internal test could not
// import them — which puts response.go's functions out of reach; the rules
// are restated from the contract instead, which also keeps a bug there from
// hiding itself. The two answers must be identical.
//
// The inputs are every request of the conformance suite that gatehouse
// answers (all files, shipped policies and fixture rules alike) and requests
// generated from a catalogue of users, operations and resources. The
// generated batches are also checked against the same items asked one at a
// time (batch ≡ per-item), which is how Trino behaves without batched-uri.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/gatehouse-authz/gatehouse/internal/cli"
	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/trino"
)

// stockOPA evaluates the policy directory and an exported data file as
// `opa run -s <policies> <data.json>` does: OPA's file loader — the one both
// `opa run` and rego.Load use — reads both paths (every .rego and data file
// under the directory, tests and testdata included, data files mounted by
// their directory), the modules are compiled, the documents become the
// store, and queries read data.trino.*.
type stockOPA struct {
	compiler *compiledPolicies
	store    storage.Store

	mu       sync.Mutex
	prepared map[string]rego.PreparedEvalQuery // "data.trino.allow" → query
}

// compiledPolicies is one directory's modules, compiled once: the data file
// changes after each admin write, the policies do not, and compiling them
// again for each directory state would dominate the race-enabled run.
type compiledPolicies struct {
	mu sync.Mutex // serialises preparing queries against the shared compiler
	c  *ast.Compiler
}

var (
	compiledMu  sync.Mutex
	compiledFor = map[string]*compiledPolicies{}
)

func newStockOPA(t testing.TB, policiesDir, dataFile string) *stockOPA {
	t.Helper()
	res, err := loader.NewFileLoader().All([]string{policiesDir, dataFile})
	if err != nil {
		t.Fatalf("stock OPA: load %s and %s: %v", policiesDir, dataFile, err)
	}
	compiledMu.Lock()
	cp := compiledFor[policiesDir]
	if cp == nil {
		c := ast.NewCompiler()
		if c.Compile(res.ParsedModules()); c.Failed() {
			compiledMu.Unlock()
			t.Fatalf("stock OPA: compile %s: %v", policiesDir, c.Errors)
		}
		cp = &compiledPolicies{c: c}
		compiledFor[policiesDir] = cp
	}
	compiledMu.Unlock()
	return &stockOPA{compiler: cp, store: inmem.NewFromObject(res.Documents), prepared: map[string]rego.PreparedEvalQuery{}}
}

// eval evaluates the rule at path (e.g. "data.trino.batch") for the request
// body's input; defined is false when OPA has no value for it.
func (o *stockOPA) eval(t testing.TB, path string, body []byte) (value any, defined bool) {
	t.Helper()
	ctx := context.Background()
	o.mu.Lock()
	pq, ok := o.prepared[path]
	if !ok {
		o.compiler.mu.Lock()
		var err error
		pq, err = rego.New(rego.Query(path), rego.Compiler(o.compiler.c), rego.Store(o.store)).PrepareForEval(ctx)
		o.compiler.mu.Unlock()
		if err != nil {
			o.mu.Unlock()
			t.Fatalf("stock OPA: prepare %s: %v", path, err)
		}
		o.prepared[path] = pq
	}
	o.mu.Unlock()
	var opts []rego.EvalOption
	if len(bytes.TrimSpace(body)) > 0 {
		// As OPA's server does: the body's "input" member, numbers kept exact.
		var doc map[string]any
		if err := util.UnmarshalJSON(body, &doc); err != nil {
			t.Fatalf("stock OPA: request is not JSON: %v", err)
		}
		if in, ok := doc["input"]; ok {
			opts = append(opts, rego.EvalInput(in))
		}
	}
	rs, err := pq.Eval(ctx, opts...)
	if err != nil {
		t.Fatalf("stock OPA: eval %s: %v", path, err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, false
	}
	return rs[0].Expressions[0].Value, true
}

// exportData runs `gatehouse data export` in-process against the server's
// store, with the server's settings in the environment it reads them from.
func exportData(t testing.TB, dataDir string, s confServer) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "data.json")
	env := map[string]string{
		"GATEHOUSE_IMPERSONATION_ALLOWED_SERVICE_USERS": strings.Join(s.AllowedServiceUsers, ","),
		"GATEHOUSE_POLICY_EXEMPT_USERS":                 strings.Join(s.PolicyExemptUsers, ","),
	}
	var stdout, stderr bytes.Buffer
	root := cli.NewRoot(strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] })
	root.SetArgs([]string{"data", "export", "--data-dir", dataDir, "-f", out})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("gatehouse data export: %v\n%s", err, stderr.String())
	}
	return out
}

// opaAnswer is what gatehouse must answer, derived from stock OPA's raw
// value by the normalisation of trino-opa-protocol.md §3 / response.go.
// It returns the response body, or an error when the value has a shape
// gatehouse must refuse (it would answer 500).
func opaAnswer(endpoint string, v any, defined bool) (any, error) {
	if !defined || v == nil {
		switch endpoint {
		case trino.EndpointAllow:
			return map[string]any{"result": false}, nil
		case trino.EndpointColumnMask:
			return map[string]any{}, nil
		default:
			return map[string]any{"result": []any{}}, nil
		}
	}
	switch endpoint {
	case trino.EndpointAllow:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("allow is %v, not a boolean", v)
		}
		return map[string]any{"result": b}, nil
	case trino.EndpointBatch:
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("batch is %v, not an array", v)
		}
		seen := map[string]bool{}
		var idx []json.Number
		for _, x := range arr {
			n, ok := x.(json.Number)
			if !ok {
				return nil, fmt.Errorf("batch index %v is not a number", x)
			}
			if !seen[n.String()] {
				seen[n.String()] = true
				idx = append(idx, n)
			}
		}
		sort.Slice(idx, func(a, b int) bool { ia, _ := idx[a].Int64(); ib, _ := idx[b].Int64(); return ia < ib })
		out := make([]any, len(idx))
		for i, n := range idx {
			out[i] = n
		}
		return map[string]any{"result": out}, nil
	case trino.EndpointRowFilters:
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("rowFilters is %v, not an array", v)
		}
		out := make([]any, len(arr))
		for i, x := range arr {
			out[i] = dropNullIdentity(x)
		}
		return map[string]any{"result": out}, nil
	case trino.EndpointColumnMask:
		return map[string]any{"result": dropNullIdentity(v)}, nil
	case trino.EndpointBatchColumnMasks:
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("batchColumnMasks is %v, not an array", v)
		}
		out := slices.Clone(arr)
		for i, x := range out {
			m, ok := x.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("mask %v is not an object", x)
			}
			out[i] = map[string]any{"index": m["index"], "viewExpression": dropNullIdentity(m["viewExpression"])}
		}
		sort.SliceStable(out, func(a, b int) bool {
			ia, _ := out[a].(map[string]any)["index"].(json.Number).Int64()
			ib, _ := out[b].(map[string]any)["index"].(json.Number).Int64()
			return ia < ib
		})
		return map[string]any{"result": out}, nil
	}
	return nil, fmt.Errorf("unknown endpoint %q", endpoint)
}

// dropNullIdentity mirrors the handler, which leaves out an identity of null.
func dropNullIdentity(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if id, has := m["identity"]; has && id == nil {
		m = maps.Clone(m)
		delete(m, "identity")
	}
	return m
}

// compareWithOPA posts body to gatehouse and evaluates it on stock OPA, and
// reports any difference. path is the URL path of a decision or data API rule.
func compareWithOPA(t testing.TB, baseURL string, opa *stockOPA, path string, body []byte) {
	t.Helper()
	status, got, _ := postDecision(t, baseURL+path, body)
	rule := "data." + strings.ReplaceAll(strings.TrimPrefix(path, "/v1/data/"), "/", ".")
	v, defined := opa.eval(t, rule, body)
	var want any
	var err error
	if ep, ok := strings.CutPrefix(path, "/v1/data/trino/"); ok && slices.Contains(trinoEndpoints, ep) {
		want, err = opaAnswer(ep, v, defined)
	} else if defined {
		want = map[string]any{"result": v}
	} else {
		want = map[string]any{}
	}
	if err != nil {
		if status != http.StatusInternalServerError {
			t.Errorf("%s: stock OPA's answer is invalid (%v), yet gatehouse answered %d %s\nrequest %s", path, err, status, got, body)
		}
		return
	}
	wantJSON, _ := json.Marshal(want)
	if status != http.StatusOK || !jsonEqual(t, got, wantJSON) {
		t.Errorf("%s: gatehouse answered %d %s; stock OPA %s\nrequest %s", path, status, bytes.TrimSpace(got), wantJSON, body)
	}
}

// TestDifferentialConformanceRequests replays every conformance request that
// gatehouse answers 200 (operations it knows) on stock OPA, file by file,
// re-exporting the directory after each case's own setup.
func TestDifferentialConformanceRequests(t *testing.T) {
	files := loadConformanceFiles(t)
	compared := 0
	var mu sync.Mutex
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f.path), ".json"), func(t *testing.T) {
			t.Parallel()
			env := startConformanceServer(t, f)
			opa := newStockOPA(t, env.policiesDir, exportData(t, env.srv.DataDir, env.settings))
			n := 0
			for _, c := range f.Cases {
				if c.Setup != nil {
					env.apply(t, c.Setup)
					opa = newStockOPA(t, env.policiesDir, exportData(t, env.srv.DataDir, env.settings))
				}
				if c.Status != http.StatusOK || !comparable(&c) {
					continue
				}
				t.Run(c.Name, func(t *testing.T) { compareWithOPA(t, env.srv.URL, opa, c.path(), c.body()) })
				n++
			}
			mu.Lock()
			compared += n
			mu.Unlock()
		})
	}
	t.Cleanup(func() { t.Logf("%d conformance requests compared with stock OPA", compared) })
}

// comparable says whether stock OPA should give the same answer: gatehouse
// answers unknown operations itself without asking the policies (they are
// denied, never guessed at), so those are not a policy question.
func comparable(c *confCase) bool {
	ep := c.trinoEndpoint()
	if ep == "" {
		return true
	}
	r, err := trino.Decode(c.body(), ep)
	return err == nil && r.Known
}

// TestDifferentialGenerated compares gatehouse and stock OPA on requests
// generated from a catalogue of users, operations and resources — every
// operation gatehouse knows, on every endpoint it is sent to — over the
// directories of three conformance files: the shipped policies, and the
// fixture rules with many kinds of user and with impersonation settings.
// Every batch answer is also checked against its items asked one by one.
func TestDifferentialGenerated(t *testing.T) {
	files := map[string]*confFile{}
	for _, f := range loadConformanceFiles(t) {
		files[filepath.Base(f.path)] = f
	}
	// The impersonation directory has many users who differ only in who may
	// impersonate whom: there, only the operations about users are generated.
	// The shipped rules have two table rules: a sparser sample of tables is
	// enough there. (Strides keep the race-enabled run affordable.)
	aboutUsers := func(op string) bool {
		k := trino.Operations[op]
		return k == trino.ResNone || k == trino.ResUser || op == "AccessCatalog" || op == "GetRowFilters"
	}
	everyOp := func(string) bool { return true }
	// operations.json's server evaluates every batch of two items or more
	// in parts (parts.go), so each of its batches also checks that the
	// parts' answers, put together, are stock OPA's for the whole batch.
	splitAll := func(c *config.Config) { c.BatchSplitItems = 2 }
	plans := []struct {
		file   string
		keep   func(op string) bool
		stride int
		opts   []func(*config.Config)
	}{
		{"shipped.json", everyOp, 4, nil},
		{"operations.json", everyOp, 2, []func(*config.Config){splitAll}},
		{"impersonation.json", aboutUsers, 2, nil},
	}
	for _, p := range plans {
		f := files[p.file]
		if f == nil {
			t.Fatalf("conformance file %s is missing", p.file)
		}
		t.Run(strings.TrimSuffix(p.file, ".json"), func(t *testing.T) {
			t.Parallel()
			env := startConformanceServer(t, f, p.opts...)
			opa := newStockOPA(t, env.policiesDir, exportData(t, env.srv.DataDir, env.settings))
			users := generatedUsers(f)
			stride := p.stride
			if testing.Short() || raceEnabled() {
				// The race detector slows OPA's evaluator tenfold; what it
				// is there to find (data races) does not need the volume.
				stride *= 3
			}
			reqs := generateRequests(users, p.keep, stride)
			for _, r := range reqs {
				compareWithOPA(t, env.srv.URL, opa, "/v1/data/trino/"+r.endpoint, r.body)
				if t.Failed() {
					t.Fatalf("stopping at the first difference (%d requests generated)", len(reqs))
				}
			}
			checkBatchesMatchItems(t, env.srv.URL, reqs)
			t.Logf("%d generated requests compared with stock OPA, users %v", len(reqs), users)
		})
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// generatedUsers are the Trino names a file's directory knows (or the
// username, for users without a trino external id), a differently-cased
// name, an unknown user, and the file's exempt and service users.
func generatedUsers(f *confFile) []string {
	users := []string{"ghost", "Alice"}
	if f.Setup != nil {
		for _, u := range f.Setup.Users {
			if u.Trino != "" {
				users = append(users, u.Trino)
			} else {
				users = append(users, u.Email)
			}
		}
	}
	users = append(users, f.Server.PolicyExemptUsers...)
	users = append(users, f.Server.AllowedServiceUsers...)
	slices.Sort(users)
	return slices.Compact(users)
}

type genRequest struct {
	endpoint string
	body     []byte
	// for batches: the same question item by item
	items [][]byte
	// itemEndpoint is where the items are asked (allow, or columnMask)
	itemEndpoint string
}

var (
	genCatalogs = []string{"system", "memory", "hive", "tpch", "secret", "blackhole"}
	genSchemas  = [][2]string{{"memory", "sandbox"}, {"memory", "scratch"}, {"memory", "default"}, {"hive", "hr"},
		{"hive", "sales"}, {"hive", "finance"}, {"hive", "udf"}, {"hive", "information_schema"}, {"tpch", "tiny"}, {"secret", "vault"}}
	genTables = [][3]string{{"memory", "sandbox", "t1"}, {"memory", "default", "events"}, {"hive", "hr", "employees"},
		{"hive", "hr", "salaries"}, {"hive", "sales", "orders"}, {"hive", "sales", "customers"}, {"hive", "finance", "ledger"},
		{"hive", "information_schema", "tables"}, {"tpch", "tiny", "nation"}, {"secret", "vault", "keys"}}
	genColumns   = []string{"name", "ssn", "region", "salary", "team"}
	genFunctions = [][3]string{{"system", "builtin", "abs"}, {"hive", "udf", "mask_ssn"}, {"hive", "udf", "decrypt"},
		{"hive", "system", "flush_metadata_cache"}, {"system", "runtime", "kill_query"}, {"memory", "default", "my_udf"}}
	genSystemProps  = []string{"query_max_run_time", "resource_overcommit", "spill_enabled"}
	genCatalogProps = [][2]string{{"hive", "compression_codec"}, {"hive", "insert_existing_partitions_behavior"}, {"memory", "x"}, {"secret", "compression_codec"}}
	genGrantees     = []map[string]any{{"name": "dave", "type": "USER"}, {"name": "erin", "type": "USER"}, {"name": "admins", "type": "ROLE"}}
)

func genTable(t [3]string, extra map[string]any) map[string]any {
	m := map[string]any{"catalogName": t[0], "schemaName": t[1], "tableName": t[2]}
	for k, v := range extra {
		m[k] = v
	}
	return map[string]any{"table": m}
}

func genColumn(t [3]string, col string) map[string]any {
	return map[string]any{"column": map[string]any{"catalogName": t[0], "schemaName": t[1], "tableName": t[2], "columnName": col, "columnType": "varchar"}}
}

func genFunction(f [3]string) map[string]any {
	return map[string]any{"function": map[string]any{"catalogName": f[0], "schemaName": f[1], "functionName": f[2]}}
}

func genBody(user, op string, action map[string]any) []byte {
	action["operation"] = op
	b, err := json.Marshal(map[string]any{"input": map[string]any{
		"context": map[string]any{"identity": map[string]any{"user": user, "groups": []any{}}, "softwareStack": map[string]any{"trinoVersion": "476"}},
		"action":  action,
	}})
	if err != nil {
		panic(err)
	}
	return b
}

// generateRequests builds, for each user, each kept operation with resources
// of its kind from the catalogue, on the endpoint Trino sends it to: Filter*
// batched (their items asked one by one are checked against the batch),
// GetColumnMask single and batched, the rest on allow. To stay affordable
// under the race detector, the table resources of one (user, operation) are
// every stride-th table of the catalogue, starting at an offset that moves
// with the user and the operation, so that across users every table is
// asked for every operation.
func generateRequests(users []string, keep func(op string) bool, stride int) []genRequest {
	ops := make([]string, 0, len(trino.Operations))
	for op := range trino.Operations {
		if keep(op) {
			ops = append(ops, op)
		}
	}
	sort.Strings(ops)
	var out []genRequest
	add := func(endpoint string, body []byte) { out = append(out, genRequest{endpoint: endpoint, body: body}) }
	for ui, u := range users {
		for oi, op := range ops {
			sampled := func(ti int) bool { return (ti+ui+oi)%stride == 0 }
			var resources []map[string]any
			extras := []map[string]any{{}}
			switch trino.Operations[op] {
			case trino.ResNone:
				add(trino.EndpointAllow, genBody(u, op, map[string]any{}))
				continue
			case trino.ResUser:
				for _, target := range users {
					r := map[string]any{"user": target}
					if op != "ImpersonateUser" {
						r["groups"] = []any{}
					}
					resources = append(resources, map[string]any{"user": r})
				}
			case trino.ResSystemSessionProperty:
				for _, p := range genSystemProps {
					resources = append(resources, map[string]any{"systemSessionProperty": map[string]any{"name": p}})
				}
			case trino.ResCatalogSessionProperty:
				for _, p := range genCatalogProps {
					resources = append(resources, map[string]any{"catalogSessionProperty": map[string]any{"catalogName": p[0], "propertyName": p[1]}})
				}
			case trino.ResCatalog:
				for _, c := range genCatalogs {
					resources = append(resources, map[string]any{"catalog": map[string]any{"name": c}})
				}
			case trino.ResSchema:
				for _, s := range genSchemas {
					resources = append(resources, map[string]any{"schema": map[string]any{"catalogName": s[0], "schemaName": s[1]}})
				}
				switch op {
				case "RenameSchema":
					extras = []map[string]any{
						{"targetResource": map[string]any{"schema": map[string]any{"catalogName": "memory", "schemaName": "scratch"}}},
						{"targetResource": map[string]any{"schema": map[string]any{"catalogName": "memory", "schemaName": "archive"}}},
					}
				case "SetSchemaAuthorization":
					extras = nil
					for _, g := range genGrantees {
						extras = append(extras, map[string]any{"grantee": g})
					}
				}
			case trino.ResTable:
				if op == "GetRowFilters" {
					for _, t := range genTables {
						add(trino.EndpointRowFilters, genBody(u, op, map[string]any{"resource": genTable(t, nil)}))
					}
					continue
				}
				if op == "FilterColumns" {
					out = append(out, batchOf(u, op, nil)...)
					continue
				}
				for ti, t := range genTables {
					if op != "FilterTables" && !sampled(ti) {
						continue
					}
					var extra map[string]any
					switch op {
					case "SelectFromColumns", "UpdateTableColumns", "CreateViewWithSelectFromColumns":
						extra = map[string]any{"columns": []any{"name", "region"}}
						resources = append(resources, genTable(t, map[string]any{"columns": []any{"ssn"}}))
					case "CreateTable", "SetTableProperties", "CreateMaterializedView", "SetMaterializedViewProperties":
						extra = map[string]any{"properties": map[string]any{"format": "ORC", "bucket_count": nil}}
					}
					r := genTable(t, extra)
					if op == "ExecuteTableProcedure" {
						r["function"] = map[string]any{"functionName": "optimize"}
					}
					resources = append(resources, r)
				}
				switch op {
				case "RenameTable", "RenameView", "RenameMaterializedView":
					extras = []map[string]any{
						{"targetResource": genTable([3]string{"memory", "sandbox", "renamed"}, nil)},
						{"targetResource": genTable([3]string{"hive", "sales", "renamed"}, nil)},
					}
				case "SetTableAuthorization", "SetViewAuthorization":
					extras = nil
					for _, g := range genGrantees {
						extras = append(extras, map[string]any{"grantee": g})
					}
				}
			case trino.ResFunction:
				for _, f := range genFunctions {
					resources = append(resources, genFunction(f))
				}
			case trino.ResColumn:
				for ti, t := range genTables {
					var batch []any
					var items [][]byte
					for _, c := range genColumns {
						body := genBody(u, op, map[string]any{"resource": genColumn(t, c)})
						if sampled(ti) {
							add(trino.EndpointColumnMask, body)
						}
						batch = append(batch, genColumn(t, c))
						items = append(items, body)
					}
					out = append(out, genRequest{endpoint: trino.EndpointBatchColumnMasks,
						body: genBody(u, op, map[string]any{"filterResources": batch}), items: items, itemEndpoint: trino.EndpointColumnMask})
				}
				continue
			}
			if strings.HasPrefix(op, "Filter") {
				// The unbatched form is each batch item, checked against the batch.
				out = append(out, batchOf(u, op, resources)...)
				continue
			}
			for _, r := range resources {
				for _, x := range extras {
					action := map[string]any{"resource": r}
					for k, v := range x {
						action[k] = v
					}
					add(trino.EndpointAllow, genBody(u, op, action))
				}
			}
		}
	}
	return out
}

// batchOf builds the batched form of a Filter* operation and, for each item,
// the unbatched request Trino would send without opa.policy.batched-uri.
func batchOf(user, op string, resources []map[string]any) []genRequest {
	if op != "FilterColumns" {
		items := make([][]byte, len(resources))
		batch := make([]any, len(resources))
		for i, r := range resources {
			items[i] = genBody(user, op, map[string]any{"resource": r})
			batch[i] = r
		}
		return []genRequest{{endpoint: trino.EndpointBatch, body: genBody(user, op, map[string]any{"filterResources": batch}),
			items: items, itemEndpoint: trino.EndpointAllow}}
	}
	// One batched request per table, indices into its columns.
	var out []genRequest
	for _, t := range genTables {
		var items [][]byte
		for _, c := range genColumns {
			items = append(items, genBody(user, op, map[string]any{"resource": genTable(t, map[string]any{"columns": []any{c}})}))
		}
		cols := make([]any, len(genColumns))
		for i, c := range genColumns {
			cols[i] = c
		}
		out = append(out, genRequest{endpoint: trino.EndpointBatch, itemEndpoint: trino.EndpointAllow, items: items,
			body: genBody(user, op, map[string]any{"filterResources": []any{genTable(t, map[string]any{"columns": cols})}})})
	}
	return out
}

// checkBatchesMatchItems asks each batch's items one at a time: a batch must
// keep exactly the items allowed alone, and batchColumnMasks must give each
// column the mask columnMask gives it.
func checkBatchesMatchItems(t *testing.T, baseURL string, reqs []genRequest) {
	t.Helper()
	for _, r := range reqs {
		if r.items == nil {
			continue
		}
		_, got, _ := postDecision(t, baseURL+"/v1/data/trino/"+r.endpoint, r.body)
		var want []any
		for i, item := range r.items {
			status, ans, _ := postDecision(t, baseURL+"/v1/data/trino/"+r.itemEndpoint, item)
			if status != http.StatusOK {
				t.Fatalf("item %d: status %d %s", i, status, ans)
			}
			var a map[string]any
			if err := json.Unmarshal(ans, &a); err != nil {
				t.Fatal(err)
			}
			switch r.itemEndpoint {
			case trino.EndpointAllow:
				if a["result"] == true {
					want = append(want, float64(i))
				}
			case trino.EndpointColumnMask:
				if ve, ok := a["result"]; ok {
					want = append(want, map[string]any{"index": float64(i), "viewExpression": ve})
				}
			}
		}
		if want == nil {
			want = []any{}
		}
		wantJSON, _ := json.Marshal(map[string]any{"result": want})
		if !jsonEqual(t, got, wantJSON) {
			t.Errorf("%s batch answered %s, its items one by one %s\nrequest %s", r.endpoint, bytes.TrimSpace(got), wantJSON, r.body)
		}
	}
}

// TestDifferentialLoadsLikeOpaRun guards the premise of the comparisons: what
// stock OPA loads from the policy directory really includes the test modules
// and testdata/ and examples/ documents that gatehouse skips, so "identical
// answers" shows they change nothing; and rego.Load, the library's own way
// to load paths, sees the same modules.
func TestDifferentialLoadsLikeOpaRun(t *testing.T) {
	dir := policiesWithRules(t, fixtureRules)
	res, err := loader.NewFileLoader().All([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var tests int
	for name := range res.Modules {
		if strings.HasSuffix(name, "_test.rego") {
			tests++
		}
	}
	if tests == 0 {
		t.Errorf("no *_test.rego module loaded from %s", dir)
	}
	for _, key := range []string{"testdata", "examples", "catalogs"} {
		if _, ok := res.Documents[key]; !ok {
			t.Errorf("data.%s not loaded from %s (documents: %v)", key, dir, slices.Sorted(maps.Keys(res.Documents)))
		}
	}
	r := rego.New(rego.Query("data.trino_test"), rego.Load([]string{dir}, nil))
	pq, err := r.PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := pq.Eval(context.Background()); err != nil || len(rs) == 0 {
		t.Errorf("rego.Load did not load the test package data.trino_test: %v", err)
	}
}
