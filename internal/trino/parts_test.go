package trino_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/server/servertest"
)

// filterTablesBody is a FilterTables request for alice over the given
// catalog.schema.table names.
func filterTablesBody(names ...string) []byte {
	var items []string
	for _, n := range names {
		p := strings.SplitN(n, ".", 3)
		items = append(items, fmt.Sprintf(`{"table": {"catalogName": %q, "schemaName": %q, "tableName": %q}}`, p[0], p[1], p[2]))
	}
	return []byte(`{"input": {"context": {"identity": {"user": "alice", "groups": []}, "softwareStack": {"trinoVersion": "476"}},
		"action": {"operation": "FilterTables", "filterResources": [` + strings.Join(items, ",") + `]}}}`)
}

// A batch evaluated in parts answers what it answers in one go, and an error
// in any part fails the whole decision (500), even when the other parts
// answered: never a partial allow.
func TestBatchInPartsSameAnswerAndFailsClosed(t *testing.T) {
	// Everything readable but the tables of tpch.sf1.
	rules := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(rules, []byte(`{"catalogs": [{"allow": "read-only"}], "schemas": [{"owner": false}],
		"tables": [{"catalog": "tpch", "schema": "sf1", "privileges": []}, {"privileges": ["SELECT"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := policiesWithRules(t, rules)
	// A second definition of batch that conflicts with the shipped one as
	// soon as a table named "boom" is in the (part of the) batch.
	boom := "package trino\n\nbatch := [0] if input.action.filterResources[_].table.tableName == \"boom\"\n"
	if err := os.WriteFile(filepath.Join(dir, "boom.rego"), []byte(boom), 0o644); err != nil {
		t.Fatal(err)
	}
	whole := servertest.Start(t, "", func(c *config.Config) { c.PoliciesDir, c.BatchSplitItems = dir, 0 })
	parts := servertest.Start(t, "", func(c *config.Config) { c.PoliciesDir, c.BatchSplitItems = dir, 2 })
	for _, srv := range []*servertest.Server{whole, parts} {
		adminCall(t, srv.URL, "POST", "/api/v1/users", map[string]string{"email": "alice@example.com", "fullName": "Alice"}, http.StatusCreated)
		adminCall(t, srv.URL, "PUT", "/api/v1/users/alice@example.com/external-ids/trino", map[string]string{"username": "alice"}, http.StatusOK)
	}
	var names []string
	for i := range 9 {
		names = append(names, []string{"tpch.tiny.nation", "tpch.sf1.orders", "blackhole.default.t", "memory.information_schema.tables"}[i%4])
	}
	body := filterTablesBody(names...)
	ws, wb, _ := postDecision(t, whole.URL+"/v1/data/trino/batch", body)
	ps, pb, _ := postDecision(t, parts.URL+"/v1/data/trino/batch", body)
	if ws != http.StatusOK || ps != http.StatusOK || !jsonEqual(t, wb, pb) {
		t.Fatalf("in one go: %d %s; in parts: %d %s", ws, wb, ps, pb)
	}
	if !jsonEqual(t, wb, []byte(`{"result": [0, 2, 3, 4, 6, 7, 8]}`)) {
		t.Fatalf("kept %s, want all but the tpch.sf1 tables (1, 5)", wb)
	}
	body = filterTablesBody(append(names, "tpch.tiny.boom")...)
	for _, srv := range []*servertest.Server{whole, parts} {
		status, got, _ := postDecision(t, srv.URL+"/v1/data/trino/batch", body)
		if status != http.StatusInternalServerError || !strings.Contains(string(got), "internal_error") {
			t.Fatalf("a batch whose last part fails: %d %s, want 500", status, got)
		}
	}
}
