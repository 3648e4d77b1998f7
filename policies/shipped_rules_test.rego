# The shipped default: policies/rules.json (loaded at the root of data, exactly as
# `opa run -s policies/` loads it) with the example directory of
# examples/directory.json (loaded at data.examples by `opa test policies/`).
package trino_test

import data.trino

example_directory := data.examples.gatehouse

shipped(entry, user, action) := v if {
	v := trino[entry] with input as g_request(user, [], action)
		with data.gatehouse as example_directory
}

shipped_allowed(user, action) if shipped("allow", user, action) == true

test_shipped_rules_are_valid if {
	count(trino.rules_errors) == 0
	is_array(data.catalogs)
	is_array(data.tables)
}

test_shipped_everyone_reads_everything if {
	every user in ["alice", "alice@example.com", "bob@example.com"] {
		_shipped_everyone_reads_everything(user)
	}
}

_shipped_everyone_reads_everything(user) if {
	shipped_allowed(user, {"operation": "ExecuteQuery"})
	shipped_allowed(user, catalog_op("AccessCatalog", "memory"))
	shipped_allowed(user, columns_op("SelectFromColumns", "memory", "hr", "employees", ["name", "salary"]))
	shipped_allowed(user, catalog_op("ShowSchemas", "memory"))
	shipped_allowed(user, schema_op("ShowTables", "memory", "hr"))
	shipped_allowed(user, table_op("ShowColumns", "memory", "hr", "employees"))
	shipped_allowed(user, system_property("query_max_run_time"))
	shipped_allowed(user, catalog_property("memory", "p"))
	shipped("batch", user, tables_action([tbl("memory", "hr", "employees"), tbl("memory", "sales", "orders")])) == [0, 1]
	shipped("rowFilters", user, {"operation": "GetRowFilters", "resource": {"table": tbl("memory", "hr", "employees")}}) == []
}

test_shipped_only_governance_writes if {
	not shipped_allowed("alice", table_op("InsertIntoTable", "memory", "hr", "employees"))
	not shipped_allowed("alice", table_op("CreateTable", "memory", "hr", "new"))
	not shipped_allowed("alice", schema_op("CreateSchema", "memory", "new"))

	# bob holds GOVERNANCE
	shipped_allowed("bob@example.com", table_op("InsertIntoTable", "memory", "hr", "employees"))
	shipped_allowed("bob@example.com", table_op("CreateTable", "memory", "hr", "new"))
	shipped_allowed("bob@example.com", schema_op("CreateSchema", "memory", "new"))
}

test_shipped_queries_and_system_information if {
	# everyone runs queries; Trino lets users see and kill their own without asking
	not shipped_allowed("alice", query_op("ViewQueryOwnedBy", "bob@example.com"))
	not shipped_allowed("alice", query_op("KillQueryOwnedBy", "bob@example.com"))
	shipped_allowed("bob@example.com", query_op("ViewQueryOwnedBy", "alice"))
	shipped_allowed("bob@example.com", query_op("KillQueryOwnedBy", "alice"))
	shipped_allowed("bob@example.com", {"operation": "ReadSystemInformation"})
	not shipped_allowed("bob@example.com", {"operation": "WriteSystemInformation"})
	not shipped_allowed("alice", {"operation": "ReadSystemInformation"})
}

test_shipped_impersonation_by_directory_permission if {
	shipped_allowed("svc_dashboard", impersonate("alice"))
	shipped_allowed("svc_dashboard", impersonate("bob@example.com"))
	not shipped_allowed("svc_dashboard", impersonate("carol@example.com")) # disabled
	not shipped_allowed("alice", impersonate("bob@example.com"))
	shipped_allowed("svc_etl", impersonate("alice")) # settings.impersonation.allowedServiceUsers
	not shipped_allowed("trino", impersonate("alice")) # policy-exempt
}

test_shipped_directory_states if {
	not shipped_allowed("carol@example.com", {"operation": "ExecuteQuery"})
	not shipped_allowed("mallory", {"operation": "ExecuteQuery"})
	shipped_allowed("trino", table_op("DropTable", "memory", "hr", "employees"))
}
