# Test helpers: Trino's test identities, request builders, and evaluation of the
# entry points with a given rules file (data.trino.rules) and directory
# (data.gatehouse). Rules files copied from Trino's own tests live under
# testdata/<name>/rules.json and load at data.testdata[name].
package trino_test

import data.trino

# Trino's test identities (BaseFileBasedSystemAccessControlTest), as Trino's OPA
# plugin sends them. Trino's OPA input carries no roles; enabledRoles stands in for
# the roles of Trino's own tests (the policy honours it when present).
alice := {"user": "alice", "groups": ["staff"]}

bob := {"user": "bob", "groups": ["staff"]}

admin := {"user": "alberto", "groups": ["staff"], "enabledRoles": ["admin"]}

charlie := {"user": "charlie", "groups": ["guests"]}

dave := {"user": "dave", "groups": ["contractors"]}

joe := {"user": "joe", "groups": []}

non_ascii := {"user": "\u0194\u0194\u0194", "groups": []}

ident(user, group, role) := {"user": user, "groups": [group], "enabledRoles": [role]}

# For conformance tests the requesting user is an active directory user with no
# directory groups, permissions or attributes: only Trino's identity counts.
directory_for(identity) := {"users": {lower(identity.user): {"email": lower(identity.user)}}}

request(identity, action) := {
	"context": {"identity": identity, "softwareStack": {"trinoVersion": "476"}},
	"action": action,
}

allowed(identity, action, rules) if {
	d := directory_for(identity)
	trino.allow with input as request(identity, action)
		with data.trino.rules as rules
		with data.gatehouse as d
}

# The batch answer as a set (the default is []).
batch_of(identity, action, rules) := {i | some i in b} if {
	d := directory_for(identity)
	b := trino.batch with input as request(identity, action)
		with data.trino.rules as rules
		with data.gatehouse as d
}

row_filters(identity, table, rules) := f if {
	d := directory_for(identity)
	f := trino.rowFilters with input as request(identity, {"operation": "GetRowFilters", "resource": {"table": table}})
		with data.trino.rules as rules
		with data.gatehouse as d
}

column_mask(identity, column, rules) := m if {
	d := directory_for(identity)
	m := trino.columnMask with input as request(identity, {"operation": "GetColumnMask", "resource": {"column": column}})
		with data.trino.rules as rules
		with data.gatehouse as d
}

batch_masks(identity, columns, rules) := m if {
	d := directory_for(identity)
	m := trino.batchColumnMasks with input as request(identity, {"operation": "GetColumnMask", "filterResources": [{"column": c} | some c in columns]})
		with data.trino.rules as rules
		with data.gatehouse as d
}

# Resources and actions.

tbl(c, s, t) := {"catalogName": c, "schemaName": s, "tableName": t}

col(c, s, t, name) := {"catalogName": c, "schemaName": s, "tableName": t, "columnName": name, "columnType": "varchar"}

catalog_op(op, c) := {"operation": op, "resource": {"catalog": {"name": c}}}

schema_op(op, c, s) := {"operation": op, "resource": {"schema": {"catalogName": c, "schemaName": s}}}

rename_schema(c, s, new) := {
	"operation": "RenameSchema",
	"resource": {"schema": {"catalogName": c, "schemaName": s}},
	"targetResource": {"schema": {"catalogName": c, "schemaName": new}},
}

table_op(op, c, s, t) := {"operation": op, "resource": {"table": tbl(c, s, t)}}

columns_op(op, c, s, t, columns) := {"operation": op, "resource": {"table": object.union(tbl(c, s, t), {"columns": columns})}}

rename_table(op, from, to) := {"operation": op, "resource": {"table": from}, "targetResource": {"table": to}}

function_op(op, c, s, f) := {"operation": op, "resource": {"function": {"catalogName": c, "schemaName": s, "functionName": f}}}

system_property(name) := {"operation": "SetSystemSessionProperty", "resource": {"systemSessionProperty": {"name": name}}}

catalog_property(c, name) := {
	"operation": "SetCatalogSessionProperty",
	"resource": {"catalogSessionProperty": {"catalogName": c, "propertyName": name}},
}

query_op(op, owner) := {"operation": op, "resource": {"user": {"user": owner, "groups": []}}}

authorization_op(op, resource, name, type) := {"operation": op, "resource": resource, "grantee": {"name": name, "type": type}}

impersonate(target) := {"operation": "ImpersonateUser", "resource": {"user": {"user": target}}}

# Filter* batches, with the answer mapped back to names.

filter_catalogs(identity, catalogs, rules) := {catalogs[i] | some i in batch_of(identity, action, rules)} if {
	action := {"operation": "FilterCatalogs", "filterResources": [{"catalog": {"name": c}} | some c in catalogs]}
}

filter_schemas(identity, c, schemas, rules) := {schemas[i] | some i in batch_of(identity, action, rules)} if {
	action := {"operation": "FilterSchemas", "filterResources": [{"schema": {"catalogName": c, "schemaName": s}} | some s in schemas]}
}

# tables: [[schema, table], ...] of catalog c
filter_tables(identity, c, tables, rules) := {tables[i] | some i in batch_of(identity, action, rules)} if {
	action := {"operation": "FilterTables", "filterResources": [{"table": tbl(c, t[0], t[1])} | some t in tables]}
}

filter_columns(identity, c, s, t, columns, rules) := {columns[i] | some i in batch_of(identity, action, rules)} if {
	action := {"operation": "FilterColumns", "filterResources": [{"table": object.union(tbl(c, s, t), {"columns": columns})}]}
}

# functions: [[schema, function], ...] of catalog c
filter_functions(identity, c, functions, rules) := {functions[i] | some i in batch_of(identity, action, rules)} if {
	action := {"operation": "FilterFunctions", "filterResources": [
	{"function": {"catalogName": c, "schemaName": f[0], "functionName": f[1]}} |
		some f in functions
	]}
}

filter_query_owners(identity, owners, rules) := {owners[i] | some i in batch_of(identity, action, rules)} if {
	action := {"operation": "FilterViewQueryOwnedBy", "filterResources": [{"user": {"user": o, "groups": []}} | some o in owners]}
}
