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
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
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
// name u<i>, in groups g<i%10000> and g<(i*7)%10000>, with a region attribute.
func benchDirectory() ast.Value {
	users := ast.NewObject()
	trinoUsers := ast.NewObject()
	members := make([][]*ast.Term, benchGroups)
	regions := []string{"EMEA", "APAC", "AMER"}
	for i := range benchUsers {
		email := fmt.Sprintf("u%d@example.com", i)
		g1, g2 := i%benchGroups, (i*7)%benchGroups
		perms := ast.NewArray()
		if i%100 == 0 {
			perms = ast.NewArray(ast.StringTerm("IMPERSONATE_USER"))
		}
		users.Insert(ast.StringTerm(email), ast.ObjectTerm(
			ast.Item(ast.StringTerm("email"), ast.StringTerm(email)),
			ast.Item(ast.StringTerm("fullName"), ast.StringTerm(fmt.Sprintf("User %d", i))),
			ast.Item(ast.StringTerm("iam"), ast.StringTerm("bim")),
			ast.Item(ast.StringTerm("userId"), ast.StringTerm(email)),
			ast.Item(ast.StringTerm("disabled"), ast.BooleanTerm(i%1000 == 999)),
			ast.Item(ast.StringTerm("permissions"), ast.NewTerm(perms)),
			ast.Item(ast.StringTerm("groups"), ast.ArrayTerm(ast.StringTerm(fmt.Sprintf("g%d", g1)), ast.StringTerm(fmt.Sprintf("g%d", g2)))),
			ast.Item(ast.StringTerm("attributes"), ast.ObjectTerm(ast.Item(ast.StringTerm("region"), ast.ArrayTerm(ast.StringTerm(regions[i%3]))))),
			ast.Item(ast.StringTerm("externalIds"), ast.ObjectTerm(ast.Item(ast.StringTerm("trino"), ast.StringTerm(fmt.Sprintf("u%d", i))))),
		))
		trinoUsers.Insert(ast.StringTerm(fmt.Sprintf("u%d", i)), ast.StringTerm(email))
		members[g1] = append(members[g1], ast.StringTerm(email))
		if g2 != g1 {
			members[g2] = append(members[g2], ast.StringTerm(email))
		}
	}
	groups := ast.NewObject()
	for g := range benchGroups {
		groups.Insert(ast.StringTerm(fmt.Sprintf("g%d", g)), ast.ObjectTerm(
			ast.Item(ast.StringTerm("description"), ast.StringTerm("")),
			ast.Item(ast.StringTerm("email"), ast.StringTerm("")),
			ast.Item(ast.StringTerm("members"), ast.NewTerm(ast.NewArray(members[g]...))),
			ast.Item(ast.StringTerm("attributes"), ast.NewTerm(ast.NewObject())),
		))
	}
	return ast.NewObject(
		ast.Item(ast.StringTerm("users"), ast.NewTerm(users)),
		ast.Item(ast.StringTerm("trinoUsers"), ast.NewTerm(trinoUsers)),
		ast.Item(ast.StringTerm("groups"), ast.NewTerm(groups)),
		ast.Item(ast.StringTerm("settings"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("impersonation"), ast.ObjectTerm(
				ast.Item(ast.StringTerm("allowedServiceUsers"), ast.ArrayTerm()),
				ast.Item(ast.StringTerm("mode"), ast.StringTerm("session")))),
			ast.Item(ast.StringTerm("policyExemptUsers"), ast.ArrayTerm()))),
		ast.Item(ast.StringTerm("revision"), ast.IntNumberTerm(1)),
	)
}

// benchHandler builds the decision handler over the shipped policies with
// the synthetic directory loaded. The store is empty: only Ready() is asked
// of the directory mirror, and the benchmarks never write.
func benchHandler(b *testing.B) http.Handler { return benchHandlerWith(b, nil) }

func benchHandlerWith(b *testing.B, cache *authz.DecisionCache) http.Handler {
	b.Helper()
	ctx := context.Background()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "policies")
	if d := os.Getenv("TMP_BENCH_POLICIES"); d != "" {
		dir = d
	}
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
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
	check(rec.Body.Bytes())
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
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
