package trino

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/policy"
	"github.com/gatehouse-authz/gatehouse/internal/store/sqlite"
)

// The decision benchmarks run the whole in-process path (decode, evaluate,
// shape-check, encode) against the shipped policies and a directory of
// 100,000 users in 10,000 groups. Run them with
//
//	go test -run '^$' -bench . -benchmem ./internal/trino/
//
// and record results in docs/performance.md.

const (
	benchUsers  = 100_000
	benchGroups = 10_000
)

// benchDirectory is a synthetic directory: user i is u<i>@example.com, Trino
// name u<i>, in groups g<i%10000> and g<(i*7)%10000>, with a region attribute;
// every 100th user holds IMPERSONATE_USER and every 1000th is disabled. It is
// built by authz.DirectoryValue, as the server builds its snapshot.
func benchDirectory() ast.Value {
	users := make([]directory.User, benchUsers)
	members := make([][]string, benchGroups)
	regions := []string{"EMEA", "APAC", "AMER"}
	for i := range users {
		email := fmt.Sprintf("u%d@example.com", i)
		g1, g2 := i%benchGroups, (i*7)%benchGroups
		var perms []directory.Permission
		if i%100 == 0 {
			perms = []directory.Permission{"IMPERSONATE_USER"}
		}
		groups := []string{fmt.Sprintf("g%d", g1), fmt.Sprintf("g%d", g2)}
		users[i] = directory.User{
			Email: email, FullName: fmt.Sprintf("User %d", i), IAM: "bim", UserID: email, Disabled: i%1000 == 999,
			Permissions: perms, Groups: groups,
			Attributes:  directory.Attributes{"region": {regions[i%3]}},
			ExternalIDs: map[string]string{directory.PlatformTrino: fmt.Sprintf("u%d", i)},
		}
		members[g1] = append(members[g1], email)
		if g2 != g1 {
			members[g2] = append(members[g2], email)
		}
	}
	groups := make([]directory.Group, benchGroups)
	for g := range groups {
		groups[g] = directory.Group{Name: fmt.Sprintf("g%d", g), Members: members[g], Attributes: directory.Attributes{}}
	}
	return authz.DirectoryValue(users, groups, authz.Settings{}, 1)
}

// benchHandler builds the decision handler over the shipped policies with
// the synthetic directory loaded. The store is empty: only Ready() is asked
// of the directory mirror, and the benchmarks never write.
func benchHandler(b *testing.B) http.Handler { return benchHandlerWith(b, nil) }

func benchHandlerWith(b *testing.B, cache *authz.DecisionCache) http.Handler {
	b.Helper()
	_, file, _, _ := runtime.Caller(0)
	return benchHandlerDir(b, filepath.Join(filepath.Dir(file), "..", "..", "policies"), cache)
}

// benchHandlerRules is benchHandler with the shipped policies over another
// rules.json.
func benchHandlerRules(b *testing.B, rules string) http.Handler {
	b.Helper()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "..", "policies")
	dir := b.TempDir()
	regos, err := filepath.Glob(filepath.Join(src, "*.rego"))
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range regos {
		if strings.HasSuffix(f, "_test.rego") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.json"), []byte(rules), 0o644); err != nil {
		b.Fatal(err)
	}
	return benchHandlerDir(b, dir, nil)
}

func benchHandlerDir(b *testing.B, dir string, cache *authz.DecisionCache) http.Handler {
	b.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := policy.New(ctx, dir, policy.WithLogger(log))
	if err != nil {
		b.Fatal(err)
	}
	snap := benchDirectory()
	if err := eng.Transact(ctx, func(s storage.Store, txn storage.Transaction) error {
		return s.Write(ctx, txn, storage.AddOp, storage.Path{policy.DirectoryKey}, snap)
	}); err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	d := authz.NewDirectory(st, eng, authz.Settings{}, log)
	a := authz.NewAuthorizer(eng, d, nil, nil)
	if cache != nil {
		a.SetCache(cache)
	}
	mux := http.NewServeMux()
	NewHandler(a, log, 0).Register(mux)
	return mux
}

func benchBody(b *testing.B, v any) []byte {
	body, err := json.Marshal(map[string]any{"input": v})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func identity(user string) map[string]any {
	return map[string]any{"identity": map[string]any{"user": user, "groups": []string{}}, "softwareStack": map[string]any{"trinoVersion": "476"}}
}

// runDecision posts body to path b.N times and reports latency percentiles.
func runDecision(b *testing.B, h http.Handler, path string, body []byte, check func([]byte)) {
	b.Helper()
	runDecisions(b, h, path, [][]byte{body}, check)
}

// runDecisions posts bodies to path in turn, b.N requests in all, and
// reports latency percentiles. check sees the answer to the first.
func runDecisions(b *testing.B, h http.Handler, path string, bodies [][]byte, check func([]byte)) {
	b.Helper()
	runDecisionsFunc(b, h, path, func(i int) []byte { return bodies[max(i, 0)%len(bodies)] }, check)
}

// runDecisionsFunc is runDecisions with request i's body from body(i) (built
// outside the latency measured); body(-1) is the first, checked request's.
func runDecisionsFunc(b *testing.B, h http.Handler, path string, body func(int) []byte, check func([]byte)) {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body(-1))))
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
	check(rec.Body.Bytes())
	lat := make([]time.Duration, 0, b.N)
	// Start from a collected heap: building the 100,000-user directory leaves
	// collections to run, which would otherwise land in the first iterations.
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body := body(i)
		start := time.Now()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func BenchmarkDecisionAllowSelect(b *testing.B) {
	h := benchHandler(b)
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{
		"operation": "SelectFromColumns",
		"resource": map[string]any{"table": map[string]any{"catalogName": "tpch", "schemaName": "tiny", "tableName": "nation",
			"columns": []string{"nationkey", "name", "regionkey"}}}}})
	runDecision(b, h, "/v1/data/trino/allow", body, func(out []byte) {
		if string(bytes.TrimSpace(out)) != `{"result":true}` {
			b.Fatalf("allow answered %s", out)
		}
	})
}

// BenchmarkDecisionAllowSelectNewUser is AllowSelect asked for a different
// user each time, 100,000 users in a stride that revisits none of them for
// 100,000 requests: no identity memo (internal/policy/memo.go) ever helps, as
// for the first check of a user's first query.
func BenchmarkDecisionAllowSelectNewUser(b *testing.B) {
	h := benchHandler(b)
	bodies := make([][]byte, benchUsers)
	for i := range bodies {
		u := (i * 7919) % benchUsers
		bodies[i] = benchBody(b, map[string]any{"context": identity(fmt.Sprintf("u%d", u)), "action": map[string]any{
			"operation": "SelectFromColumns",
			"resource": map[string]any{"table": map[string]any{"catalogName": "tpch", "schemaName": "tiny", "tableName": "nation",
				"columns": []string{"nationkey", "name", "regionkey"}}}}})
	}
	runDecisions(b, h, "/v1/data/trino/allow", bodies, func(out []byte) {
		if string(bytes.TrimSpace(out)) != `{"result":true}` {
			b.Fatalf("allow answered %s", out)
		}
	})
}

func BenchmarkDecisionAllowExecuteQuery(b *testing.B) {
	h := benchHandler(b)
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{"operation": "ExecuteQuery"}})
	runDecision(b, h, "/v1/data/trino/allow", body, func(out []byte) {
		if string(bytes.TrimSpace(out)) != `{"result":true}` {
			b.Fatalf("allow answered %s", out)
		}
	})
}

func BenchmarkDecisionImpersonateUser(b *testing.B) {
	h := benchHandler(b)
	body := benchBody(b, map[string]any{"context": identity("u4200"), "action": map[string]any{
		"operation": "ImpersonateUser", "resource": map[string]any{"user": map[string]any{"user": "u17"}}}})
	runDecision(b, h, "/v1/data/trino/allow", body, func(out []byte) {
		if string(bytes.TrimSpace(out)) != `{"result":true}` {
			b.Fatalf("impersonate answered %s", out)
		}
	})
}

func BenchmarkDecisionFilterTables10k(b *testing.B) {
	h := benchHandler(b)
	items := make([]any, 10_000)
	for i := range items {
		items[i] = map[string]any{"table": map[string]any{"catalogName": "memory", "schemaName": fmt.Sprintf("s%d", i%10), "tableName": fmt.Sprintf("t%d", i)}}
	}
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{"operation": "FilterTables", "filterResources": items}})
	runDecision(b, h, "/v1/data/trino/batch", body, func(out []byte) {
		var r struct{ Result []int }
		if err := json.Unmarshal(out, &r); err != nil || len(r.Result) != len(items) {
			b.Fatalf("batch kept %d of %d: %.200s", len(r.Result), len(items), out)
		}
	})
}

func BenchmarkDecisionBatchColumnMasks500(b *testing.B) {
	h := benchHandler(b)
	items := make([]any, 500)
	for i := range items {
		items[i] = map[string]any{"column": map[string]any{"catalogName": "memory", "schemaName": "hr", "tableName": "wide",
			"columnName": fmt.Sprintf("c%d", i), "columnType": "varchar"}}
	}
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{"operation": "GetColumnMask", "filterResources": items}})
	runDecision(b, h, "/v1/data/trino/batchColumnMasks", body, func(out []byte) {
		if !bytes.HasPrefix(out, []byte(`{"result":[`)) {
			b.Fatalf("batchColumnMasks answered %.200s", out)
		}
	})
}

// The shipped rules.json gives a regular user SELECT on every table, so
// FilterTables10k is answered without looking at a single table name. These
// two use rules that make gatehouse look at names: FilterTables planned per
// schema with a table pattern to match in half of them, and masks on 50 of
// the 500 columns, templated with the user's attributes.
const benchTableRules = `{
  "catalogs": [{"permission": "GOVERNANCE", "allow": "all"}, {"allow": "read-only"}],
  "schemas": [{"permission": "GOVERNANCE", "owner": true}, {"owner": false}],
  "tables": [
    {"permission": "GOVERNANCE", "privileges": ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"]},
    {"schema": "s[0-4]", "table": "t1.*", "privileges": []},
    {"schema": "s[0-4]", "privileges": ["SELECT"]},
    {"catalog": "memory", "schema": "hr", "table": "wide", "privileges": ["SELECT"], "columns": MASKS},
    {"privileges": []}
  ]
}`

func benchRulesWithMasks() string {
	masks := make([]string, 50)
	for i := range masks {
		masks[i] = fmt.Sprintf(`{"name": "c%d", "mask": "CASE WHEN region IN (${user.attributes.region}) THEN c%d END"}`, i*10, i*10)
	}
	return strings.Replace(benchTableRules, "MASKS", "["+strings.Join(masks, ", ")+"]", 1)
}

func BenchmarkDecisionFilterTables10kTableRules(b *testing.B) {
	h := benchHandlerRules(b, benchRulesWithMasks())
	items := make([]any, 10_000)
	for i := range items {
		items[i] = map[string]any{"table": map[string]any{"catalogName": "memory", "schemaName": fmt.Sprintf("s%d", i%10), "tableName": fmt.Sprintf("t%d", i)}}
	}
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{"operation": "FilterTables", "filterResources": items}})
	want := 0 // the tables of s0..s4 but t1*; none of s5..s9
	for i := range items {
		if i%10 < 5 && !strings.HasPrefix(fmt.Sprintf("t%d", i), "t1") {
			want++
		}
	}
	runDecision(b, h, "/v1/data/trino/batch", body, func(out []byte) {
		var r struct{ Result []int }
		if err := json.Unmarshal(out, &r); err != nil || len(r.Result) != want {
			b.Fatalf("batch kept %d of %d, want %d: %.200s", len(r.Result), len(items), want, out)
		}
	})
}

func BenchmarkDecisionBatchColumnMasks500Masked(b *testing.B) {
	h := benchHandlerRules(b, benchRulesWithMasks())
	items := make([]any, 500)
	for i := range items {
		items[i] = map[string]any{"column": map[string]any{"catalogName": "memory", "schemaName": "hr", "tableName": "wide",
			"columnName": fmt.Sprintf("c%d", i), "columnType": "varchar"}}
	}
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{"operation": "GetColumnMask", "filterResources": items}})
	runDecision(b, h, "/v1/data/trino/batchColumnMasks", body, func(out []byte) {
		var r struct{ Result []ColumnMask }
		if err := json.Unmarshal(out, &r); err != nil || len(r.Result) != 50 || !strings.Contains(r.Result[0].ViewExpression.Expression, "'EMEA'") {
			b.Fatalf("batchColumnMasks answered %.300s", out)
		}
	})
}

// BenchmarkDecisionAllowSelectCached is the same request as
// BenchmarkDecisionAllowSelect answered from the decision cache, as Trino's
// repeated checks are between directory and policy changes.
func BenchmarkDecisionAllowSelectCached(b *testing.B) {
	h := benchHandlerWith(b, authz.NewDecisionCache(50_000, 64<<10))
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{
		"operation": "SelectFromColumns",
		"resource": map[string]any{"table": map[string]any{"catalogName": "tpch", "schemaName": "tiny", "tableName": "nation",
			"columns": []string{"nationkey", "name", "regionkey"}}}}})
	runDecision(b, h, "/v1/data/trino/allow", body, func(out []byte) {
		if string(bytes.TrimSpace(out)) != `{"result":true}` {
			b.Fatalf("allow answered %s", out)
		}
	})
}

// BenchmarkDecodeFilterTables10k is the request decoder alone (JSON → AST,
// shape checks) on the FilterTables10k body.
func BenchmarkDecodeFilterTables10k(b *testing.B) {
	items := make([]any, 10_000)
	for i := range items {
		items[i] = map[string]any{"table": map[string]any{"catalogName": "memory", "schemaName": fmt.Sprintf("s%d", i%10), "tableName": fmt.Sprintf("t%d", i)}}
	}
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{"operation": "FilterTables", "filterResources": items}})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for range b.N {
		if _, err := Decode(body, EndpointBatch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSelect is the request decoder alone on the AllowSelect body.
func BenchmarkDecodeSelect(b *testing.B) {
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{
		"operation": "SelectFromColumns",
		"resource": map[string]any{"table": map[string]any{"catalogName": "tpch", "schemaName": "tiny", "tableName": "nation",
			"columns": []string{"nationkey", "name", "regionkey"}}}}})
	b.ReportAllocs()
	for range b.N {
		if _, err := Decode(body, EndpointAllow); err != nil {
			b.Fatal(err)
		}
	}
}

// bench1000TableRules is rules.json with rules for 1,000 tables, as issue 7's
// harness (bench/decisions) generates them: table t<k> of hive.sales_<k%20>
// readable by everyone, except every tenth, readable by group g<k> only;
// every third masks its email column, every fifth filters rows by the user's
// region; anything else readable.
func bench1000TableRules() string {
	var tables []string
	tables = append(tables, `{"permission": "GOVERNANCE", "privileges": ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"]}`)
	for k := range 1000 {
		r := fmt.Sprintf(`"catalog": "hive", "schema": "sales_%d", "table": "t%d", "privileges": ["SELECT"]`, k%20, k)
		if k%10 == 0 {
			r += fmt.Sprintf(`, "group": "g%d"`, k)
		}
		if k%3 == 0 {
			r += `, "columns": [{"name": "email", "mask": "'***'"}]`
		}
		if k%5 == 0 {
			r += `, "filter": "region IN (${user.attributes.region})"`
		}
		tables = append(tables, "{"+r+"}")
		if k%10 == 0 {
			tables = append(tables, fmt.Sprintf(`{"catalog": "hive", "schema": "sales_%d", "table": "t%d", "privileges": []}`, k%20, k))
		}
	}
	tables = append(tables, `{"privileges": ["SELECT"]}`)
	return `{
  "catalogs": [{"permission": "GOVERNANCE", "allow": "all"}, {"allow": "read-only"}],
  "schemas": [{"permission": "GOVERNANCE", "owner": true}, {"owner": false}],
  "tables": [` + strings.Join(tables, ",\n") + `],
  "queries": [{"permission": "AUDIT|GOVERNANCE", "allow": ["execute", "view", "kill"]}, {"allow": ["execute"]}],
  "impersonation": []
}`
}

func selectBody(b *testing.B, user, catalog, schema, table string) []byte {
	return benchBody(b, map[string]any{"context": identity(user), "action": map[string]any{
		"operation": "SelectFromColumns",
		"resource": map[string]any{"table": map[string]any{"catalogName": catalog, "schemaName": schema, "tableName": table,
			"columns": []string{"id", "email", "region"}}}}})
}

// With 1,000 table rules: the same user and table again (identity memo warm).
func BenchmarkDecision1kRulesSelect(b *testing.B) {
	h := benchHandlerRules(b, bench1000TableRules())
	body := selectBody(b, "u4242", "hive", "sales_7", "t427")
	runDecision(b, h, "/v1/data/trino/allow", body, func(out []byte) {
		if string(bytes.TrimSpace(out)) != `{"result":true}` {
			b.Fatalf("allow answered %s", out)
		}
	})
}

// With 1,000 table rules: the same user, another table each time.
func BenchmarkDecision1kRulesSelectNewTable(b *testing.B) {
	h := benchHandlerRules(b, bench1000TableRules())
	bodies := make([][]byte, 1000)
	for k := range bodies {
		kk := (k*7 + 1) % 1000
		bodies[k] = selectBody(b, "u4242", "hive", fmt.Sprintf("sales_%d", kk%20), fmt.Sprintf("t%d", kk))
	}
	runDecisions(b, h, "/v1/data/trino/allow", bodies, func(out []byte) {
		if string(bytes.TrimSpace(out)) != `{"result":true}` {
			b.Fatalf("allow answered %s", out)
		}
	})
}

// With 1,000 table rules: a new user and table each time (nothing memoised).
func BenchmarkDecision1kRulesSelectNewUser(b *testing.B) {
	h := benchHandlerRules(b, bench1000TableRules())
	bodies := make([][]byte, 20_000)
	for i := range bodies {
		u, kk := (i*7919)%benchUsers, (i*7+1)%1000
		bodies[i] = selectBody(b, fmt.Sprintf("u%d", u), "hive", fmt.Sprintf("sales_%d", kk%20), fmt.Sprintf("t%d", kk))
	}
	runDecisions(b, h, "/v1/data/trino/allow", bodies, func(out []byte) {
		if string(bytes.TrimSpace(out)) != `{"result":true}` {
			b.Fatalf("allow answered %s", out)
		}
	})
}

func BenchmarkDecision1kRulesFilterTables10k(b *testing.B) {
	h := benchHandlerRules(b, bench1000TableRules())
	items := make([]any, 10_000)
	for i := range items {
		items[i] = map[string]any{"table": map[string]any{"catalogName": "hive", "schemaName": fmt.Sprintf("sales_%d", i%20), "tableName": fmt.Sprintf("t%d", i)}}
	}
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{"operation": "FilterTables", "filterResources": items}})
	runDecision(b, h, "/v1/data/trino/batch", body, func(out []byte) {
		var r struct{ Result []int }
		if err := json.Unmarshal(out, &r); err != nil || len(r.Result) < 9_000 || len(r.Result) == len(items) {
			b.Fatalf("batch kept %d of %d: %.200s", len(r.Result), len(items), out)
		}
	})
}

// BenchmarkDecision1kRulesFilterTables10kNewUser is 1kRulesFilterTables10k
// asked for a different user each time, in the stride of
// 1kRulesSelectNewUser (u0..u99999): no identity memo helps, as for the
// first SHOW TABLES of a user's session.
func BenchmarkDecision1kRulesFilterTables10kNewUser(b *testing.B) {
	h := benchHandlerRules(b, bench1000TableRules())
	items := make([]any, 10_000)
	for i := range items {
		items[i] = map[string]any{"table": map[string]any{"catalogName": "hive", "schemaName": fmt.Sprintf("sales_%d", i%20), "tableName": fmt.Sprintf("t%d", i)}}
	}
	// The bodies differ in the user only, near their end (json.Marshal sorts
	// keys: "action" before "context"): one buffer holds the common prefix and
	// each request rewrites the rest.
	tmpl := benchBody(b, map[string]any{"context": identity("USER"), "action": map[string]any{"operation": "FilterTables", "filterResources": items}})
	at := bytes.LastIndex(tmpl, []byte(`"USER"`))
	prefix, suffix := tmpl[:at], tmpl[at+len(`"USER"`):]
	buf := append(make([]byte, 0, len(tmpl)+16), prefix...)
	body := func(i int) []byte {
		u := 4242 // the first, checked request
		if i >= 0 {
			u = (i * 7919) % benchUsers
		}
		buf = fmt.Appendf(buf[:len(prefix)], `"u%d"`, u)
		return append(buf, suffix...)
	}
	runDecisionsFunc(b, h, "/v1/data/trino/batch", body, func(out []byte) {
		var r struct{ Result []int }
		if err := json.Unmarshal(out, &r); err != nil || len(r.Result) < 9_000 || len(r.Result) == len(items) {
			b.Fatalf("batch kept %d of %d: %.200s", len(r.Result), len(items), out)
		}
	})
}

func BenchmarkDecision1kRulesBatchColumnMasks500(b *testing.B) {
	h := benchHandlerRules(b, bench1000TableRules())
	items := make([]any, 500)
	for i := range items {
		name := fmt.Sprintf("c%d", i)
		if i == 499 {
			name = "email"
		}
		items[i] = map[string]any{"column": map[string]any{"catalogName": "hive", "schemaName": "sales_3", "tableName": "t3",
			"columnName": name, "columnType": "varchar"}}
	}
	body := benchBody(b, map[string]any{"context": identity("u4242"), "action": map[string]any{"operation": "GetColumnMask", "filterResources": items}})
	runDecision(b, h, "/v1/data/trino/batchColumnMasks", body, func(out []byte) {
		if !strings.Contains(string(out), `"index":499`) {
			b.Fatalf("batchColumnMasks answered %.300s", out)
		}
	})
}

// BenchmarkDecision1kRulesQueryNewUser is one simulated Trino query per
// iteration, as the load test sends them, for a user not seen before (users
// u0..u99999 in a stride that revisits none for 100,000 queries): ExecuteQuery,
// AccessCatalog, then SelectFromColumns of 2-8 columns of one table (80%
// hive.sales_<k%20>.t<k>, 20% tpch.tiny.<table>). The identity memo helps only
// the second and third checks of each query. Reported per request.
func BenchmarkDecision1kRulesQueryNewUser(b *testing.B) {
	h := benchHandlerRules(b, bench1000TableRules())
	const queries = 20_000
	tpch := []string{"nation", "region", "customer", "orders", "lineitem", "part", "partsupp", "supplier"}
	cols := []string{"id", "email", "region", "name", "amount", "created", "status", "note"}
	type req struct {
		path string
		body []byte
	}
	reqs := make([]req, 0, 3*queries)
	for i := range queries {
		user := fmt.Sprintf("u%d", (i*7919)%benchUsers)
		ctx := identity(user)
		reqs = append(reqs,
			req{"/v1/data/trino/allow", benchBody(b, map[string]any{"context": ctx, "action": map[string]any{"operation": "ExecuteQuery"}})},
			req{"/v1/data/trino/allow", benchBody(b, map[string]any{"context": ctx, "action": map[string]any{
				"operation": "AccessCatalog", "resource": map[string]any{"catalog": map[string]any{"name": "hive"}}}})})
		catalog, schema, table := "tpch", "tiny", tpch[i%len(tpch)]
		if i%5 != 4 {
			k := (i*7 + 1) % 1000
			catalog, schema, table = "hive", fmt.Sprintf("sales_%d", k%20), fmt.Sprintf("t%d", k)
		}
		reqs = append(reqs, req{"/v1/data/trino/allow", benchBody(b, map[string]any{"context": ctx, "action": map[string]any{
			"operation": "SelectFromColumns",
			"resource": map[string]any{"table": map[string]any{"catalogName": catalog, "schemaName": schema, "tableName": table,
				"columns": cols[:2+i%7]}}}})})
	}
	for _, r := range reqs[:3] {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, r.path, bytes.NewReader(r.body)))
		if rec.Code != http.StatusOK || string(bytes.TrimSpace(rec.Body.Bytes())) != `{"result":true}` {
			b.Fatalf("%s: %d %s", r.path, rec.Code, rec.Body)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// one query's checks; the first query again only after 20,000 others
		q := 3 + (i%(queries-1))*3
		start := time.Now()
		for _, r := range reqs[q : q+3] {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, r.path, bytes.NewReader(r.body)))
		}
		lat = append(lat, time.Since(start)/3)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(3*b.N), "ns/req")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
