# The first-match fast paths of access.rego and rules.rego (catalogs matched
# from precomputed tuples, tables looked up in an index by literal names) give
# the same answers as matching field by field: anchored patterns, names with NUL
# characters, names that are not strings (which gatehouse refuses before
# evaluating, but stock OPA evaluates), literal and regex rules interleaved.
package trino_test

import data.trino

test_anchored_table_patterns_match_field_by_field if {
	r := {"tables": [
		{"catalog": "^c$", "schema": "^s1$", "table": "t.*$", "privileges": ["SELECT"]},
		{"schema": "s\\d$", "privileges": ["INSERT"]},
		{"privileges": []},
	]}
	allowed(alice, columns_op("SelectFromColumns", "c", "s1", "t1", ["a"]), r)
	not allowed(alice, columns_op("SelectFromColumns", "c", "s2", "t1", ["a"]), r)
	allowed(alice, table_op("InsertIntoTable", "c", "s2", "t1"), r)
	not allowed(alice, table_op("InsertIntoTable", "c", "sx", "t1"), r)
}

test_regex_table_patterns if {
	r := {"tables": [{"schema": "s[12]", "table": "t.*", "privileges": ["SELECT"]}, {"privileges": []}]}
	allowed(alice, columns_op("SelectFromColumns", "c", "s1", "tx", ["a"]), r)
	not allowed(alice, columns_op("SelectFromColumns", "c", "s3", "tx", ["a"]), r)
	not allowed(alice, columns_op("SelectFromColumns", "c", "s1", "x", ["a"]), r)
}

test_names_with_nul_characters if {
	r := {"tables": [{"table": "x.y", "privileges": ["SELECT"]}, {"schema": ".*", "table": "z", "privileges": ["INSERT"]}]}

	# "." matches NUL: the name is matched field by field, not through the joined key
	allowed(alice, columns_op("SelectFromColumns", "c", "s", "x\u0000y", ["a"]), r)
	allowed(alice, table_op("InsertIntoTable", "c", "s\u0000t", "z"), r)
	not allowed(alice, table_op("InsertIntoTable", "c", "s\u0000t", "z\u0000"), r)
}

test_names_that_are_not_strings if {
	# absent patterns match any value, as before; patterns match strings only
	r := {"catalogs": [{"catalog": "c", "allow": "none"}, {"allow": "all"}], "tables": [{"table": "t", "privileges": []}, {"privileges": ["SELECT"]}]}
	allowed(alice, catalog_op("AccessCatalog", 5), r)
	allowed(alice, columns_op("SelectFromColumns", 5, 6, 7, ["a"]), r)
	not allowed(alice, catalog_op("AccessCatalog", "c"), r)
	not allowed(alice, columns_op("SelectFromColumns", "x", "s", "t", ["a"]), r)
}

test_regex_and_role_conditions_are_checked_only_by_rules_that_have_them if {
	r := {"tables": [
		{"role": "adm.*", "privileges": ["OWNERSHIP"]},
		{"group": "st.ff", "privileges": ["INSERT"]},
		{"user": "al.*", "privileges": ["DELETE"]},
		{"privileges": ["SELECT"]},
	]}
	allowed(admin, table_op("DropTable", "c", "s", "t"), r)
	not allowed(alice, table_op("DropTable", "c", "s", "t"), r)
	allowed(alice, table_op("InsertIntoTable", "c", "s", "t"), r)
	not allowed(alice, table_op("DeleteFromTable", "c", "s", "t"), r) # the group rule came first
	not allowed(joe, table_op("InsertIntoTable", "c", "s", "t"), r)
	allowed(joe, columns_op("SelectFromColumns", "c", "s", "t", ["a"]), r)
}

# Literal rules are filed under their names, regex ones scanned; the candidates
# keep rules.json order, so the first match is Trino's.
test_table_index_keeps_rules_order if {
	r := {"tables": [
		{"catalog": "c", "schema": "s", "table": "t", "privileges": ["SELECT"]},
		{"schema": "s.*", "privileges": ["INSERT"]},
		{"catalog": "c", "table": "t", "privileges": ["DELETE"]},
		{"catalog": "c", "schema": "s", "table": "u", "privileges": []},
		{"privileges": ["UPDATE"]},
	]}
	privs(trino._table_rules3("c", "s", "t")) == [{"SELECT"}, {"INSERT"}, {"DELETE"}, {"UPDATE"}] with data.trino.rules as r
	privs(trino._table_rules3("c", "s", "u")) == [{"INSERT"}, set(), {"UPDATE"}] with data.trino.rules as r
	privs(trino._table_rules3("c", "x", "t")) == [{"DELETE"}, {"UPDATE"}] with data.trino.rules as r
	privs(trino._table_rules2("c", "s")) == [{"SELECT"}, {"INSERT"}, {"DELETE"}, set(), {"UPDATE"}] with data.trino.rules as r
	privs(trino._table_rules2("c", "x")) == [{"DELETE"}, {"UPDATE"}] with data.trino.rules as r
	trino._first_table_rule1("c").privs == {"SELECT"} with data.trino.rules as r
	trino._first_table_rule1("d").privs == {"INSERT"} with data.trino.rules as r
	allowed(alice, columns_op("SelectFromColumns", "c", "s", "t", ["a"]), r)
	allowed(alice, table_op("InsertIntoTable", "c", "s2", "t"), r)
	not allowed(alice, table_op("DeleteFromTable", "c", "s2", "t"), r) # the schema rule came first
	allowed(alice, table_op("DeleteFromTable", "c", "x", "t"), r)
	not allowed(alice, columns_op("SelectFromColumns", "c", "x", "u", ["a"]), r)
	allowed(alice, table_op("UpdateTableColumns", "c", "x", "u"), r)
}

# A literal that reads like a regex elsewhere ("a-b", "x_y") is still a literal;
# one with a metacharacter is a regex.
test_table_index_literals if {
	r := {"tables": [{"schema": "a-b", "table": "x_y", "privileges": ["SELECT"]}, {"table": "x.y", "privileges": ["INSERT"]}, {"privileges": []}]}
	privs(trino._table_rules3("c", "a-b", "x_y")) == [{"SELECT"}, {"INSERT"}, set()] with data.trino.rules as r
	privs(trino._table_rules3("c", "a-c", "x_y")) == [{"INSERT"}, set()] with data.trino.rules as r
	privs(trino._table_rules3("c", "a-c", "xzz")) == [set()] with data.trino.rules as r
	allowed(alice, columns_op("SelectFromColumns", "c", "a-b", "x_y", ["a"]), r)
	allowed(alice, table_op("InsertIntoTable", "c", "a-c", "xzy"), r)
	not allowed(alice, table_op("InsertIntoTable", "c", "a-c", "xy"), r)
	not allowed(alice, table_op("InsertIntoTable", "c", "a-b", "x_y"), r) # the literal rule came first
}

privs(rules) := [n.privs | some n in rules]

# The first rule for a catalog comes from the user's subjects: a group rule
# first for its members only.
test_first_table_rule_by_subject if {
	r := {"tables": [
		{"group": "staff", "catalog": "c", "privileges": ["OWNERSHIP"]},
		{"catalog": "c", "schema": "s", "privileges": ["INSERT"]},
		{"privileges": ["SELECT"]},
	]}
	op := table_op("DropTable", "c", "s", "t")
	trino._first_table_rule1("c").privs == {"OWNERSHIP"} with data.trino.rules as r
		with input as request(alice, op)
		with data.gatehouse as directory_for(alice)
	trino._first_table_rule1("c").privs == {"INSERT"} with data.trino.rules as r
		with input as request(joe, op)
		with data.gatehouse as directory_for(joe)
	trino._first_table_rule1("x").privs == {"SELECT"} with data.trino.rules as r
		with input as request(alice, op)
		with data.gatehouse as directory_for(alice)
}

# Answers worked out from the rules alone (for users gatehouse has not seen) hold
# only when every user gets them; otherwise the user's own rules decide.
test_execute_query_for_everyone_or_by_user if {
	same := {"queries": [{"group": "staff", "allow": ["execute", "view"]}, {"allow": ["execute"]}]}
	allowed(alice, {"operation": "ExecuteQuery"}, same)
	allowed(charlie, {"operation": "ExecuteQuery"}, same)
	by_user := {"queries": [{"group": "staff", "allow": ["view"]}, {"allow": ["execute"]}]}
	not allowed(alice, {"operation": "ExecuteQuery"}, by_user)
	allowed(charlie, {"operation": "ExecuteQuery"}, by_user)
	none_for_all := {"queries": [{"group": "staff", "allow": ["execute"]}]}
	allowed(alice, {"operation": "ExecuteQuery"}, none_for_all)
	not allowed(charlie, {"operation": "ExecuteQuery"}, none_for_all)
}

test_catalog_floor_for_everyone_or_by_user if {
	r := {"catalogs": [{"group": "staff", "catalog": "c", "allow": "none"}, {"catalog": "d", "allow": "read-only"}, {"group": "guests", "allow": "all"}]}
	not allowed(alice, catalog_op("AccessCatalog", "c"), r)
	allowed(charlie, catalog_op("AccessCatalog", "c"), r)
	allowed(alice, catalog_op("AccessCatalog", "d"), r)
	not allowed(alice, catalog_op("AccessCatalog", "e"), r)
	allowed(charlie, catalog_op("AccessCatalog", "e"), r)
	re := {"catalogs": [{"group": "staff", "catalog": "c.*", "allow": "none"}, {"allow": "read-only"}]}
	not allowed(alice, catalog_op("AccessCatalog", "cx"), re)
	allowed(charlie, catalog_op("AccessCatalog", "cx"), re)
	allowed(alice, catalog_op("AccessCatalog", "x"), re)
}

test_select_for_everyone_or_by_user if {
	r := {"tables": [
		{"group": "staff", "catalog": "c", "schema": "s", "table": "t", "privileges": ["SELECT"], "columns": [{"name": "x", "allow": false}]},
		{"catalog": "c", "schema": "s", "table": "t", "privileges": ["SELECT"]},
		{"catalog": "c", "schema": "s", "table": "u", "privileges": ["SELECT", "INSERT"]},
		{"group": "guests", "privileges": []},
		{"privileges": ["SELECT"]},
	]}
	not allowed(alice, columns_op("SelectFromColumns", "c", "s", "t", ["x"]), r)
	allowed(alice, columns_op("SelectFromColumns", "c", "s", "t", ["y"]), r)
	allowed(charlie, columns_op("SelectFromColumns", "c", "s", "t", ["x"]), r)
	allowed(alice, columns_op("SelectFromColumns", "c", "s", "u", ["x"]), r)
	allowed(charlie, columns_op("SelectFromColumns", "c", "s", "u", ["x"]), r)
	allowed(alice, columns_op("SelectFromColumns", "x", "y", "z", ["x"]), r)
	not allowed(charlie, columns_op("SelectFromColumns", "x", "y", "z", ["x"]), r)
}

test_visibility_for_everyone_or_by_user if {
	# (no catalog session property rules: by default they make every catalog visible)
	r := {
		"schemas": [{"owner": false}],
		"catalog_session_properties": [],
		"tables": [
			{"group": "staff", "catalog": "c", "schema": "s", "privileges": ["SELECT"]},
			{"catalog": "d", "schema": "s", "table": "t", "privileges": ["SELECT"]},
			{"privileges": []},
		],
	}
	allowed(alice, catalog_op("ShowSchemas", "c"), r)
	not allowed(charlie, catalog_op("ShowSchemas", "c"), r)
	allowed(charlie, catalog_op("ShowSchemas", "d"), r)
	allowed(alice, schema_op("ShowTables", "c", "s"), r)
	not allowed(charlie, schema_op("ShowTables", "c", "s"), r)
	allowed(charlie, schema_op("ShowTables", "d", "s"), r)
	not allowed(charlie, schema_op("ShowTables", "d", "x"), r)
}
