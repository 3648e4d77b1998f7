# Gatehouse's shipped policy bundle: the entry points Trino's `opa` access control
# calls (POST /v1/data/trino/<entry point>), over rules.json in the shape of
# Trino's file-based access control and the gatehouse directory (data.gatehouse).
#
#   allow             boolean; false unless a rule allows
#   batch             the indices of input.action.filterResources the user may see
#                     (FilterColumns: of filterResources[0].table.columns); [] if none
#   rowFilters        [{"expression", "identity"?}], ANDed by Trino; [] if none
#   columnMask        {"expression", "identity"?}, or undefined for no mask
#   batchColumnMasks  [{"index", "viewExpression": {"expression", "identity"?}}]; [] if none
#
# Unknown and disabled directory users are denied everything; their row filter is
# `false` and every column masks to NULL. Policy-exempt users are allowed every
# operation except impersonation and get no row filters or masks.
package trino

_resource := input.action.resource

# ---------------------------------------------------------------------------
# allow

default allow := false

allow if {
	_exempt
	input.action.operation != "ImpersonateUser"
}

allow if {
	input.action.operation == "ImpersonateUser"
	_impersonation_allowed
}

allow if {
	not _exempt
	_active
	_allowed
}

# Queries.

_allowed if {
	input.action.operation == "ExecuteQuery"
	_query_access("execute", null)
}

_allowed if {
	input.action.operation == "ViewQueryOwnedBy"
	_query_access("view", _resource.user.user)
}

_allowed if {
	input.action.operation == "FilterViewQueryOwnedBy"
	_query_access("view", _resource.user.user)
}

_allowed if {
	input.action.operation == "KillQueryOwnedBy"
	_query_access("kill", _resource.user.user)
}

# System information and session properties.

_allowed if {
	input.action.operation == "ReadSystemInformation"
	_system_information("read")
}

_allowed if {
	input.action.operation == "WriteSystemInformation"
	_system_information("write")
}

_allowed if {
	input.action.operation == "SetSystemSessionProperty"
	_system_property(_resource.systemSessionProperty.name)
}

_allowed if {
	input.action.operation == "SetCatalogSessionProperty"
	p := _resource.catalogSessionProperty
	_catalog_property(p.catalogName, p.propertyName)
}

# Catalogs.

_allowed if {
	input.action.operation == "AccessCatalog"
	_cat_at_least(_resource.catalog.name, 1)
}

_allowed if {
	input.action.operation in {"CreateCatalog", "DropCatalog"}
	_cat_at_least(_resource.catalog.name, 3)
}

_allowed if {
	input.action.operation in {"ShowSchemas", "FilterCatalogs"}
	_catalog_visible(_resource.catalog.name)
}

# Schemas.

_allowed if {
	input.action.operation in {"CreateSchema", "DropSchema", "ShowCreateSchema"}
	_schema_owner(_resource.schema.catalogName, _resource.schema.schemaName)
}

_allowed if {
	input.action.operation == "RenameSchema"
	s := _resource.schema
	_schema_owner(s.catalogName, s.schemaName)
	_schema_owner(s.catalogName, input.action.targetResource.schema.schemaName)
}

_allowed if {
	input.action.operation == "SetSchemaAuthorization"
	_schema_owner(_resource.schema.catalogName, _resource.schema.schemaName)
	_authorization(input.action.grantee)
}

_allowed if {
	input.action.operation in {"ShowTables", "ShowFunctions", "FilterSchemas"}
	_schema_visible(_resource.schema.catalogName, _resource.schema.schemaName)
}

# Tables, views and materialized views.

# The table privilege each operation needs (one body per privilege, so that OPA's
# rule index picks the body from the operation).
_allowed if {
	input.action.operation in {
		"ShowCreateTable", "CreateTable", "DropTable", "SetTableProperties", "SetTableComment",
		"SetViewComment", "SetColumnComment", "AddColumn", "DropColumn", "RenameColumn", "AlterColumn",
		"CreateView", "DropView", "CreateMaterializedView", "DropMaterializedView",
		"SetMaterializedViewProperties", "SetMaterializedViewComment",
	}
	t := input.action.resource.table
	_table_perm(t.catalogName, t.schemaName, t.tableName, "OWNERSHIP")
}

_allowed if {
	input.action.operation == "InsertIntoTable"
	t := input.action.resource.table
	_table_perm(t.catalogName, t.schemaName, t.tableName, "INSERT")
}

_allowed if {
	input.action.operation in {"DeleteFromTable", "TruncateTable"}
	t := input.action.resource.table
	_table_perm(t.catalogName, t.schemaName, t.tableName, "DELETE")
}

_allowed if {
	input.action.operation in {"UpdateTableColumns", "RefreshMaterializedView"}
	t := input.action.resource.table
	_table_perm(t.catalogName, t.schemaName, t.tableName, "UPDATE")
}

_allowed if {
	input.action.operation in {"RenameTable", "RenameView", "RenameMaterializedView"}
	t := _resource.table
	n := input.action.targetResource.table
	_table_perm(t.catalogName, t.schemaName, t.tableName, "OWNERSHIP")
	_table_perm(n.catalogName, n.schemaName, n.tableName, "OWNERSHIP")
}

_allowed if {
	input.action.operation in {"SetTableAuthorization", "SetViewAuthorization"}
	t := _resource.table
	_table_perm(t.catalogName, t.schemaName, t.tableName, "OWNERSHIP")
	_authorization(input.action.grantee)
}

_allowed if {
	input.action.operation == "ShowColumns"
	t := _resource.table
	_any_table_perm(t.catalogName, t.schemaName, t.tableName)
}

_allowed if {
	input.action.operation == "FilterTables"
	t := _resource.table
	_table_visible(t.catalogName, t.schemaName, t.tableName)
}

# Without opa.policy.batched-uri Trino asks once per column: allow when every
# column sent is visible.
_allowed if {
	input.action.operation == "FilterColumns"
	t := _resource.table
	columns := object.get(t, "columns", [])
	count(_visible_column_indices(t.catalogName, t.schemaName, t.tableName, columns)) == count(columns)
}

_allowed if {
	input.action.operation == "SelectFromColumns"
	t := input.action.resource.table
	_select_columns(t.catalogName, t.schemaName, t.tableName, object.get(t, "columns", []))
}

_allowed if {
	input.action.operation == "CreateViewWithSelectFromColumns"
	t := _resource.table
	_create_view_select(t.catalogName, t.schemaName, t.tableName, object.get(t, "columns", []))
}

# Trino's file-based control has no rule for table procedures (ALTER TABLE ... EXECUTE).
_allowed if input.action.operation == "ExecuteTableProcedure"

# Functions and procedures.

_allowed if {
	input.action.operation == "ExecuteProcedure"
	f := _resource.function
	_procedure_execute(f.catalogName, f.schemaName, f.functionName)
}

_allowed if {
	input.action.operation == "ExecuteFunction"
	f := _resource.function
	_function_execute(f.catalogName, f.schemaName, f.functionName)
}

_allowed if {
	input.action.operation == "CreateViewWithExecuteFunction"
	f := _resource.function
	_function_grant_execute(f.catalogName, f.schemaName, f.functionName)
}

_allowed if {
	input.action.operation in {"CreateFunction", "DropFunction", "ShowCreateFunction"}
	f := _resource.function
	_function_owner(f.catalogName, f.schemaName, f.functionName)
}

_allowed if {
	input.action.operation == "FilterFunctions"
	f := _resource.function
	_function_visible(f.catalogName, f.schemaName, f.functionName)
}

# FilterTables keeps a table if the user owns its schema or holds any privilege on it.
_table_visible(c, s, _) if _schema_owner(c, s)

_table_visible(c, s, t) if _any_table_perm(c, s, t)

# FilterFunctions keeps a function if the user owns its schema or may execute it.
_function_visible(c, s, _) if _schema_owner(c, s)

_function_visible(c, s, f) if _function_execute(c, s, f)

# ---------------------------------------------------------------------------
# batch

default batch := []

batch := _all_indices if _exempt

batch := _batch if {
	not _exempt
	_active
}

_items := input.action.filterResources

_all_indices := {i | some i, _ in _items[0].table.columns} if {
	input.action.operation == "FilterColumns"
} else := {i | some i, _ in _items}

_batch := {i | some i, r in _items; _catalog_visible(r.catalog.name)} if {
	input.action.operation == "FilterCatalogs"
}

_batch := {i | some i, r in _items; _schema_visible(r.schema.catalogName, r.schema.schemaName)} if {
	input.action.operation == "FilterSchemas"
}

_batch := _filter_tables if {
	input.action.operation == "FilterTables"
}

_batch := _visible_column_indices(t.catalogName, t.schemaName, t.tableName, object.get(t, "columns", [])) if {
	input.action.operation == "FilterColumns"
	t := _items[0].table
}

_batch := {i | some i, r in _items; f := r.function; _function_visible(f.catalogName, f.schemaName, f.functionName)} if {
	input.action.operation == "FilterFunctions"
}

_batch := {i | some i, r in _items; _query_access("view", r.user.user)} if {
	input.action.operation == "FilterViewQueryOwnedBy"
}

# FilterTables: Trino sends up to 10,000 tables of one catalog per request, so the
# per-table work is kept to a minimum (stock OPA spends a few microseconds on every
# expression evaluated per item):
#   1. when the decision depends on no name at all (the first rules that apply to
#      the user have no catalog, schema or table pattern) it is made once, without
#      looking at the batch: every index, none, or the information_schema ones;
#   2. for a batch of one catalog, the same when it depends on no schema or table
#      name (the first rules that match the catalog have no such pattern);
#   3. otherwise it is planned once per distinct schema: whether the user owns the
#      schema, the catalog access, and which table rules can still match once the
#      catalog and schema are known, as one regex over table names; one pass over
#      the tables then looks each up in its schema's plan (when every schema that
#      no rule names keeps all its tables, only the named schemas are planned);
#   4. a batch spanning several catalogs (Trino never sends one) is checked per item.
# (Items are expected to be well formed, as gatehouse checks and Trino sends them:
# the shortcuts do not look at names the answer does not depend on.)
# Per-item expressions index input directly (input...filterResources[i]...), which
# stock OPA evaluates much faster than iterating with `some i, r in`.
_filter_tables := _ft_constant_answer(_ft_constant) if {
	count(input.action.filterResources) > 0
} else := _ft_constant_answer(_ft_catalog_constant) if {
	_ft_single_catalog
} else := _ft_by_schema if {
	_ft_single_catalog
} else := [i |
	some i, r in input.action.filterResources
	_table_visible(r.table.catalogName, r.table.schemaName, r.table.tableName)
]

_ft_catalog := input.action.filterResources[0].table.catalogName

# (Usually every item names the catalog of the first: the indices of those,
# one pass that is also the set of all indices, tell. Else the distinct
# catalogs are counted: an item without a catalog name does not count.)
_ft_single_catalog if _ft_all_in_catalog

_ft_single_catalog if {
	not _ft_all_in_catalog
	count(_ft_catalogs) == 1
}

_ft_all_in_catalog if count(_ft_in_catalog) == count(input.action.filterResources)

_ft_constant_answer("all") := numbers.range(0, count(input.action.filterResources) - 1)

_ft_constant_answer("information_schema") := [i | input.action.filterResources[i].table.schemaName == _INFORMATION_SCHEMA]

_ft_constant_answer("none") := []

# The answer for every table of every catalog, when it depends on none of their
# names: the first rules that apply to the user have no catalog (and schema,
# table) patterns.
_ft_constant := "none" if {
	_const_level < 1
} else := "all" if {
	_const_level >= 1
	_const_owner == true
} else := "all" if {
	_const_level >= 1
	_const_privs == true
} else := "information_schema" if {
	_const_level >= 1
	_const_owner == false
	_const_privs == false
}

# The catalog access level of every catalog, when it is the same for all.
_const_level := 0 if {
	count(_catalog_rules) == 0
} else := _catalog_rules[0].level if {
	_catalog_rules[0].catalog == _ANY
}

# Schema ownership of every schema, when it is the same for all.
_const_owner := false if {
	_const_level < 2
} else := false if {
	count(_schema_rules) == 0
} else := _schema_rules[0].owner if {
	_schema_rules[0].catalog == _ANY
	_schema_rules[0].schema == _ANY
}

# Whether the user holds any privilege on every table, when it is the same for all.
_const_privs := false if {
	count(_user_table_subjects) == 0
} else := count(n.privs) > 0 if {
	n := _first_table_rule
	n.catalog == _ANY
	n.schema == _ANY
	n.table == _ANY
}

# The answer for a batch of one catalog, when it depends on none of the schema and
# table names.
_ft_catalog_constant := "none" if {
	_cat_level(_ft_catalog) < 1
} else := "all" if {
	_ft_owner_constant == true
} else := "all" if {
	_ft_table_constant == true
} else := "information_schema" if {
	_ft_owner_constant == false
	_ft_table_constant == false
}

# Schema ownership for every schema of the catalog, when the first schema rule that
# matches the catalog has no schema pattern (undefined otherwise).
_ft_owner_constant := false if {
	_cat_level(_ft_catalog) < 2
} else := os[0].owner if {
	c := _ft_catalog
	os := [n | some n in _schema_rules; _om(n.catalog, c)]
	count(os) > 0
	os[0].schema == _ANY
} else := false if {
	c := _ft_catalog
	count([n | some n in _schema_rules; _om(n.catalog, c)]) == 0
}

# Any privilege on every table of the catalog, when the first table rule that matches
# the catalog has neither schema nor table pattern (undefined otherwise).
_ft_table_constant := count(n.privs) > 0 if {
	n := _first_table_rule1(_ft_catalog)
	n.schema == _ANY
	n.table == _ANY
} else := false if {
	not _first_table_rule1(_ft_catalog)
}

# One pass over the tables: each is looked up in its schema's plan, which says
# which table names to keep either as a map from name to keep-or-not (when the
# table patterns that matter are literals) with a default, or as one regex and
# whether to keep the names that match it or those that do not.
_ft_by_schema := sort(_ft_all_items - dropped) if {
	# every schema keeps its tables but a few literal names (the usual shape of
	# per-table rules): the indices of the tables with those names, looked up by
	# name in one pass, are dropped from all. When every schema no rule names
	# keeps all its tables, the plans of the named schemas are all it takes:
	# the schemas of the batch are not collected (one pass fewer)
	plans := _ft_named_plans
	every p in plans {
		p.m
		p.dflt == true
	}
	dropped := _ft_dropped(plans)
} else := sort(_ft_all_items - dropped) if {
	# the same from the plans of the schemas of the batch
	plans := _ft_plans
	every p in plans {
		p.m
		p.dflt == true
	}
	dropped := _ft_dropped(plans)
} else := [i |
	t := input.action.filterResources[i].table
	p := plans[t.schemaName]
	object.get(p.m, t.tableName, p.dflt)
] if {
	plans := _ft_plans
	every p in plans {
		p.m
	}
} else := [i |
	t := input.action.filterResources[i].table
	p := plans[t.schemaName]
	regex.match(p.re, t.tableName) == p.keep
] if {
	plans := _ft_plans
	every p in plans {
		p.re
	}
} else := sort(array.concat(kept, checked)) if {
	# some plan lists regex table rules that grant and deny before the first rule
	# without a table pattern: tables of those schemas are checked one rule at a time
	plans := _ft_plans
	groups := {s: [i | input.action.filterResources[i].table.schemaName == s] | some s, _ in plans}
	kept := [i | some s, p in plans; p.d == "all"; some i in groups[s]]
	checked := [i |
		some s, p in plans
		p.d == "check"
		some i in groups[s]
		_ft_table_ok(p, input.action.filterResources[i].table.tableName)
	]
}

# The indices of the items whose name the plan of their schema (plans: schema
# → plan, each a map with a default of true) maps to false. Each plan lists
# those names: [name, schema] of each, then name → schemas, then one pass.
_ft_dropped(plans) := {i | ss := by_name[input.action.filterResources[i].table.tableName]; ss[input.action.filterResources[i].table.schemaName]} if {
	drops := [[t, s] | some s, p in plans; some t in p.drop]
	by_name := {t: ss | some x in drops; t := x[0]; ss := {s | drops[j][0] == t; s := drops[j][1]}}
}

# The plan of each schema of the batch (one catalog).
_ft_plans := {s: _ft_plan(c, s) | some s in _ft_schemas} if c := _ft_catalog

# The plans of the schemas of catalog c that a rule names, when every other
# schema has one plan, the generic one, and that plan keeps every table
# (undefined otherwise). Schemas are named by the literal schema pattern of a
# table rule filed under c or any catalog (_FT_NAMED_SCHEMAS), of a scanned
# table rule or of a schema rule that applies to the user and may match c; a
# regex schema pattern among the latter two and every schema may have its own
# plan. The generic plan is that of a schema no literal pattern matches (".",
# which has a regex metacharacter; not information_schema, whose plan keeps
# every table anyway): for any other such schema _ft_plan finds the same
# owner rule, no _FT_KEY_PLANS key and the same table rules.
_ft_named_plans := {s: _ft_plan(c, s) | some s in named} if {
	c := _ft_catalog
	every i in _TABLE_SCAN2 {
		_ft_schema_lit(_norm_tables[i].x, c)
	}
	every n in _schema_rules {
		_ft_schema_lit(n, c)
	}
	g := _ft_plan(c, ".")
	g.m
	g.dflt == true
	count(g.drop) == 0
	named := ((object.get(_FT_NAMED_SCHEMAS, c, set()) | object.get(_FT_NAMED_SCHEMAS, null, set())) | {s |
		some i in _TABLE_SCAN2
		s := _lit_of(_norm_tables[i].x.schema)
		is_string(s)
	}) | {s | some n in _schema_rules; s := _lit_of(n.schema); is_string(s)}
}

# A rule (with catalog and schema patterns) does not match catalog c, or its
# schema pattern is a literal or absent.
_ft_schema_lit(n, c) if not regex.match(n.catalog, c)

_ft_schema_lit(n, _) if _ = _lit_of(n.schema)

# Literal catalog (null: any) → the literal schemas of the table rules filed
# under it (_TABLE_INDEX2). (A constant, folded by gatehouse at policy load.)
_FT_NAMED_SCHEMAS := {c: ss |
	some k, _ in _TABLE_INDEX2
	c := k[0]
	ss := {s | some k2, _ in _TABLE_INDEX2; k2[0] == c; s := k2[1]; is_string(s)}
}

# The catalogs and the schemas of the batch, and the indices of all its items:
# one simple pass each, which stock OPA evaluates much faster than one pass
# building [catalog, schema] pairs. The indices are those of the items in the
# first item's catalog when that is all of them (the catalogs are then not
# collected: one pass fewer).
_ft_catalogs := {c | c := input.action.filterResources[_].table.catalogName}

_ft_schemas := {s | s := input.action.filterResources[_].table.schemaName}

_ft_in_catalog := {i | input.action.filterResources[i].table.catalogName == c} if c := _ft_catalog

_ft_all_items := _ft_in_catalog if {
	_ft_all_in_catalog
} else := {i | input.action.filterResources[i]}

# The plan for one schema of a catalog: the same decisions as _table_visible.
# A function of the names only, so gatehouse remembers it per user (only used
# when the catalog is at least readable: see _ft_constant).
_ft_plan(c, s) := _FT_ALL if {
	_cat_level(c) >= 2
	_schema_owner_rule(c, s)
} else := _FT_ALL if {
	s == _INFORMATION_SCHEMA
} else := k.plan if {
	# the plan worked out at policy load, when the only subjects of the rules
	# that may match that apply to the user are those the plan was made for
	k := _FT_KEY_PLANS[[c, s]]
	_user_table_subjects & k.subjects == k.common
} else := _ft_candidates_plan(_table_rules2(c, s))

# The table rules depend on rules.json only, and most of those that may match a
# schema apply to everyone (no user, group, ... condition): so the plan of a
# user to whom none of the others applies is the same for every such user. For
# each [catalog, schema] key the rules are filed under (_TABLE_INDEX2, both
# literal): the subjects of the rules that may match it, the subject-free one
# among them (if any), and the plan from the rules of that one alone.
# (A constant, folded by gatehouse at policy load; stock OPA works it out for
# every key, once per query that needs it.)
_FT_KEY_PLANS := {k: {"subjects": subs, "common": common, "plan": plan} |
	some k, _ in _TABLE_INDEX2
	is_string(k[0])
	is_string(k[1])
	cands := _ft_rules2(k[0], k[1])
	subs := {x[1] | some x in cands}
	common := subs & {{"lit": {}, "re": set()}}
	plan := _ft_candidates_plan([x[2] | some x in cands; common[x[1]]])
}

# The table rules that may match catalog c and schema s (strings), for any
# user, in order: [index, subject, rule] (_table_rules2 before the subject check).
_ft_rules2(c, s) := sort(array.concat(filed, scanned)) if {
	filed := [[i, _TABLE_SUBJECT_OF[i], _norm_tables[i].x] |
		some k in [[c, s], [c, null], [null, s], [null, null]]
		some i in _TABLE_INDEX2[k]
	]
	scanned := [[i, _TABLE_SUBJECT_OF[i], n.x] |
		some i in _TABLE_SCAN2
		n := _norm_tables[i]
		regex.match(n.x.catalog, c)
		regex.match(n.x.schema, s)
	]
}

_FT_ALL := {"d": "all", "re": _ANY, "keep": true, "m": {}, "dflt": true, "drop": []}

_FT_NONE := {"d": "none", "re": _ANY, "keep": false, "m": {}, "dflt": false, "drop": []}

_ft_candidates_plan(cands) := plan if {
	stops := [i | some i, n in cands; n.table == _ANY]
	pre := _ft_pre(cands, stops)
	stop := _ft_stop(cands, stops)
	plan := _ft_decide(pre, stop)
}

_ft_pre(cands, stops) := array.slice(cands, 0, stops[0]) if count(stops) > 0

else := cands

_ft_stop(cands, stops) := count(cands[stops[0]].privs) > 0 if count(stops) > 0

else := false

_ft_decide(pre, stop) := _FT_ALL if {
	count(pre) == 0
	stop == true
} else := _FT_NONE if {
	count(pre) == 0
} else := _ft_check_plan([{"m": n.table, "ok": count(n.privs) > 0} | some n in pre], stop)

# Rules with table patterns before the first one without. When they all grant,
# or all deny, and the rule after them does the same, the answer is constant.
# When their patterns are literals, the plan maps each name to the first rule
# that spells it (object.union_n of the rules in reverse order: the first one
# wins), other names taking the rule after them. When they all grant, or all
# deny, and the rule after them does the opposite, a table is kept if it
# matches one of the patterns (or if it matches none): the plan's regex is
# their alternation.
_ft_check_plan(pre, stop) := _FT_ALL if {
	every x in pre {
		x.ok == stop
	}
	stop == true
} else := _FT_NONE if {
	every x in pre {
		x.ok == stop
	}
} else := object.union_n([{"d": "check", "pre": pre, "stop": stop}, _ft_re_plan(pre), _ft_map_plan(pre, stop)])

_ft_re_plan(pre) := {"re": concat("|", [x.m | some x in pre]), "keep": pre[0].ok} if {
	every x in pre {
		x.ok == pre[0].ok
	}
} else := {}

_ft_map_plan(pre, stop) := {"m": m, "dflt": stop, "drop": [t | some t, ok in m; ok == false]} if {
	every x in pre {
		is_string(_lit_of(x.m))
	}
	m := object.union_n(array.reverse([{_lit_of(x.m): x.ok} | some x in pre]))
} else := {}

_ft_table_ok(p, t) if {
	oks := [x.ok | some x in p.pre; _pm(x.m, t)]
	oks[0] == true
}

_ft_table_ok(p, t) if {
	not _ft_pre_match(p, t)
	p.stop == true
}

_ft_pre_match(p, t) if {
	some x in p.pre
	_pm(x.m, t)
}

# ---------------------------------------------------------------------------
# rowFilters: the first matching table rule's filter (rules are never merged);
# filter_environment.user becomes the expression's identity. information_schema
# has none.

default rowFilters := []

rowFilters := [{"expression": "false"}] if {
	not _exempt
	not _active
}

rowFilters := _row_filters if {
	not _exempt
	_active
}

_row_filters := [_view_expression(n.filter, n.fenv)] if {
	t := _resource.table
	t.schemaName != _INFORMATION_SCHEMA
	n := _table_rule(t.catalogName, t.schemaName, t.tableName)
	is_string(n.filter)
} else := []

# ---------------------------------------------------------------------------
# columnMask / batchColumnMasks: the mask of the column in the first matching
# table rule; mask_environment.user becomes the identity.

columnMask := {"expression": "NULL"} if {
	not _exempt
	not _active
}

columnMask := m if {
	not _exempt
	_active
	col := _resource.column
	m := _table_masks(col.catalogName, col.schemaName, col.tableName)[col.columnName]
}

default batchColumnMasks := []

batchColumnMasks := [{"index": i, "viewExpression": {"expression": "NULL"}} | some i, _ in _items] if {
	not _exempt
	not _active
}

batchColumnMasks := _batch_masks if {
	not _exempt
	_active
}

# Column name → view expression for one table, computed once per distinct table.
_table_masks(c, s, t) := {m.name: _view_expression(m.mask, m.env) | some m in n.masks} if {
	s != _INFORMATION_SCHEMA
	n := _table_rule(c, s, t)
} else := {}

# Trino sends the columns of one table: its masks are worked out once, and each
# column is then a lookup. (Several tables in one batch are handled per column.)
_batch_masks := [] if {
	# no rule masks anything
	count(_TABLE_MASKING) == 0
} else := [] if {
	_bm_single_table
	count(_bm_first_table_masks) == 0
} else := [{"index": i, "viewExpression": ve} |
	masks := _bm_first_table_masks
	ve := masks[input.action.filterResources[i].column.columnName]
] if {
	_bm_single_table
} else := [{"index": i, "viewExpression": ve} |
	some i, r in input.action.filterResources
	x := r.column
	ve := _table_masks(x.catalogName, x.schemaName, x.tableName)[x.columnName]
]

_bm_first := input.action.filterResources[0].column

_bm_first_table_masks := _table_masks(_bm_first.catalogName, _bm_first.schemaName, _bm_first.tableName)

_bm_single_table if {
	f := _bm_first
	count([i |
		x := input.action.filterResources[i].column
		[x.catalogName, x.schemaName, x.tableName] != [f.catalogName, f.schemaName, f.tableName]
	]) == 0
}
