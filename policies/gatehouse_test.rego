# Gatehouse's extensions: the directory (unknown, disabled and policy-exempt users,
# name resolution), directory-aware matchers (group, permission, attribute),
# templated expressions, and the entry points' answer shapes.
package trino_test

import data.trino

directory := {
	"users": {
		"alice@example.com": {
			"email": "alice@example.com", "fullName": "Alice", "iam": "bim", "userId": "1", "disabled": false,
			"permissions": [], "groups": ["analysts"], "attributes": {"region": ["EMEA"]},
			"externalIds": {"trino": "alice"},
		},
		"bob@example.com": {
			"email": "bob@example.com", "fullName": "Bob", "disabled": false,
			"permissions": ["GOVERNANCE"], "groups": ["governance"], "attributes": {"region": ["EMEA", "AMER"], "level": [3]},
			"externalIds": {"trino": "Bob"},
		},
		"obrien@example.com": {
			"email": "o'brien@example.com", "fullName": "Pat O'Brien",
			"permissions": [], "groups": ["analysts"],
			"attributes": {"region": ["x') OR 1=1 --"], "team": ["O'Brien's"], "tricky": ["${user.name}"]},
		},
		"noattrs@example.com": {"email": "noattrs@example.com", "permissions": [], "groups": []},
		"carol@example.com": {"email": "carol@example.com", "disabled": true, "permissions": ["IMPERSONATE_USER", "GOVERNANCE"], "groups": ["analysts"]},
		"svc_dashboard@example.com": {"email": "svc_dashboard@example.com", "permissions": ["IMPERSONATE_USER"], "groups": ["services"]},
		"exempt@example.com": {"email": "exempt@example.com", "permissions": ["IMPERSONATE_USER"], "groups": []},
		"team_sales_sandbox": {"email": "sales@example.com"},
		"team_ops": {"email": "ops@example.com"},
	},
	"trinoUsers": {
		"alice": "alice@example.com",
		"Bob": "bob@example.com",
		"svc_dashboard": "svc_dashboard@example.com",
		"pat": "obrien@example.com",
	},
	"groups": {"analysts": {"description": "Analysts", "members": ["alice@example.com"], "attributes": {}}},
	"settings": {
		"impersonation": {"allowedServiceUsers": ["svc_etl", "trino"], "mode": "single"},
		"policyExemptUsers": ["trino", "exempt@example.com"],
	},
}

g_request(user, groups, action) := {
	"context": {"identity": {"user": user, "groups": groups}, "softwareStack": {"trinoVersion": "476"}},
	"action": action,
}

g_allowed(user, action, rules) if {
	trino.allow with input as g_request(user, [], action)
		with data.trino.rules as rules
		with data.gatehouse as directory
}

g_entry(entry, user, action, rules) := v if {
	v := trino[entry] with input as g_request(user, [], action)
		with data.trino.rules as rules
		with data.gatehouse as directory
}

g_batch(user, action, rules) := {i | some i in g_entry("batch", user, action, rules)}

select_op(c, s, t) := columns_op("SelectFromColumns", c, s, t, ["a"])

tables_action(tables) := {"operation": "FilterTables", "filterResources": [{"table": t} | some t in tables]}

# ---------------------------------------------------------------------------
# unknown and disabled users

test_unknown_and_disabled_users_denied_everything if {
	every user in ["nobody", "carol@example.com"] {
		_unknown_and_disabled_users_denied_everything(user)
	}
}

_unknown_and_disabled_users_denied_everything(user) if {
	r := data.testdata.empty # Trino's defaults: allow (nearly) everything
	not g_allowed(user, {"operation": "ExecuteQuery"}, r)
	not g_allowed(user, catalog_op("AccessCatalog", "c"), r)
	not g_allowed(user, select_op("c", "s", "t"), r)
	not g_allowed(user, system_property("p"), r)
	g_batch(user, {"operation": "FilterCatalogs", "filterResources": [{"catalog": {"name": "c"}}]}, r) == set()
	g_batch(user, tables_action([tbl("c", "s", "t")]), r) == set()
	g_batch(user, {"operation": "FilterColumns", "filterResources": [{"table": object.union(tbl("c", "s", "t"), {"columns": ["a", "b"]})}]}, r) == set()
}

test_unknown_user_gets_safe_filters_and_masks if {
	r := data.testdata.empty
	g_entry("rowFilters", "nobody", {"operation": "GetRowFilters", "resource": {"table": tbl("c", "s", "t")}}, r) == [{"expression": "false"}]
	g_entry("columnMask", "nobody", {"operation": "GetColumnMask", "resource": {"column": col("c", "s", "t", "a")}}, r) == {"expression": "NULL"}
	g_entry("batchColumnMasks", "nobody", {"operation": "GetColumnMask", "filterResources": [{"column": col("c", "s", "t", "a")}, {"column": col("c", "s", "t", "b")}]}, r) == [
		{"index": 0, "viewExpression": {"expression": "NULL"}},
		{"index": 1, "viewExpression": {"expression": "NULL"}},
	]
}

test_disabled_user_with_permissions_still_denied if {
	r := {"catalogs": [{"permission": "GOVERNANCE", "allow": "all"}]}
	not g_allowed("carol@example.com", table_op("InsertIntoTable", "c", "s", "t"), r)
	g_allowed("Bob", table_op("InsertIntoTable", "c", "s", "t"), r)
}

test_no_directory_data_denies_everything if {
	not trino.allow with input as g_request("alice", [], {"operation": "ExecuteQuery"})
		with data.trino.rules as {}
		with data.gatehouse as {}
	trino.batch == [] with input as g_request("alice", [], {"operation": "FilterCatalogs", "filterResources": [{"catalog": {"name": "c"}}]})
		with data.trino.rules as {}
		with data.gatehouse as {}
}

# ---------------------------------------------------------------------------
# user resolution

test_user_resolution if {
	r := {"tables": [{"user": "alice@example.com", "privileges": ["INSERT"]}, {"privileges": ["SELECT"]}]}

	# through the trino external id
	g_allowed("alice", table_op("InsertIntoTable", "c", "s", "t"), r)

	# else the lower-cased name is the username
	g_allowed("ALICE@Example.com", table_op("InsertIntoTable", "c", "s", "t"), r)
	g_allowed("alice@example.com", table_op("InsertIntoTable", "c", "s", "t"), r)

	# Trino names are case-sensitive: "bob" is not mapped (only "Bob" is) and no user bob exists
	g_allowed("Bob", select_op("c", "s", "t"), r)
	not g_allowed("bob", select_op("c", "s", "t"), r)
	not g_allowed("Bob", table_op("InsertIntoTable", "c", "s", "t"), r)
}

test_user_resolution_case_insensitive if {
	r := {"tables": [{"user": "bob@example.com", "privileges": ["INSERT"]}, {"privileges": ["SELECT"]}]}

	# configured case-insensitive, the mirror keys trinoUsers lower-cased
	folded := object.union(directory, {
		"trinoUsers": {"bob": "bob@example.com"},
		"settings": {"trinoNameMatching": "case-insensitive"},
	})
	every name in ["Bob", "bob", "BOB"] {
		trino.allow with input as g_request(name, [], table_op("InsertIntoTable", "c", "s", "t"))
			with data.trino.rules as r
			with data.gatehouse as folded
	}

	# the same data matched case-sensitively knows only "bob" and "Bob"
	sensitive := object.union(folded, {"settings": {"trinoNameMatching": "case-sensitive"}})
	not trino.allow with input as g_request("BOB", [], table_op("InsertIntoTable", "c", "s", "t"))
		with data.trino.rules as r
		with data.gatehouse as sensitive
}

test_user_condition_matches_trino_name_or_username if {
	by_name := {"tables": [{"user": "alice", "privileges": ["INSERT"]}, {"privileges": ["SELECT"]}]}
	g_allowed("alice", table_op("InsertIntoTable", "c", "s", "t"), by_name)

	# Trino user "alice@example.com" is neither named "alice" nor resolves to it
	not g_allowed("alice@example.com", table_op("InsertIntoTable", "c", "s", "t"), by_name)

	by_username := {"tables": [{"user": ".*@example\\.com", "privileges": ["INSERT"]}, {"privileges": ["SELECT"]}]}
	g_allowed("alice", table_op("InsertIntoTable", "c", "s", "t"), by_username)
}

# ---------------------------------------------------------------------------
# policy-exempt users

test_exempt_users_bypass_data_policies if {
	every user in ["trino", "exempt@example.com", "EXEMPT@example.com"] {
		_exempt_users_bypass_data_policies(user)
	}
}

_exempt_users_bypass_data_policies(user) if {
	r := {"catalogs": [], "tables": [{"privileges": [], "filter": "false", "columns": [{"name": "a", "mask": "NULL"}]}], "queries": []}
	g_allowed(user, {"operation": "ExecuteQuery"}, r)
	g_allowed(user, table_op("DropTable", "c", "s", "t"), r)
	g_allowed(user, {"operation": "WriteSystemInformation"}, r)
	g_batch(user, tables_action([tbl("c", "s", "t"), tbl("c", "s", "u")]), r) == {0, 1}
	g_batch(user, {"operation": "FilterColumns", "filterResources": [{"table": object.union(tbl("c", "s", "t"), {"columns": ["a", "b", "c"]})}]}, r) == {0, 1, 2}
	g_entry("rowFilters", user, {"operation": "GetRowFilters", "resource": {"table": tbl("c", "s", "t")}}, r) == []
	not g_entry("columnMask", user, {"operation": "GetColumnMask", "resource": {"column": col("c", "s", "t", "a")}}, r)
	g_entry("batchColumnMasks", user, {"operation": "GetColumnMask", "filterResources": [{"column": col("c", "s", "t", "a")}]}, r) == []
}

# ---------------------------------------------------------------------------
# directory-aware matchers

test_group_from_directory if {
	r := {"tables": [{"group": "analysts", "privileges": ["SELECT"]}]}

	# Trino sends no groups; the directory's make the rule match
	g_allowed("alice", select_op("c", "s", "t"), r)
	not g_allowed("Bob", select_op("c", "s", "t"), r)
}

test_group_union_with_trino_groups if {
	r := {"tables": [{"group": "from_trino", "privileges": ["SELECT"]}, {"group": "analysts", "privileges": []}]}
	trino.allow with input as g_request("Bob", ["from_trino"], select_op("c", "s", "t"))
		with data.trino.rules as r
		with data.gatehouse as directory
	not g_allowed("alice", select_op("c", "s", "t"), r)
}

test_permission_matcher if {
	r := {
		"catalogs": [{"permission": "GOVERNANCE|USER_ADMIN", "allow": "all"}, {"allow": "read-only"}],
		"tables": [{"permission": "GOVERNANCE", "privileges": ["SELECT", "INSERT"]}, {"privileges": ["SELECT"]}],
	}
	g_allowed("Bob", table_op("InsertIntoTable", "c", "s", "t"), r)
	not g_allowed("alice", table_op("InsertIntoTable", "c", "s", "t"), r)
	g_allowed("alice", select_op("c", "s", "t"), r)
}

test_attribute_matcher if {
	r := {"tables": [
		{"attribute": {"region": "EMEA", "level": "[0-9]+"}, "privileges": ["INSERT"]},
		{"attribute": {"region": ["AP.*", "EM.*"]}, "privileges": ["SELECT"]},
	]}

	# bob: region EMEA and a level
	g_allowed("Bob", table_op("InsertIntoTable", "c", "s", "t"), r)

	# alice: region EMEA but no level: the first rule needs every attribute
	not g_allowed("alice", table_op("InsertIntoTable", "c", "s", "t"), r)
	g_allowed("alice", select_op("c", "s", "t"), r)

	# no attributes at all: neither rule
	not g_allowed("noattrs@example.com", select_op("c", "s", "t"), r)

	# regexes are full matches
	not g_allowed("alice", select_op("c", "s", "t"), {"tables": [{"attribute": {"region": "EM"}, "privileges": ["SELECT"]}]})
}

test_extension_keys_on_every_section if {
	r := {
		"catalogs": [{"permission": "GOVERNANCE", "catalog": "gov", "allow": "all"}, {"catalog": "gov", "allow": "none"}, {"allow": "all"}],
		"schemas": [{"attribute": {"region": "AMER"}, "owner": true}],
		"system_session_properties": [{"group": "governance", "allow": true}],
		"catalog_session_properties": [{"permission": "GOVERNANCE", "allow": true}],
		"queries": [{"permission": "GOVERNANCE", "allow": ["execute", "view"]}, {"allow": ["execute"]}],
		"system_information": [{"group": "governance", "allow": ["read"]}],
		"functions": [{"attribute": {"region": "AMER"}, "privileges": ["EXECUTE"]}],
		"procedures": [{"permission": "GOVERNANCE", "privileges": ["EXECUTE"]}],
		"authorization": [{"permission": "GOVERNANCE", "new_user": ".*"}],
	}
	g_allowed("Bob", catalog_op("AccessCatalog", "gov"), r)
	not g_allowed("alice", catalog_op("AccessCatalog", "gov"), r)
	g_allowed("Bob", schema_op("CreateSchema", "c", "s"), r)
	not g_allowed("alice", schema_op("CreateSchema", "c", "s"), r)
	g_allowed("Bob", system_property("p"), r)
	not g_allowed("alice", system_property("p"), r)
	g_allowed("Bob", catalog_property("c", "p"), r)
	not g_allowed("alice", catalog_property("c", "p"), r)
	g_allowed("Bob", query_op("ViewQueryOwnedBy", "alice"), r)
	not g_allowed("alice", query_op("ViewQueryOwnedBy", "Bob"), r)
	g_allowed("Bob", {"operation": "ReadSystemInformation"}, r)
	not g_allowed("alice", {"operation": "ReadSystemInformation"}, r)
	g_allowed("Bob", function_op("ExecuteFunction", "c", "s", "f"), r)
	not g_allowed("alice", function_op("ExecuteFunction", "c", "s", "f"), r)
	g_allowed("Bob", function_op("ExecuteProcedure", "c", "s", "p"), r)
	not g_allowed("alice", function_op("ExecuteProcedure", "c", "s", "p"), r)
	g_allowed("Bob", authorization_op("SetSchemaAuthorization", {"schema": {"catalogName": "c", "schemaName": "s"}}, "x", "USER"), r)
}

test_invalid_extension_keys_fail_closed if {
	r := {"tables": [{"attribute": ["region"], "privileges": ["SELECT"]}, {"privileges": ["SELECT"]}]}
	not g_allowed("alice", select_op("c", "s", "t"), r)
	count(trino.rules_errors) == 1 with data.trino.rules as r
	r2 := {"tables": [{"permission": "GOV(", "privileges": []}, {"privileges": ["SELECT"]}]}
	not g_allowed("alice", select_op("c", "s", "t"), r2)
}

# A rule that does not apply to the user (valid subject that does not match) cannot
# change their answer, whatever its other fields hold.
test_non_matching_rule_is_skipped if {
	r := {"tables": [{"user": "someone_else", "privileges": ["SELECT"]}, {"privileges": ["INSERT"]}]}
	g_allowed("alice", table_op("InsertIntoTable", "c", "s", "t"), r)
}

# ---------------------------------------------------------------------------
# the rules file at the root of data (as `opa run -s policies/` loads it)

test_rules_from_data_root if {
	trino.allow with input as g_request("alice", [], table_op("InsertIntoTable", "c", "s", "t"))
		with data.catalogs as null
		with data.schemas as null
		with data.tables as [{"user": "alice", "privileges": ["INSERT"]}]
		with data.gatehouse as directory
	not trino.allow with input as g_request("alice", [], table_op("InsertIntoTable", "c", "s", "t"))
		with data.catalogs as [{"allow": "read-only"}]
		with data.tables as [{"user": "alice", "privileges": ["INSERT"]}]
		with data.gatehouse as directory

	# an absent (null) section takes Trino's default
	trino.allow with input as g_request("alice", [], table_op("InsertIntoTable", "c", "s", "t"))
		with data.catalogs as null
		with data.schemas as null
		with data.tables as null
		with data.gatehouse as directory
}

# ---------------------------------------------------------------------------
# templated expressions

filter_rules(expr) := {"tables": [{"privileges": ["SELECT"], "filter": expr, "columns": [{"name": "m", "mask": expr}]}]}

rendered_filter(user, expr) := f.expression if {
	[f] := g_entry("rowFilters", user, {"operation": "GetRowFilters", "resource": {"table": tbl("c", "s", "t")}}, filter_rules(expr))
}

rendered_mask(user, expr) := m.expression if {
	m := g_entry("columnMask", user, {"operation": "GetColumnMask", "resource": {"column": col("c", "s", "t", "m")}}, filter_rules(expr))
}

test_template_attributes if {
	rendered_filter("alice", "region IN (${user.attributes.region})") == "region IN ('EMEA')"
	rendered_filter("Bob", "region IN (${user.attributes.region})") == "region IN ('AMER', 'EMEA')"
	rendered_filter("Bob", "level IN (${user.attributes.level})") == "level IN ('3')"

	# no such attribute: a list that matches nothing
	rendered_filter("noattrs@example.com", "region IN (${user.attributes.region})") == "region IN (NULL)"
	rendered_filter("alice", "x IN (${user.attributes.nope}) OR y IN (${user.attributes.region})") == "x IN (NULL) OR y IN ('EMEA')"
}

test_template_name_and_email if {
	rendered_filter("alice", "owner = ${user.name}") == "owner = 'alice'"
	rendered_filter("alice", "owner = ${user.email}") == "owner = 'alice@example.com'"
	rendered_filter("pat", "owner = ${user.email}") == "owner = 'o''brien@example.com'"
	rendered_filter("alice", "a = ${user.unknown}") == "a = NULL"
}

test_template_values_cannot_leave_the_literal if {
	# a value with a quote: the quote is doubled, so the literal stays closed
	rendered_filter("pat", "team IN (${user.attributes.team})") == "team IN ('O''Brien''s')"

	# an injection attempt stays one string literal: the statement's structure is unchanged
	f := rendered_filter("pat", "region IN (${user.attributes.region})")
	f == "region IN ('x'') OR 1=1 --')"
	count(regex.find_all_string_submatch_n(`'(?:[^']|'')*'`, f, -1)) == 1

	# rendered values are never expanded again
	rendered_filter("pat", "t IN (${user.attributes.tricky})") == "t IN ('${user.name}')"
}

test_template_in_masks if {
	rendered_mask("alice", "CASE WHEN region IN (${user.attributes.region}) THEN m ELSE NULL END") == "CASE WHEN region IN ('EMEA') THEN m ELSE NULL END"
	m := g_entry("batchColumnMasks", "Bob", {"operation": "GetColumnMask", "filterResources": [{"column": col("c", "s", "t", "x")}, {"column": col("c", "s", "t", "m")}]}, filter_rules("${user.name}"))
	m == [{"index": 1, "viewExpression": {"expression": "'Bob'"}}]
}

test_expression_without_placeholders_unchanged if {
	rendered_filter("alice", "price > 10 AND note <> '${not a placeholder}'") == "price > 10 AND note <> '${not a placeholder}'"
}

# ---------------------------------------------------------------------------
# entry point shapes

test_default_answers if {
	r := data.testdata.empty

	# an operation the policy does not know
	not g_allowed("alice", {"operation": "GrantTablePrivilege", "resource": {"table": tbl("c", "s", "t")}}, r)
	g_entry("batch", "alice", {"operation": "ExecuteQuery"}, r) == []

	# no rule with a filter or mask: [] and undefined, never {}
	g_entry("rowFilters", "alice", {"operation": "GetRowFilters", "resource": {"table": tbl("c", "s", "t")}}, r) == []
	not g_entry("columnMask", "alice", {"operation": "GetColumnMask", "resource": {"column": col("c", "s", "t", "a")}}, r)
	g_entry("batchColumnMasks", "alice", {"operation": "GetColumnMask", "filterResources": [{"column": col("c", "s", "t", "a")}]}, r) == []

	# an empty input is denied everything
	not trino.allow with input as {}
	trino.batch == [] with input as {}
	trino.batchColumnMasks == [] with input as {}
}

test_batch_answers_are_sorted_integer_indices if {
	r := {"catalogs": [{"catalog": "b", "allow": "none"}, {"allow": "all"}]}
	b := g_entry(
		"batch", "alice", {"operation": "FilterCatalogs", "filterResources": [
			{"catalog": {"name": "a"}}, {"catalog": {"name": "b"}}, {"catalog": {"name": "c"}},
		]},
		r,
	)
	[x | some x in b] == [0, 2]
	every x in b {
		is_number(x)
	}
}

test_batch_column_masks_several_tables if {
	r := {"tables": [
		{"table": "t1", "privileges": ["SELECT"], "columns": [{"name": "a", "mask": "'x'"}]},
		{"table": "t2", "privileges": ["SELECT"], "columns": [{"name": "a", "mask": "'y'", "mask_environment": {"user": "masker"}}]},
	]}
	g_entry(
		"batchColumnMasks", "alice", {"operation": "GetColumnMask", "filterResources": [
			{"column": col("c", "s", "t1", "a")}, {"column": col("c", "s", "t2", "a")}, {"column": col("c", "s", "t2", "b")},
		]},
		r,
	) == [
		{"index": 0, "viewExpression": {"expression": "'x'"}},
		{"index": 1, "viewExpression": {"expression": "'y'", "identity": "masker"}},
	]
}

# ---------------------------------------------------------------------------
# FilterTables: the fast paths give the same answers as asking per table

filter_tables_rule_sets := [
	data.testdata["file-based-system-access-table-filter"],
	data.testdata["file-based-system-access-table"],
	data.testdata["file-based-system-access-visibility"],
	data.testdata["file-based-system-no-access"],
	data.testdata.empty,
	{"catalogs": [{"allow": "none"}]},
	{"catalogs": [{"allow": "read-only"}], "schemas": [{"owner": false}], "tables": [{"privileges": []}]},
	{"schemas": [{"schema": "s1", "owner": true}, {"owner": false}], "tables": [{"table": "t1", "privileges": ["SELECT"]}, {"schema": "s2", "privileges": []}, {"privileges": ["UPDATE"]}]},
	{"tables": [{"schema": "s.*", "table": "t[12]", "privileges": []}, {"table": "x", "privileges": ["SELECT"]}, {"schema": "s1", "privileges": ["SELECT"]}]},
	{"schemas": [{"owner": false}], "tables": [{"schema": "s.*", "table": "t[12]", "privileges": []}, {"table": "x", "privileges": ["SELECT"]}, {"schema": "s1", "privileges": ["SELECT"]}]},
	{"schemas": [], "tables": [{"table": "t1", "privileges": ["SELECT"]}]},
	{"schemas": [{"schema": "s3", "owner": true}], "tables": [{"schema": "s2", "table": "y", "privileges": ["SELECT"]}, {"schema": "s[12]", "privileges": []}]},
	{"schemas": [{"owner": false}], "tables": [{"schema": "s1", "privileges": ["SELECT"]}, {"privileges": []}]},
	{"catalogs": [{"allow": "read-only"}], "tables": [{"schema": "s2", "privileges": ["INSERT"]}, {"table": "t.*", "privileges": ["SELECT"]}]},
	# literal catalog and schema keys (plans worked out once for everyone), with
	# rules for some users only among them
	{"schemas": [{"user": "bob", "schema": "s3", "owner": true}, {"owner": false}], "tables": [
		{"catalog": "cat", "schema": "s1", "table": "t1", "user": "alice", "privileges": ["SELECT"]},
		{"catalog": "cat", "schema": "s1", "table": "t1", "privileges": []},
		{"catalog": "cat", "schema": "s1", "table": "t2", "privileges": []},
		{"catalog": "cat", "schema": "s2", "table": "x", "group": "guests", "privileges": []},
		{"catalog": "cat", "schema": "s2", "table": "y", "privileges": []},
		{"catalog": "cat", "schema": "s3", "table": "y", "privileges": []},
		{"privileges": ["SELECT"]},
	]},
	{"tables": [
		{"catalog": "cat", "schema": "s1", "table": "t1", "group": "staff", "privileges": []},
		{"schema": "s1", "table": "t2", "privileges": []},
		{"catalog": "c.t", "schema": "s[12]", "table": "x", "privileges": []},
		{"catalog": "cat", "schema": "s2", "table": "y", "role": "admin", "privileges": ["SELECT"]},
		{"catalog": "cat", "schema": "s2", "table": "y", "privileges": []},
		{"catalog": "cat", "schema": "s3", "user": "charlie", "privileges": []},
		{"privileges": ["SELECT"]},
	]},
	# every schema no rule names keeps every table (plans of the named schemas
	# only): schema owners, information_schema, rules for some users, and rules
	# filed under any catalog
	{"schemas": [{"user": "bob", "schema": "s2", "owner": true}, {"owner": false}], "tables": [
		{"catalog": "cat", "schema": "s1", "table": "t1", "privileges": []},
		{"schema": "s2", "table": "x", "privileges": []},
		{"catalog": "cat", "schema": "information_schema", "table": "t2", "privileges": []},
		{"catalog": "cat", "schema": "s1", "table": "y", "group": "guests", "privileges": []},
		{"catalog": "other", "schema": "s3", "table": "t1", "privileges": []},
		{"privileges": ["SELECT"]},
	]},
	# ... but not when a regex schema pattern may match a schema no rule names:
	# of a table rule, or of a schema owner rule (which "." matches, s3 not)
	{"schemas": [{"owner": false}], "tables": [
		{"catalog": "cat", "schema": "s1", "table": "t1", "privileges": []},
		{"catalog": "c.t", "schema": "s[3]", "table": "t2", "privileges": []},
		{"privileges": ["SELECT"]},
	]},
	{"schemas": [{"schema": "[.]|s4", "owner": true}, {"owner": false}], "tables": [
		{"catalog": "cat", "schema": "s1", "table": "t1", "privileges": []},
		{"table": "t2", "privileges": []},
		{"privileges": ["SELECT"]},
	]},
	# ... nor when the generic plan drops a name, or a schema rule makes an
	# unnamed schema's plan differ from "."'s
	{"schemas": [{"owner": false}], "tables": [
		{"catalog": "cat", "schema": "s1", "table": "t1", "privileges": []},
		{"table": "t2", "privileges": []},
		{"privileges": ["SELECT"]},
	]},
	{"schemas": [{"schema": "s3", "owner": false}, {"owner": true}], "tables": [
		{"catalog": "cat", "schema": "s1", "table": "t1", "privileges": []},
		{"table": "t2", "privileges": []},
		{"privileges": ["SELECT"]},
	]},
	# a literal schema under a regex catalog pattern is named too
	{"schemas": [{"owner": false}], "tables": [
		{"catalog": "c.t", "schema": "s3", "table": "t2", "privileges": []},
		{"privileges": ["SELECT"]},
	]},
]

filter_tables_items := [
tbl("cat", s, t) |
	some s in ["s1", "s2", "s3", "information_schema"]
	some t in ["t1", "t2", "x", "y"]
]

# One test per rule set. The expected answer asks, per table, the same rule that
# `allow` uses for a single FilterTables request (tested above), in one evaluation.
_filter_tables_equivalence(k) if {
	r := filter_tables_rule_sets[k]
	every user in [alice, bob, admin, charlie] {
		d := directory_for(user)
		inp := request(user, tables_action(filter_tables_items))
		expected := {i |
			some i, t in filter_tables_items
			trino._table_visible(t.catalogName, t.schemaName, t.tableName)
		} with input as inp
			with data.trino.rules as r
			with data.gatehouse as d
		batch_of(user, tables_action(filter_tables_items), r) == expected
	}
}

test_filter_tables_batch_equals_per_table_allow_0 if _filter_tables_equivalence(0)

test_filter_tables_batch_equals_per_table_allow_1 if _filter_tables_equivalence(1)

test_filter_tables_batch_equals_per_table_allow_2 if _filter_tables_equivalence(2)

test_filter_tables_batch_equals_per_table_allow_3 if _filter_tables_equivalence(3)

test_filter_tables_batch_equals_per_table_allow_4 if _filter_tables_equivalence(4)

test_filter_tables_batch_equals_per_table_allow_5 if _filter_tables_equivalence(5)

test_filter_tables_batch_equals_per_table_allow_6 if _filter_tables_equivalence(6)

test_filter_tables_batch_equals_per_table_allow_7 if _filter_tables_equivalence(7)

test_filter_tables_batch_equals_per_table_allow_8 if _filter_tables_equivalence(8)

test_filter_tables_batch_equals_per_table_allow_9 if _filter_tables_equivalence(9)

test_filter_tables_batch_equals_per_table_allow_10 if _filter_tables_equivalence(10)

test_filter_tables_batch_equals_per_table_allow_11 if _filter_tables_equivalence(11)

test_filter_tables_batch_equals_per_table_allow_12 if _filter_tables_equivalence(12)

test_filter_tables_batch_equals_per_table_allow_13 if _filter_tables_equivalence(13)

test_filter_tables_batch_equals_per_table_allow_14 if _filter_tables_equivalence(14)

test_filter_tables_batch_equals_per_table_allow_15 if _filter_tables_equivalence(15)

test_filter_tables_batch_equals_per_table_allow_16 if _filter_tables_equivalence(16)

test_filter_tables_batch_equals_per_table_allow_17 if _filter_tables_equivalence(17)

test_filter_tables_batch_equals_per_table_allow_18 if _filter_tables_equivalence(18)

test_filter_tables_batch_equals_per_table_allow_19 if _filter_tables_equivalence(19)

test_filter_tables_batch_equals_per_table_allow_20 if _filter_tables_equivalence(20)

test_filter_tables_batch_equals_per_table_allow_21 if _filter_tables_equivalence(21)

test_filter_tables_equivalence_covers_every_rule_set if count(filter_tables_rule_sets) == 22

test_filter_tables_several_catalogs if {
	r := {"catalogs": [{"catalog": "hidden", "allow": "none"}, {"allow": "all"}], "schemas": [{"owner": false}], "tables": [{"schema": "s1", "privileges": []}, {"privileges": ["SELECT"]}]}
	items := [tbl("a", "s1", "t"), tbl("hidden", "s2", "t"), tbl("a", "s2", "t"), tbl("b", "information_schema", "t")]
	batch_of(alice, tables_action(items), r) == {2, 3}
}

# An item without a catalog name (which gatehouse refuses; stock OPA may be
# sent one) does not make a batch span several catalogs.
test_filter_tables_item_without_catalog if {
	r := {"schemas": [{"owner": false}], "tables": [{"catalog": "cat", "schema": "s1", "table": "t1", "privileges": []}, {"privileges": ["SELECT"]}]}
	items := [tbl("cat", "s1", "t1"), tbl("cat", "s1", "t2"), {"schemaName": "s1", "tableName": "t3"}]
	batch_of(alice, tables_action(items), r) == {1, 2}
	batch_of(alice, tables_action([items[2], items[0], items[1]]), r) == {2}
}

# ---------------------------------------------------------------------------
# smaller cases

test_single_attribute_value_and_email_fallback if {
	dir := {"users": {"u@example.com": {"attributes": {"region": "EMEA", "n": 7}}}}
	r := filter_rules("region IN (${user.attributes.region}) AND n = ${user.attributes.n} AND e = ${user.email}")
	[f] := trino.rowFilters with input as g_request("u@example.com", [], {"operation": "GetRowFilters", "resource": {"table": tbl("c", "s", "t")}})
		with data.trino.rules as r
		with data.gatehouse as dir
	f.expression == "region IN ('EMEA') AND n = '7' AND e = 'u@example.com'"
}

test_information_schema_needs_only_catalog_access if {
	ro := {"catalogs": [{"allow": "read-only"}], "tables": []}
	g_allowed("alice", columns_op("SelectFromColumns", "c", "information_schema", "tables", ["table_name"]), ro)
	g_allowed("alice", table_op("ShowColumns", "c", "information_schema", "tables"), ro)
	g_batch("alice", {"operation": "FilterColumns", "filterResources": [{"table": object.union(tbl("c", "information_schema", "tables"), {"columns": ["a", "b"]})}]}, ro) == {0, 1}
	not g_allowed("alice", table_op("InsertIntoTable", "c", "information_schema", "tables"), ro)
	not g_allowed("alice", columns_op("CreateViewWithSelectFromColumns", "c", "information_schema", "tables", ["a"]), ro)

	all_access := {"catalogs": [{"allow": "all"}], "tables": []}
	g_allowed("alice", table_op("InsertIntoTable", "c", "information_schema", "tables"), all_access)
	g_allowed("alice", columns_op("CreateViewWithSelectFromColumns", "c", "information_schema", "tables", ["a"]), all_access)
}

test_catalog_owner_sees_catalog_without_other_rules if {
	r := {"catalogs": [{"user": "alice", "allow": "owner"}, {"allow": "read-only"}], "schemas": [], "tables": [], "catalog_session_properties": [], "functions": [], "procedures": []}
	g_allowed("alice", catalog_op("ShowSchemas", "c"), r)
	not g_allowed("Bob", catalog_op("ShowSchemas", "c"), r)
}

test_grant_execute_implies_execute if {
	r := {"functions": [{"privileges": ["GRANT_EXECUTE"]}], "procedures": [{"privileges": ["GRANT_EXECUTE"]}]}
	g_allowed("alice", function_op("ExecuteFunction", "c", "s", "f"), r)
	g_allowed("alice", function_op("CreateViewWithExecuteFunction", "c", "s", "f"), r)
	g_allowed("alice", function_op("ExecuteProcedure", "c", "s", "p"), r)
}

test_invalid_rule_in_every_section_fails_closed if {
	r := {
		"catalogs": [{"catalog": "(", "allow": "all"}, {"allow": "all"}],
		"schemas": [{"owner": "yes"}, {"owner": true}],
		"tables": [{"privileges": ["READ"]}, {"privileges": ["SELECT"]}],
		"system_session_properties": [{"allow": "true"}, {"allow": true}],
		"catalog_session_properties": [{"property": "[", "allow": true}, {"allow": true}],
		"queries": [{"allow": ["run"]}, {"allow": ["execute", "view", "kill"]}],
		"system_information": [{"allow": "read"}, {"allow": ["read", "write"]}],
		"functions": [{"privileges": ["EXECUTE"], "function_kinds": ["SCALAR"]}, {"privileges": ["EXECUTE"]}],
		"procedures": [{"privileges": ["OWNERSHIP"]}, {"privileges": ["EXECUTE"]}],
		"authorization": [{"original_user": ".*"}, {"new_user": ".*"}],
		"impersonation": [{"new_user": 7}, {"new_user": ".*"}],
	}
	count(trino.rules_errors) == 11 with data.trino.rules as r
	not g_allowed("alice", catalog_op("AccessCatalog", "c"), r)
	not g_allowed("alice", system_property("p"), r)
	not g_allowed("alice", {"operation": "ExecuteQuery"}, r)
	not g_allowed("alice", {"operation": "ReadSystemInformation"}, r)
	not g_allowed("alice", authorization_op("SetSchemaAuthorization", {"schema": {"catalogName": "c", "schemaName": "s"}}, "x", "USER"), r)
	not g_allowed("alice", impersonate("Bob"), r)

	# with the catalog rule fixed, every other section still fails closed
	r2 := object.union(r, {"catalogs": [{"allow": "all"}]})
	g_allowed("alice", catalog_op("AccessCatalog", "c"), r2)
	not g_allowed("alice", schema_op("CreateSchema", "c", "s"), r2)
	not g_allowed("alice", select_op("c", "s", "t"), r2)
	not g_allowed("alice", catalog_property("c", "p"), r2)
	not g_allowed("alice", function_op("ExecuteFunction", "c", "s", "f"), r2)
	not g_allowed("alice", function_op("ExecuteProcedure", "c", "s", "p"), r2)

	# an invalid authorization rule matches every grantee
	r3 := {"authorization": [{"original_user": ".*"}, {"new_user": ".*"}]}
	not g_allowed("alice", authorization_op("SetSchemaAuthorization", {"schema": {"catalogName": "c", "schemaName": "s"}}, "x", "USER"), r3)
	g_allowed("alice", authorization_op("SetSchemaAuthorization", {"schema": {"catalogName": "c", "schemaName": "s"}}, "x", "USER"), {"authorization": [{"new_user": ".*"}]})
}

test_filter_view_query_owned_by_single_request if {
	r := data.testdata.query
	allowed(dave, query_op("FilterViewQueryOwnedBy", "alice"), r)
	not allowed(dave, query_op("FilterViewQueryOwnedBy", "bob"), r)
}

# The example in README.md.
test_readme_example if {
	not trino.allow with input as {"context": {"identity": {"user": "dana", "groups": []}}, "action": {"operation": "SelectFromColumns", "resource": {"table": {"catalogName": "hive", "schemaName": "hr", "tableName": "salaries", "columns": ["amount"]}}}}
		with data.trino.rules as {"tables": [{"group": "contractors", "schema": "hr", "privileges": []}, {"privileges": ["SELECT"]}]}
		with data.gatehouse as {"users": {"dana": {"groups": ["contractors"]}}}
	trino.allow with input as {"context": {"identity": {"user": "dana", "groups": []}}, "action": {"operation": "SelectFromColumns", "resource": {"table": {"catalogName": "hive", "schemaName": "sales", "tableName": "orders", "columns": ["amount"]}}}}
		with data.trino.rules as {"tables": [{"group": "contractors", "schema": "hr", "privileges": []}, {"privileges": ["SELECT"]}]}
		with data.gatehouse as {"users": {"dana": {"groups": ["contractors"]}}}
}
