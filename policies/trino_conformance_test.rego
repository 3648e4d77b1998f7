# Trino 476 file-based access control semantics, on rules files copied from
# Trino's own tests (testdata/<name>/rules.json). The expectations are those of
# Trino's BaseFileBasedSystemAccessControlTest for the same files and identities;
# every requesting user here is an active directory user without directory groups.
package trino_test

# ---------------------------------------------------------------------------
# schemas

test_schema_owner_create_drop_show_create if {
	every op in ["CreateSchema", "DropSchema", "ShowCreateSchema"] {
		_schema_owner_create_drop_show_create(op)
	}
}

_schema_owner_create_drop_show_create(op) if {
	r := data.testdata["file-based-system-access-schema"]
	every s in ["bob", "staff", "authenticated", "test"] {
		allowed(admin, schema_op(op, "some-catalog", s), r)
	}
	every s in ["bob", "staff", "authenticated"] {
		allowed(bob, schema_op(op, "some-catalog", s), r)
	}
	not allowed(bob, schema_op(op, "some-catalog", "test"), r)
	allowed(charlie, schema_op(op, "some-catalog", "authenticated"), r)
	every s in ["bob", "staff", "test"] {
		not allowed(charlie, schema_op(op, "some-catalog", s), r)
	}
}

test_schema_rename_needs_both_names if {
	r := data.testdata["file-based-system-access-schema"]
	allowed(admin, rename_schema("some-catalog", "test", "new_schema"), r)
	allowed(bob, rename_schema("some-catalog", "bob", "staff"), r)
	allowed(bob, rename_schema("some-catalog", "authenticated", "bob"), r)
	not allowed(bob, rename_schema("some-catalog", "test", "bob"), r)
	not allowed(bob, rename_schema("some-catalog", "bob", "test"), r)
	allowed(charlie, rename_schema("some-catalog", "authenticated", "authenticated"), r)
	not allowed(charlie, rename_schema("some-catalog", "staff", "new_schema"), r)
}

test_schema_first_match_denies if {
	r := data.testdata["file-based-system-access-schema"]

	# {"catalog": "secret", "schema": "secret", "owner": false} comes before the admin rule
	not allowed(admin, schema_op("CreateSchema", "secret", "secret"), r)
	allowed(admin, schema_op("CreateSchema", "secret", "other"), r)
}

# ---------------------------------------------------------------------------
# tables

test_table_select_columns if {
	r := data.testdata["file-based-system-access-table"]
	allowed(alice, columns_op("SelectFromColumns", "some-catalog", "test", "test", []), r)
	allowed(alice, columns_op("SelectFromColumns", "some-catalog", "bobschema", "bobcolumns", []), r)
	allowed(alice, columns_op("SelectFromColumns", "some-catalog", "bobschema", "bobcolumns", ["bobcolumn", "private", "restricted"]), r)
	allowed(charlie, columns_op("SelectFromColumns", "some-catalog", "bobschema", "bobcolumns", []), r)
	allowed(charlie, columns_op("SelectFromColumns", "some-catalog", "bobschema", "bobcolumns", ["bobcolumn"]), r)
	not allowed(charlie, columns_op("SelectFromColumns", "some-catalog", "bobschema", "bobcolumns", ["bobcolumn", "private"]), r)
	allowed(joe, columns_op("SelectFromColumns", "some-catalog", "bobschema", "bobcolumns", []), r)
	not allowed(admin, columns_op("SelectFromColumns", "secret", "secret", "secret", []), r)
	not allowed(joe, columns_op("SelectFromColumns", "secret", "secret", "secret", []), r)
}

test_table_select_information_schema_always if {
	r := data.testdata["file-based-system-access-table"]

	# the "unknown" catalog rule grants nothing, but information_schema is exempt
	allowed(joe, columns_op("SelectFromColumns", "unknown", "information_schema", "tables", ["table_name"]), r)
	not allowed(joe, columns_op("SelectFromColumns", "unknown", "s", "t", []), r)
}

test_table_create_view_with_select if {
	r := data.testdata["file-based-system-access-table"]
	not allowed(alice, columns_op("CreateViewWithSelectFromColumns", "some-catalog", "bobschema", "bobcolumns_with_grant", []), r)
	allowed(bob, columns_op("CreateViewWithSelectFromColumns", "some-catalog", "bobschema", "bobcolumns_with_grant", ["bobcolumn", "private"]), r)
	allowed(charlie, columns_op("CreateViewWithSelectFromColumns", "some-catalog", "bobschema", "bobcolumns_with_grant", ["bobcolumn"]), r)
	not allowed(charlie, columns_op("CreateViewWithSelectFromColumns", "some-catalog", "bobschema", "bobcolumns_with_grant", ["bobcolumn", "private"]), r)
}

test_table_show_columns if {
	r := data.testdata["file-based-system-access-table"]
	allowed(alice, table_op("ShowColumns", "some-catalog", "bobschema", "bobtable"), r)
	allowed(bob, table_op("ShowColumns", "some-catalog", "bobschema", "bobtable"), r)
	not allowed(bob, table_op("ShowColumns", "secret", "secret", "t"), r)
}

test_table_filter_columns if {
	r := data.testdata["file-based-system-access-table"]
	cols := ["private", "a", "restricted", "b"]
	filter_columns(alice, "some-catalog", "bobschema", "bobcolumns", cols, r) == {"private", "a", "restricted", "b"}
	filter_columns(bob, "some-catalog", "bobschema", "bobcolumns", cols, r) == {"private", "a", "restricted", "b"}
	filter_columns(charlie, "some-catalog", "bobschema", "bobcolumns", cols, r) == {"a", "b"}
}

test_table_filter_columns_single_request if {
	# without opa.policy.batched-uri Trino asks `allow` once per column
	r := data.testdata["file-based-system-access-table"]
	allowed(charlie, columns_op("FilterColumns", "some-catalog", "bobschema", "bobcolumns", ["a"]), r)
	not allowed(charlie, columns_op("FilterColumns", "some-catalog", "bobschema", "bobcolumns", ["private"]), r)
}

test_table_privileges_per_operation if {
	r := data.testdata["file-based-system-access-table"]
	allowed(bob, table_op("InsertIntoTable", "some-catalog", "bobschema", "bobtable"), r)
	allowed(charlie, table_op("InsertIntoTable", "some-catalog", "bobschema", "bobtable"), r)
	not allowed(alice, table_op("InsertIntoTable", "some-catalog", "bobschema", "bobtable"), r)
	not allowed(bob, table_op("InsertIntoTable", "some-catalog", "test", "test"), r)

	every op in ["DropTable", "ShowCreateTable", "AddColumn", "DropColumn", "RenameColumn", "SetTableComment", "SetTableProperties"] {
		allowed(admin, table_op(op, "some-catalog", "bobschema", "bobtable"), r)
		not allowed(bob, table_op(op, "some-catalog", "bobschema", "bobtable"), r)
	}
	every op in ["DropMaterializedView", "CreateMaterializedView", "SetMaterializedViewProperties", "RefreshMaterializedView"] {
		allowed(admin, table_op(op, "some-catalog", "bobschema", "bob-materialized-view"), r)
	}
	not allowed(bob, table_op("DropMaterializedView", "some-catalog", "bobschema", "bob-materialized-view"), r)
	not allowed(bob, table_op("CreateMaterializedView", "some-catalog", "bobschema", "bob-materialized-view"), r)
	not allowed(joe, table_op("RefreshMaterializedView", "some-catalog", "bobschema", "bob-materialized-view"), r)
	allowed(alice, table_op("SetMaterializedViewProperties", "some-catalog", "aliceschema", "alice-materialized-view"), r)
	not allowed(alice, table_op("SetMaterializedViewProperties", "some-catalog", "bobschema", "bob-materialized-view"), r)
	allowed(admin, table_op("DeleteFromTable", "some-catalog", "bobschema", "bobtable"), r)
	not allowed(charlie, table_op("DeleteFromTable", "some-catalog", "bobschema", "bobtable"), r)
	allowed(admin, table_op("TruncateTable", "some-catalog", "bobschema", "bobtable"), r)
	not allowed(charlie, table_op("TruncateTable", "some-catalog", "bobschema", "bobtable"), r)
	allowed(bob, table_op("DeleteFromTable", "some-catalog", "bobschema", "bobtable"), r)
	allowed(admin, table_op("UpdateTableColumns", "some-catalog", "bobschema", "bobtable"), r)
	not allowed(bob, table_op("UpdateTableColumns", "some-catalog", "bobschema", "bobtable"), r)
}

test_table_rename_needs_ownership_of_both if {
	r := data.testdata["file-based-system-access-table"]
	allowed(admin, rename_table("RenameTable", tbl("some-catalog", "bobschema", "bobtable"), tbl("some-catalog", "aliceschema", "newbobtable")), r)
	allowed(alice, rename_table("RenameTable", tbl("some-catalog", "aliceschema", "alicetable"), tbl("some-catalog", "aliceschema", "newalicetable")), r)
	not allowed(bob, rename_table("RenameTable", tbl("some-catalog", "bobschema", "bobtable"), tbl("some-catalog", "bobschema", "newbobtable")), r)
	not allowed(alice, rename_table("RenameTable", tbl("some-catalog", "aliceschema", "alicetable"), tbl("some-catalog", "bobschema", "newalicetable")), r)
	allowed(alice, rename_table("RenameView", tbl("some-catalog", "aliceschema", "v"), tbl("some-catalog", "aliceschema", "v2")), r)
	not allowed(alice, rename_table("RenameMaterializedView", tbl("some-catalog", "aliceschema", "v"), tbl("some-catalog", "bobschema", "v2")), r)
}

test_table_json_pointer_file if {
	# the same rules nested under "data" (security.json-pointer=/data in Trino)
	r := data.testdata["file-based-system-access-table-with-json-pointer"].data
	allowed(bob, table_op("InsertIntoTable", "some-catalog", "bobschema", "bobtable"), r)
	allowed(charlie, table_op("InsertIntoTable", "some-catalog", "bobschema", "bobtable"), r)
	not allowed(alice, table_op("InsertIntoTable", "some-catalog", "bobschema", "bobtable"), r)
	not allowed(bob, table_op("InsertIntoTable", "some-catalog", "test", "test"), r)
}

test_filter_tables if {
	r := data.testdata["file-based-system-access-table-filter"]
	tables := [
		["restricted", "any"], ["secret", "any"], ["aliceschema", "any"], ["aliceschema", "bobtable"],
		["bobschema", "bob_any"], ["bobschema", "any"], ["any", "any"],
	]
	filter_tables(alice, "any", tables, r) == {["aliceschema", "any"], ["aliceschema", "bobtable"]}
	filter_tables(bob, "any", tables, r) == {["aliceschema", "bobtable"], ["bobschema", "bob_any"]}
	filter_tables(admin, "any", tables, r) == {
		["secret", "any"], ["aliceschema", "any"], ["aliceschema", "bobtable"],
		["bobschema", "bob_any"], ["bobschema", "any"], ["any", "any"],
	}
}

test_filter_tables_single_request if {
	r := data.testdata["file-based-system-access-table-filter"]
	allowed(bob, table_op("FilterTables", "any", "bobschema", "bob_any"), r)
	not allowed(bob, table_op("FilterTables", "any", "bobschema", "any"), r)
}

test_no_access_file if {
	r := data.testdata["file-based-system-no-access"]
	not allowed(bob, table_op("ShowColumns", "some-catalog", "bobschema", "bobtable"), r)
	not allowed(bob, schema_op("ShowTables", "some-catalog", "bobschema"), r)
	not allowed(alice, function_op("ExecuteFunction", "alice-catalog", "schema", "some_function"), r)
	not allowed(alice, function_op("CreateViewWithExecuteFunction", "alice-catalog", "schema", "some_function"), r)
	filter_tables(alice, "any", [["restricted", "any"], ["secret", "any"], ["any", "any"]], r) == set()
	filter_tables(bob, "any", [["restricted", "any"], ["secret", "any"], ["any", "any"]], r) == set()
	filter_columns(bob, "some-catalog", "bobschema", "bobtable", ["a"], r) == set()
	filter_functions(alice, "any", [["restricted", "any"], ["secret", "any"], ["any", "any"]], r) == set()

	# catalogs are absent, so catalog access itself is still allowed
	allowed(bob, catalog_op("AccessCatalog", "some-catalog"), r)
}

test_mixed_groups_first_rule_wins if {
	r := data.testdata["file-based-system-access-table-mixed-groups"]
	u12 := {"user": "user_1_2", "groups": ["group1", "group2"]}
	u2 := {"user": "user_2", "groups": ["group2"]}
	u13 := {"user": "user_1_3", "groups": ["group1", "group3"]}
	u3 := {"user": "user_3", "groups": ["group3"]}
	not column_mask(u12, col("some-catalog", "my_schema", "my_table", "col_a"), r)
	column_mask(u2, col("some-catalog", "my_schema", "my_table", "col_a"), r) == {"expression": "'mask_a'"}
	row_filters(u13, tbl("some-catalog", "my_schema", "my_table"), r) == []
	row_filters(u3, tbl("some-catalog", "my_schema", "my_table"), r) == [{"expression": "country='US'"}]
}

test_column_mask if {
	r := data.testdata["file-based-system-access-table"]
	not column_mask(alice, col("some-catalog", "bobschema", "bobcolumns", "masked"), r)
	column_mask(charlie, col("some-catalog", "bobschema", "bobcolumns", "masked"), r) == {"expression": "'mask'"}
	column_mask(charlie, col("some-catalog", "bobschema", "bobcolumns", "masked_with_user"), r) == {
		"expression": "'mask-with-user'",
		"identity": "mask-user",
	}
	not column_mask(charlie, col("some-catalog", "bobschema", "bobcolumns", "private"), r)
	not column_mask(charlie, col("some-catalog", "information_schema", "bobcolumns", "masked"), r)
}

test_batch_column_masks if {
	r := data.testdata["file-based-system-access-table"]
	cols := [col("some-catalog", "bobschema", "bobcolumns", n) | some n in ["private", "restricted", "masked", "masked_with_user"]]
	batch_masks(alice, cols, r) == []
	batch_masks(charlie, cols, r) == [
		{"index": 2, "viewExpression": {"expression": "'mask'"}},
		{"index": 3, "viewExpression": {"expression": "'mask-with-user'", "identity": "mask-user"}},
	]
}

test_row_filters if {
	r := data.testdata["file-based-system-access-table"]
	row_filters(alice, tbl("some-catalog", "bobschema", "bobcolumns"), r) == []
	row_filters(charlie, tbl("some-catalog", "bobschema", "bobcolumns"), r) == [{"expression": "starts_with(value, 'filter')"}]
	row_filters(charlie, tbl("some-catalog", "bobschema", "bobcolumns_with_grant"), r) == [{
		"expression": "starts_with(value, 'filter-with-user')",
		"identity": "filter-user",
	}]
	row_filters(charlie, tbl("some-catalog", "information_schema", "bobcolumns"), r) == []
}

# ---------------------------------------------------------------------------
# queries

test_queries if {
	r := data.testdata.query
	allowed(admin, {"operation": "ExecuteQuery"}, r)
	allowed(admin, query_op("ViewQueryOwnedBy", "any"), r)
	allowed(admin, query_op("KillQueryOwnedBy", "any"), r)
	filter_query_owners(admin, ["a", "b"], r) == {"a", "b"}

	allowed(alice, {"operation": "ExecuteQuery"}, r)
	allowed(alice, query_op("ViewQueryOwnedBy", "any"), r)
	filter_query_owners(alice, ["a", "b"], r) == {"a", "b"}
	not allowed(alice, query_op("KillQueryOwnedBy", "any"), r)

	not allowed(bob, {"operation": "ExecuteQuery"}, r)
	not allowed(bob, query_op("ViewQueryOwnedBy", "any"), r)
	filter_query_owners(bob, ["a", "b"], r) == set()
	allowed(bob, query_op("KillQueryOwnedBy", "any"), r)

	allowed(dave, {"operation": "ExecuteQuery"}, r)
	allowed(dave, query_op("ViewQueryOwnedBy", "alice"), r)
	allowed(dave, query_op("ViewQueryOwnedBy", "dave"), r)
	filter_query_owners(dave, ["alice", "bob", "dave", "admin"], r) == {"alice", "dave"}
	not allowed(dave, query_op("KillQueryOwnedBy", "alice"), r)
	not allowed(dave, query_op("KillQueryOwnedBy", "bob"), r)
	not allowed(dave, query_op("ViewQueryOwnedBy", "bob"), r)
	not allowed(dave, query_op("ViewQueryOwnedBy", "admin"), r)

	contractor := {"user": "some-other-contractor", "groups": ["contractors"]}
	allowed(contractor, {"operation": "ExecuteQuery"}, r)
	allowed(contractor, query_op("ViewQueryOwnedBy", "dave"), r)
	not allowed(contractor, query_op("KillQueryOwnedBy", "dave"), r)

	allowed(non_ascii, {"operation": "ExecuteQuery"}, r)
	allowed(non_ascii, query_op("KillQueryOwnedBy", "any"), r)
}

test_queries_docs_example if {
	r := data.testdata["docs-query-access"]
	allowed(admin, query_op("KillQueryOwnedBy", "any"), r)
	allowed(alice, {"operation": "ExecuteQuery"}, r)
	not allowed(alice, query_op("ViewQueryOwnedBy", "any"), r)
	filter_query_owners(alice, ["a", "b"], r) == set()
	allowed(alice, query_op("KillQueryOwnedBy", "any"), r)
	not allowed(bob, query_op("KillQueryOwnedBy", "any"), r)
	filter_query_owners(dave, ["alice", "bob", "dave", "admin"], r) == {"alice", "dave"}

	# the last rule has no queryOwner: everyone may execute, nobody else view
	allowed(joe, {"operation": "ExecuteQuery"}, r)
	not allowed(joe, query_op("ViewQueryOwnedBy", "any"), r)
}

test_queries_absent_allows_everything if {
	r := data.testdata["file-based-system-catalog"]
	allowed(bob, {"operation": "ExecuteQuery"}, r)
	allowed(bob, query_op("ViewQueryOwnedBy", "any"), r)
	allowed(bob, query_op("KillQueryOwnedBy", "any"), r)
	filter_query_owners(bob, ["a", "b"], r) == {"a", "b"}
}

# ---------------------------------------------------------------------------
# system_information

test_system_information if {
	every r in [data.testdata["system-information"], data.testdata["docs-system-information-access"]] {
		_system_information(r)
	}
}

_system_information(r) if {
	allowed(admin, {"operation": "ReadSystemInformation"}, r)
	allowed(admin, {"operation": "WriteSystemInformation"}, r)
	allowed(alice, {"operation": "ReadSystemInformation"}, r)
	not allowed(alice, {"operation": "WriteSystemInformation"}, r)
	not allowed(bob, {"operation": "ReadSystemInformation"}, r)
	not allowed(bob, {"operation": "WriteSystemInformation"}, r)
}

test_system_information_non_ascii_user if {
	r := data.testdata["system-information"]
	allowed(non_ascii, {"operation": "ReadSystemInformation"}, r)
	allowed(non_ascii, {"operation": "WriteSystemInformation"}, r)
}

test_system_information_absent_denies if {
	r := data.testdata["file-based-system-catalog"]
	not allowed(bob, {"operation": "ReadSystemInformation"}, r)
	not allowed(bob, {"operation": "WriteSystemInformation"}, r)
}

# ---------------------------------------------------------------------------
# session properties

test_session_properties if {
	r := data.testdata["file-based-system-access-session-property"]
	allowed(admin, system_property("dangerous"), r)
	allowed(admin, system_property("any"), r)
	allowed(alice, system_property("safe"), r)
	allowed(alice, system_property("unsafe"), r)
	allowed(alice, system_property("staff"), r)
	allowed(bob, system_property("safe"), r)
	allowed(bob, system_property("staff"), r)
	not allowed(bob, system_property("unsafe"), r)
	not allowed(alice, system_property("dangerous"), r)
	not allowed(charlie, system_property("safe"), r)
	not allowed(charlie, system_property("staff"), r)
	not allowed(joe, system_property("staff"), r)

	allowed(admin, catalog_property("any", "dangerous"), r)
	allowed(admin, catalog_property("alice-catalog", "dangerous"), r)
	allowed(alice, catalog_property("alice-catalog", "safe"), r)
	allowed(alice, catalog_property("alice-catalog", "unsafe"), r)
	allowed(alice, catalog_property("staff-catalog", "staff"), r)
	allowed(bob, catalog_property("bob-catalog", "safe"), r)
	allowed(bob, catalog_property("staff-catalog", "staff"), r)
	not allowed(bob, catalog_property("bob-catalog", "any"), r)
	not allowed(bob, catalog_property("alice-catalog", "any"), r)
	not allowed(bob, catalog_property("staff-catalog", "any"), r)
	not allowed(alice, catalog_property("alice-catalog", "dangerous"), r)
	not allowed(charlie, catalog_property("bob-catalog", "safe"), r)
	not allowed(charlie, catalog_property("staff-catalog", "staff"), r)
	not allowed(joe, catalog_property("staff-catalog", "staff"), r)
}

test_session_properties_docs_example if {
	r := data.testdata["docs-session-property-access"]
	banned := {"user": "banned_user", "groups": []}
	allowed(admin, system_property("any"), r)
	not allowed(alice, system_property("any"), r)
	not allowed(banned, system_property("any"), r)
	allowed(alice, system_property("resource_overcommit"), r)
	not allowed(banned, system_property("resource_overcommit"), r)
	allowed(admin, catalog_property("hive", "any"), r)
	not allowed(alice, catalog_property("hive", "any"), r)
	allowed(alice, catalog_property("hive", "bucket_execution_enabled"), r)
	not allowed(banned, catalog_property("hive", "bucket_execution_enabled"), r)
}

test_catalog_session_property_rechecks_catalog if {
	r := {
		"catalogs": [{"catalog": "hidden", "allow": "none"}, {"allow": "read-only"}],
		"catalog_session_properties": [{"allow": true}],
	}
	allowed(bob, catalog_property("open", "p"), r)
	not allowed(bob, catalog_property("hidden", "p"), r)
}

test_session_properties_absent_allow if {
	r := data.testdata.empty
	allowed(bob, system_property("anything"), r)
	allowed(bob, catalog_property("c", "anything"), r)
}

# ---------------------------------------------------------------------------
# visibility

visibility_catalogs := ["alice-catalog", "bob-catalog", "specific-catalog", "secret", "hidden", "open-to-all", "blocked-catalog", "unknown", "ptf-catalog"]

test_filter_catalogs if {
	r := data.testdata["file-based-system-access-visibility"]
	filter_catalogs(admin, visibility_catalogs, r) == {c | some c in visibility_catalogs} - {"blocked-catalog"}
	filter_catalogs(alice, visibility_catalogs, r) == {"specific-catalog", "alice-catalog", "ptf-catalog"}
	filter_catalogs(bob, visibility_catalogs, r) == {"specific-catalog", "alice-catalog", "bob-catalog"}
	filter_catalogs(charlie, visibility_catalogs, r) == {"specific-catalog"}
}

test_show_schemas if {
	r := data.testdata["file-based-system-access-visibility"]
	every c in ["specific-catalog", "session-catalog", "secret", "hidden", "open-to-all", "unknown"] {
		allowed(admin, catalog_op("ShowSchemas", c), r)
	}
	not allowed(admin, catalog_op("ShowSchemas", "blocked-catalog"), r)
	every c in ["specific-catalog", "session-catalog", "alice-catalog", "alice-catalog-session"] {
		allowed(alice, catalog_op("ShowSchemas", c), r)
	}
	every c in ["bob-catalog", "bob-catalog-session", "secret", "hidden", "open-to-all", "blocked-catalog", "unknown"] {
		not allowed(alice, catalog_op("ShowSchemas", c), r)
	}
	every c in ["specific-catalog", "session-catalog", "bob-catalog", "bob-catalog-session", "alice-catalog"] {
		allowed(bob, catalog_op("ShowSchemas", c), r)
	}
	every c in ["alice-catalog-session", "secret", "hidden", "open-to-all", "blocked-catalog", "unknown"] {
		not allowed(bob, catalog_op("ShowSchemas", c), r)
	}
	allowed(charlie, catalog_op("ShowSchemas", "session-catalog"), r)
	allowed(charlie, catalog_op("ShowSchemas", "specific-catalog"), r)
	every c in ["alice-catalog-session", "alice-catalog", "bob-catalog-session", "bob-catalog", "secret", "hidden", "open-to-all", "blocked-catalog", "unknown"] {
		not allowed(charlie, catalog_op("ShowSchemas", c), r)
	}
}

test_filter_schemas if {
	r := data.testdata["file-based-system-access-visibility"]
	filter_schemas(admin, "specific-catalog", ["specific-schema", "unknown"], r) == {"specific-schema", "unknown"}
	filter_schemas(alice, "specific-catalog", ["specific-schema", "unknown"], r) == {"specific-schema"}
	filter_schemas(bob, "specific-catalog", ["specific-schema"], r) == {"specific-schema"}
	filter_schemas(charlie, "specific-catalog", ["specific-schema", "unknown"], r) == {"specific-schema"}

	filter_schemas(admin, "alice-catalog", ["alice-schema", "bob-schema", "unknown"], r) == {"alice-schema", "bob-schema", "unknown"}
	filter_schemas(alice, "alice-catalog", ["alice-schema", "bob-schema", "unknown"], r) == {"alice-schema"}
	filter_schemas(bob, "alice-catalog", ["alice-schema", "bob-schema", "unknown"], r) == {"bob-schema"}
	filter_schemas(charlie, "alice-catalog", ["alice-schema", "bob-schema", "unknown"], r) == set()

	filter_schemas(admin, "bob-catalog", ["bob-schema", "unknown"], r) == {"bob-schema", "unknown"}
	filter_schemas(alice, "bob-catalog", ["bob-schema", "unknown"], r) == set()
	filter_schemas(bob, "bob-catalog", ["bob-schema", "unknown"], r) == {"bob-schema"}

	every c in ["secret", "hidden", "open-to-all", "unknown"] {
		filter_schemas(admin, c, ["unknown"], r) == {"unknown"}
		filter_schemas(alice, c, ["unknown"], r) == set()
		filter_schemas(bob, c, ["unknown"], r) == set()
		filter_schemas(charlie, c, ["unknown"], r) == set()
	}
	filter_schemas(admin, "blocked-catalog", ["unknown"], r) == set()

	filter_schemas(admin, "session-catalog", ["session-schema", "unknown"], r) == {"session-schema", "unknown"}
	filter_schemas(alice, "session-catalog", ["session-schema", "unknown"], r) == set()

	filter_schemas(admin, "ptf-catalog", ["ptf_schema"], r) == {"ptf_schema"}
	filter_schemas(alice, "ptf-catalog", ["ptf_schema"], r) == {"ptf_schema"}
	filter_schemas(bob, "ptf-catalog", ["ptf_schema"], r) == set()
}

test_show_tables_and_functions if {
	every op in ["ShowTables", "ShowFunctions"] {
		_show_tables_and_functions(op)
	}
}

_show_tables_and_functions(op) if {
	r := data.testdata["file-based-system-access-visibility"]
	every cs in [
		["specific-catalog", "specific-schema"], ["bob-catalog", "bob-schema"], ["bob-catalog", "any"],
		["alice-catalog", "alice-schema"], ["alice-catalog", "any"], ["secret", "secret"], ["hidden", "any"],
		["open-to-all", "any"], ["unknown", "any"],
	] {
		allowed(admin, schema_op(op, cs[0], cs[1]), r)
	}
	not allowed(admin, schema_op(op, "blocked-catalog", "any"), r)

	allowed(alice, schema_op(op, "specific-catalog", "specific-schema"), r)
	allowed(alice, schema_op(op, "alice-catalog", "alice-schema"), r)
	not allowed(alice, schema_op(op, "bob-catalog", "bob-schema"), r)
	not allowed(alice, schema_op(op, "secret", "secret"), r)

	allowed(bob, schema_op(op, "bob-catalog", "bob-schema"), r)
	allowed(bob, schema_op(op, "alice-catalog", "bob-schema"), r)
	not allowed(bob, schema_op(op, "bob-catalog", "any"), r)
	not allowed(bob, schema_op(op, "alice-catalog", "alice-schema"), r)

	allowed(charlie, schema_op(op, "specific-catalog", "specific-schema"), r)
	not allowed(charlie, schema_op(op, "bob-catalog", "bob-schema"), r)
}

# ---------------------------------------------------------------------------
# procedures and functions

test_procedures if {
	r := data.testdata["file-based-system-access-visibility"]
	allowed(bob, function_op("ExecuteProcedure", "alice-catalog", "procedure-schema", "some_procedure"), r)
	not allowed(bob, function_op("ExecuteProcedure", "alice-catalog", "some-schema", "some_procedure"), r)
	not allowed(bob, function_op("ExecuteProcedure", "alice-catalog", "procedure-schema", "another_procedure"), r)
	not allowed(charlie, function_op("ExecuteProcedure", "open-to-all", "some-schema", "some_procedure"), r)

	# alice's first matching rule has no privileges
	not allowed(alice, function_op("ExecuteProcedure", "alice-catalog", "procedure-schema", "some_procedure"), r)
}

test_procedures_absent_allow_builtin_only if {
	r := data.testdata.empty
	allowed(bob, function_op("ExecuteProcedure", "system", "builtin", "p"), r)
	not allowed(bob, function_op("ExecuteProcedure", "hive", "system", "flush_metadata_cache"), r)
}

test_functions_execute if {
	r := data.testdata["file-based-system-access-visibility"]
	allowed(bob, function_op("ExecuteFunction", "specific-catalog", "system", "some_function"), r)
	not allowed(admin, function_op("ExecuteFunction", "ptf-catalog", "ptf_schema", "some_table_function"), r)
	not allowed(admin, function_op("ExecuteFunction", "specific-catalog", "system", "some_function"), r)
	allowed(alice, function_op("ExecuteFunction", "ptf-catalog", "ptf_schema", "some_table_function"), r)
	not allowed(alice, function_op("ExecuteFunction", "specific-catalog", "system", "some_function"), r)
	not allowed(bob, function_op("ExecuteFunction", "ptf-catalog", "ptf_schema", "some_table_function"), r)
	not allowed(charlie, function_op("ExecuteFunction", "specific-catalog", "system", "some_function"), r)
}

test_functions_create_view_with_execute if {
	r := data.testdata["file-based-system-access-visibility"]
	allowed(alice, function_op("CreateViewWithExecuteFunction", "ptf-catalog", "ptf_schema", "some_table_function"), r)
	not allowed(alice, function_op("CreateViewWithExecuteFunction", "ptf-catalog", "ptf_schema", "some_function"), r)
	not allowed(alice, function_op("CreateViewWithExecuteFunction", "specific-catalog", "builtin", "some_function"), r)
	allowed(bob, function_op("CreateViewWithExecuteFunction", "specific-catalog", "builtin", "some_function"), r)
	not allowed(bob, function_op("CreateViewWithExecuteFunction", "specific-catalog", "builtin", "some_table_function"), r)
}

test_functions_ownership if {
	every op in ["CreateFunction", "DropFunction", "ShowCreateFunction"] {
		_functions_ownership(op)
	}
}

_functions_ownership(op) if {
	r := {"functions": [
		{"user": "alice", "schema": "alice_udfs", "privileges": ["OWNERSHIP"]},
		{"privileges": ["EXECUTE"]},
	]}
	allowed(alice, function_op(op, "c", "alice_udfs", "f"), r)
	not allowed(bob, function_op(op, "c", "alice_udfs", "f"), r)
	not allowed(alice, function_op(op, "c", "other", "f"), r)
}

test_functions_absent_allow_builtin_only if {
	r := data.testdata.empty
	allowed(bob, function_op("ExecuteFunction", "system", "builtin", "abs"), r)
	not allowed(bob, function_op("ExecuteFunction", "c", "s", "udf"), r)
}

test_filter_functions if {
	r := data.testdata["file-based-system-access-function-filter"]
	functions := [
		["restricted", "any"], ["secret", "any"], ["aliceschema", "any"], ["aliceschema", "bobfunction"],
		["bobschema", "bob_any"], ["bobschema", "any"], ["any", "any"],
	]
	filter_functions(alice, "any", functions, r) == {["aliceschema", "any"], ["aliceschema", "bobfunction"]}
	filter_functions(bob, "any", functions, r) == {["aliceschema", "bobfunction"], ["bobschema", "bob_any"]}
	filter_functions(admin, "any", functions, r) == {
		["secret", "any"], ["aliceschema", "any"], ["aliceschema", "bobfunction"],
		["bobschema", "bob_any"], ["bobschema", "any"], ["any", "any"],
	}
	allowed(bob, function_op("FilterFunctions", "any", "bobschema", "bob_any"), r)
	not allowed(bob, function_op("FilterFunctions", "any", "bobschema", "any"), r)
}

# ExecuteTableProcedure has no rule in Trino's file-based control: allowed.
test_table_procedure if {
	r := data.testdata["file-based-system-no-access"]
	allowed(bob, {"operation": "ExecuteTableProcedure", "resource": {"table": tbl("c", "s", "t"), "function": {"functionName": "optimize"}}}, r)
}

# ---------------------------------------------------------------------------
# authorization

test_schema_authorization if {
	r := data.testdata.authorization
	owned_by_user := {"schema": {"catalogName": "some-catalog", "schemaName": "owned_by_user"}}
	owned_by_group := {"schema": {"catalogName": "some-catalog", "schemaName": "owned_by_group"}}
	owned_by_role := {"schema": {"catalogName": "some-catalog", "schemaName": "owned_by_role"}}
	test_schema := {"schema": {"catalogName": "some-catalog", "schemaName": "test"}}
	op := "SetSchemaAuthorization"

	not allowed(ident("user", "group", "role"), authorization_op(op, test_schema, "new_role", "ROLE"), r)

	allowed(ident("owner_authorized", "group", "role"), authorization_op(op, owned_by_user, "new_user", "USER"), r)
	allowed(ident("owner", "authorized", "role"), authorization_op(op, owned_by_user, "new_role", "ROLE"), r)
	allowed(ident("owner", "group", "authorized"), authorization_op(op, owned_by_user, "new_role", "ROLE"), r)
	not allowed(ident("owner_without_authorization_access", "group", "role"), authorization_op(op, owned_by_user, "new_role", "ROLE"), r)
	not allowed(ident("owner_DENY_authorized", "group", "role"), authorization_op(op, owned_by_user, "new_user", "USER"), r)
	not allowed(ident("owner", "DENY_authorized", "role"), authorization_op(op, owned_by_user, "new_role", "ROLE"), r)
	not allowed(ident("owner", "group", "DENY_authorized"), authorization_op(op, owned_by_user, "new_role", "ROLE"), r)
	not allowed(ident("owner", "group", "authorized"), authorization_op(op, owned_by_user, "new_user", "USER"), r)

	allowed(ident("authorized", "owner", "role"), authorization_op(op, owned_by_group, "new_user", "USER"), r)
	allowed(ident("user", "owner", "authorized"), authorization_op(op, owned_by_group, "new_role", "ROLE"), r)
	not allowed(ident("user", "owner", "role"), authorization_op(op, owned_by_group, "new_role", "ROLE"), r)
	not allowed(ident("DENY_authorized", "owner", "role"), authorization_op(op, owned_by_group, "new_user", "USER"), r)

	allowed(ident("authorized", "group", "owner"), authorization_op(op, owned_by_role, "new_user", "USER"), r)
	allowed(ident("user", "group", "owner_authorized"), authorization_op(op, owned_by_role, "new_role", "ROLE"), r)
	not allowed(ident("user", "group", "owner"), authorization_op(op, owned_by_role, "new_role", "ROLE"), r)
	not allowed(ident("user", "group", "owner_DENY_authorized"), authorization_op(op, owned_by_role, "new_role", "ROLE"), r)
	not allowed(ident("user", "group", "owner_authorized"), authorization_op(op, owned_by_role, "new_user", "USER"), r)
}

test_table_and_view_authorization if {
	every op in ["SetTableAuthorization", "SetViewAuthorization"] {
		_table_and_view_authorization(op)
	}
}

_table_and_view_authorization(op) if {
	r := data.testdata.authorization
	by_user := {"table": tbl("some-catalog", "test", "owned_by_user")}
	by_group := {"table": tbl("some-catalog", "test", "owned_by_group")}
	by_role := {"table": tbl("some-catalog", "test", "owned_by_role")}

	not allowed(ident("user", "group", "role"), authorization_op(op, {"table": tbl("some-catalog", "test", "table")}, "new_role", "ROLE"), r)
	allowed(ident("owner_authorized", "group", "role"), authorization_op(op, by_user, "new_user", "USER"), r)
	allowed(ident("owner", "group", "authorized"), authorization_op(op, by_user, "new_role", "ROLE"), r)
	not allowed(ident("owner_without_authorization_access", "group", "role"), authorization_op(op, by_user, "new_role", "ROLE"), r)
	not allowed(ident("owner", "group", "authorized"), authorization_op(op, by_user, "new_user", "USER"), r)

	# the table rule's group pattern is "owner*" (regex: "owne" then any number of "r")
	allowed(ident("authorized", "owner", "role"), authorization_op(op, by_group, "new_user", "USER"), r)
	not allowed(ident("DENY_authorized", "owner", "role"), authorization_op(op, by_group, "new_user", "USER"), r)

	allowed(ident("authorized", "group", "owner"), authorization_op(op, by_role, "new_user", "USER"), r)
	not allowed(ident("user", "group", "owner_DENY_authorized"), authorization_op(op, by_role, "new_role", "ROLE"), r)
}

test_authorization_docs_example if {
	r := data.testdata["docs-authorization"]
	schema := {"schema": {"catalogName": "catalog", "schemaName": "schema"}}
	table := {"table": tbl("catalog", "schema", "table_or_view")}
	allowed(admin, authorization_op("SetSchemaAuthorization", schema, "alice", "USER"), r)
	allowed(admin, authorization_op("SetSchemaAuthorization", schema, "role", "ROLE"), r)
	allowed(admin, authorization_op("SetTableAuthorization", table, "alice", "USER"), r)
	allowed(admin, authorization_op("SetViewAuthorization", table, "role", "ROLE"), r)
	not allowed(admin, authorization_op("SetSchemaAuthorization", schema, "bob", "USER"), r)
	not allowed(admin, authorization_op("SetTableAuthorization", table, "bob", "USER"), r)
	not allowed(admin, authorization_op("SetViewAuthorization", table, "bob", "USER"), r)
}

test_authorization_absent_denies if {
	r := data.testdata.empty
	not allowed(bob, authorization_op("SetSchemaAuthorization", {"schema": {"catalogName": "c", "schemaName": "s"}}, "x", "USER"), r)
}

# ---------------------------------------------------------------------------
# catalogs

test_catalog_access if {
	r := data.testdata.catalog
	allowed(alice, catalog_op("AccessCatalog", "alice-catalog"), r)
	not allowed(bob, catalog_op("AccessCatalog", "alice-catalog"), r)
	allowed(bob, catalog_op("AccessCatalog", "open-to-all"), r)
	allowed(bob, catalog_op("AccessCatalog", "all-allowed"), r)
	not allowed(bob, catalog_op("AccessCatalog", "secret"), r)
	allowed(admin, catalog_op("AccessCatalog", "secret"), r)
	allowed(alice, catalog_op("AccessCatalog", "staff-catalog"), r)
	not allowed(charlie, catalog_op("AccessCatalog", "staff-catalog"), r)
	not allowed(charlie, catalog_op("AccessCatalog", "unknown"), r)
	allowed(non_ascii, catalog_op("AccessCatalog", "\u0200\u0200\u0200"), r)

	# the hidden last rule: everyone has `all` on the system catalog
	allowed(charlie, catalog_op("AccessCatalog", "system"), r)
}

test_catalog_levels if {
	r := data.testdata.catalog
	allowed(alice, table_op("InsertIntoTable", "alice-catalog", "s", "t"), r)
	not allowed(alice, catalog_op("CreateCatalog", "alice-catalog"), r)

	ro := data.testdata.catalog_read_only
	allowed(alice, columns_op("SelectFromColumns", "alice-catalog", "s", "t", ["c"]), ro)
	not allowed(alice, table_op("InsertIntoTable", "alice-catalog", "s", "t"), ro)
	not allowed(alice, table_op("DropTable", "alice-catalog", "s", "t"), ro)
	not allowed(alice, schema_op("CreateSchema", "alice-catalog", "s"), ro)
	not allowed(bob, catalog_op("AccessCatalog", "alice-catalog"), ro)

	owner := {"catalogs": [{"user": "alice", "allow": "owner"}, {"allow": "ALL"}]}
	allowed(alice, catalog_op("CreateCatalog", "x"), owner)
	allowed(alice, catalog_op("DropCatalog", "x"), owner)
	not allowed(bob, catalog_op("CreateCatalog", "x"), owner)
	allowed(bob, table_op("InsertIntoTable", "x", "s", "t"), owner)
}

test_catalogs_absent_allow_all_but_not_owner if {
	r := data.testdata.empty
	allowed(bob, catalog_op("AccessCatalog", "anything"), r)
	allowed(bob, table_op("InsertIntoTable", "anything", "s", "t"), r)
	not allowed(bob, catalog_op("CreateCatalog", "anything"), r)
}

test_empty_sections_deny if {
	r := {"catalogs": [], "schemas": [], "tables": [], "system_session_properties": [], "catalog_session_properties": [], "queries": [], "functions": [], "procedures": []}
	not allowed(bob, catalog_op("AccessCatalog", "c"), r)
	allowed(bob, catalog_op("AccessCatalog", "system"), r)
	not allowed(bob, columns_op("SelectFromColumns", "system", "s", "t", []), r)
	not allowed(bob, schema_op("CreateSchema", "system", "s"), r)
	not allowed(bob, system_property("p"), r)
	not allowed(bob, catalog_property("system", "p"), r)
	not allowed(bob, {"operation": "ExecuteQuery"}, r)
	not allowed(bob, function_op("ExecuteFunction", "system", "builtin", "abs"), r)
	not allowed(bob, function_op("ExecuteProcedure", "system", "builtin", "p"), r)
}

test_empty_file_defaults if {
	r := data.testdata.empty
	allowed(joe, schema_op("CreateSchema", "some-catalog", "unknown"), r)
	allowed(joe, rename_schema("some-catalog", "unknown", "new_unknown"), r)
	allowed(joe, columns_op("SelectFromColumns", "some-catalog", "unknown", "unknown", []), r)
	allowed(joe, table_op("TruncateTable", "some-catalog", "unknown", "unknown"), r)
	allowed(joe, rename_table("RenameTable", tbl("some-catalog", "unknown", "unknown"), tbl("some-catalog", "unknown", "new_unknown")), r)
	not allowed(joe, authorization_op("SetSchemaAuthorization", {"schema": {"catalogName": "some-catalog", "schemaName": "unknown"}}, "some_role", "ROLE"), r)
	not allowed(joe, {"operation": "ReadSystemInformation"}, r)
	filter_catalogs(joe, ["a", "b"], r) == {"a", "b"}
	filter_tables(joe, "c", [["s", "t"]], r) == {["s", "t"]}
}

# ---------------------------------------------------------------------------
# rules Trino refuses to load fail closed and are reported

test_invalid_rules_fail_closed if {
	unset := data.testdata.invalid.catalog_allow_unset
	not allowed(bob, catalog_op("AccessCatalog", "allowed-absent"), unset)
	not allowed(bob, catalog_op("AccessCatalog", "anything"), unset)
	count(data.trino.rules_errors) == 1 with data.trino.rules as unset

	bad_value := data.testdata.invalid.catalog_invalid_allow_value
	not allowed(bob, catalog_op("AccessCatalog", "invalid-allow-value"), bad_value)

	query := data.testdata.invalid["query-invalid"]
	not allowed(dave, query_op("ViewQueryOwnedBy", "alice"), query)
	not allowed(dave, {"operation": "ExecuteQuery"}, query)
}

test_invalid_regex_fails_closed if {
	# Java accepts lookahead, RE2 does not: the deny rule must not be skipped
	r := {"tables": [{"schema": "(?!public).*", "privileges": []}, {"privileges": ["SELECT"]}]}
	not allowed(bob, columns_op("SelectFromColumns", "c", "public", "t", []), r)
	some msg in data.trino.rules_errors with data.trino.rules as r
	startswith(msg, "tables[0]")
}

test_section_not_a_list_fails_closed if {
	r := {"tables": {"privileges": ["SELECT"]}}
	not allowed(bob, columns_op("SelectFromColumns", "c", "s", "t", []), r)
	"tables: must be a list of rules" in data.trino.rules_errors with data.trino.rules as r
}

test_valid_test_files_have_no_errors if {
	every name, r in data.testdata {
		_no_errors(name, object.get(r, "data", r))
	}
}

_no_errors("invalid", _) := true

_no_errors(name, r) if {
	name != "invalid"
	count(data.trino.rules_errors) == 0 with data.trino.rules as r
}
