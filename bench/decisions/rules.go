package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The rules of the run: Trino file-based rules.json for 1,000 tables, in the
// shape an operator with per-table grants would write. Every table k has its
// own rule, so both engines walk a long first-match chain; one table in ten is
// restricted to a directory group (a grant followed by a deny for the same
// table, the usual way to say "only this group"), one in three masks a column
// and one in five filters rows by a templated directory attribute. GOVERNANCE
// holders come first with every privilege, and a catch-all grants SELECT on
// everything else (the tpch tables and FilterTables' t1000..t9999).

// ruleTables is how many tables have rules of their own.
const ruleTables = 1000

// ruleSchemas is how many sales_<n> schemas the tables spread over.
const ruleSchemas = 20

var allTablePrivileges = []string{"SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"}

// rulesDoc is rules.json; only the sections the run sets are present, so the
// others keep Trino's defaults on both engines.
type rulesDoc struct {
	Catalogs      []map[string]any `json:"catalogs"`
	Schemas       []map[string]any `json:"schemas"`
	Tables        []map[string]any `json:"tables"`
	Queries       []map[string]any `json:"queries"`
	Impersonation []map[string]any `json:"impersonation"`
}

// tableName and schemaOf name table k of the rules (and of FilterTables,
// which goes on past ruleTables with the same naming).
func tableName(k int) string { return fmt.Sprintf("t%d", k) }
func schemaOf(k int) string  { return fmt.Sprintf("sales_%d", k%ruleSchemas) }

// generateRules builds rules.json for the run: tables of their own (the
// run has ruleTables; tests take fewer, the same rules for the first ones).
func generateRules(tables int) rulesDoc {
	d := rulesDoc{
		Catalogs: []map[string]any{{"permission": "GOVERNANCE", "allow": "all"}, {"allow": "read-only"}},
		Schemas:  []map[string]any{{"permission": "GOVERNANCE", "owner": true}, {"owner": false}},
		Queries: []map[string]any{
			{"permission": "AUDIT|GOVERNANCE", "allow": []string{"execute", "view", "kill"}},
			{"allow": []string{"execute"}},
		},
		Impersonation: []map[string]any{},
	}
	d.Tables = append(d.Tables, map[string]any{"permission": "GOVERNANCE", "privileges": allTablePrivileges})
	for k := range tables {
		where := func() map[string]any {
			return map[string]any{"catalog": "hive", "schema": schemaOf(k), "table": tableName(k)}
		}
		r := where()
		r["privileges"] = []string{"SELECT"}
		if k%10 == 0 {
			r["group"] = fmt.Sprintf("g%d", k)
		}
		if k%3 == 0 {
			r["columns"] = []map[string]any{{"name": "email", "mask": "'***'"}}
		}
		if k%5 == 0 {
			r["filter"] = "region IN (${user.attributes.region})"
		}
		d.Tables = append(d.Tables, r)
		if k%10 == 0 {
			deny := where()
			deny["privileges"] = []string{}
			d.Tables = append(d.Tables, deny)
		}
	}
	d.Tables = append(d.Tables, map[string]any{"privileges": []string{"SELECT"}})
	return d
}

// writePolicies makes dst the run's policy directory: every non-test .rego
// of src (the bundle as it is in the tree, whatever the other changes in
// flight) and the generated rules.json. Tests, testdata and examples stay
// out, so stock OPA loads exactly what gatehouse serves.
func writePolicies(src, dst string, rules rulesDoc) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	regos, err := filepath.Glob(filepath.Join(src, "*.rego"))
	if err != nil {
		return err
	}
	if len(regos) == 0 {
		return fmt.Errorf("no .rego files in %s", src)
	}
	for _, f := range regos {
		if strings.HasSuffix(f, "_test.rego") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), data, 0o644); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(rules, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, "rules.json"), append(data, '\n'), 0o644)
}
