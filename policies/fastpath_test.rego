# The first-match fast paths of access.rego (catalogs and tables matched from
# precomputed tuples, one regex over "catalog\x00schema\x00table") give the same
# answers as matching field by field, including where they step aside: patterns
# that depend on their position in the text, names with NUL characters, names
# that are not strings (which gatehouse refuses before evaluating, but stock OPA
# evaluates).
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
	not trino._TABLE_KEYED with data.trino.rules as r
}

test_unanchored_table_patterns_use_the_joined_regex if {
	r := {"tables": [{"schema": "s[12]", "table": "t.*", "privileges": ["SELECT"]}, {"privileges": []}]}
	trino._TABLE_KEYED with data.trino.rules as r
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
