# Trino 476 file-based access control semantics over the normalised, subject-
# filtered rule lists of rules.rego. First match wins everywhere: the first rule
# whose patterns match decides, even when it grants nothing.
package trino

_INFORMATION_SCHEMA := "information_schema"

# ---------------------------------------------------------------------------
# Catalog access: 0 none, 1 read-only, 2 all, 3 owner; no matching rule = none.
# owner implies all implies read-only.

_cat_level(c) := ls[0] if {
	# (a catalog name that is not a string matches no regex: the last case)
	f := _user_facets
	ls := [level | some [m, lit, re, level] in _catalog_tuples; regex.match(m, c); object.subset(f, lit); _re_ok(re)]
} else := ls[0] if {
	not is_string(c)
	ls := [n.level | some n in _catalog_rules; _om(n.catalog, c)]
} else := 0

# _cat_level(c) >= n, without looking at the user when every user has at least
# level n on catalog c (_cat_floor: worked out from the rules alone).
_cat_at_least(c, n) if {
	_cat_floor(c) >= n
} else := _cat_level(c) >= n

# The level every user has at least on catalog c, when it is known from the rules
# alone: for a name spelled by a catalog rule, or any other name when every
# catalog pattern is a literal or absent (undefined otherwise).
_cat_floor(c) := l if {
	l := _CAT_FLOOR_LIT[c]
} else := _CAT_FLOOR_OTHER if {
	is_string(c)
}

# Catalog access a table privilege needs: read-only for SELECT / GRANT_SELECT, else all.
_priv_level(p) := 1 if p in {"SELECT", "GRANT_SELECT"}

else := 2

# ---------------------------------------------------------------------------
# Schemas.

_schema_owner(c, s) if {
	_cat_at_least(c, 2)
	_schema_owner_rule(c, s)
}

_schema_owner_rule(c, s) if {
	os := [n.owner | some n in _schema_rules; _om(n.catalog, c); _om(n.schema, s)]
	os[0] == true
}

# ---------------------------------------------------------------------------
# Tables: the first matching rule (undefined when none matches).

_table_rule(c, s, t) := ns[0] if {
	is_string(c)
	is_string(s)
	is_string(t)
	ns := _table_rules3(c, s, t)
} else := ns[0] if {
	# names that are not strings: none matches a pattern, any matches an absent one
	not _all_strings([c, s, t])
	ns := [n | some n in _table_rules; _om(n.catalog, c); _om(n.schema, s); _om(n.table, t)]
}

_all_strings(xs) if {
	every x in xs {
		is_string(x)
	}
}

_table_perm(c, s, _, p) if {
	_cat_at_least(c, _priv_level(p))
	s == _INFORMATION_SCHEMA
}

_table_perm(c, s, t, p) if {
	_cat_at_least(c, _priv_level(p))
	s != _INFORMATION_SCHEMA
	p in _table_rule(c, s, t).privs
}

_any_table_perm(c, s, _) if {
	_cat_at_least(c, 1)
	s == _INFORMATION_SCHEMA
}

_any_table_perm(c, s, t) if {
	_cat_at_least(c, 1)
	s != _INFORMATION_SCHEMA
	count(_table_rule(c, s, t).privs) > 0
}

# The rule grants SELECT or GRANT_SELECT and allows every column selected.
_can_select(n, columns) if {
	n.select == true
	_columns_allowed(n.restricted, columns)
}

_columns_allowed(set(), _) := true

_columns_allowed(restricted, columns) if {
	count(restricted) > 0
	every col in columns {
		not col in restricted
	}
}

_select_columns(c, "information_schema", _, _) if _cat_at_least(c, 1)

_select_columns(c, s, t, columns) if {
	s != "information_schema"
	_cat_at_least(c, 1)
	n := _select_rule(c, s, t)
	n.select == true
	_columns_allowed(n.restricted, columns)
}

# What _select_columns needs of _table_rule(c, s, t), without looking at the
# user when the rules alone decide it (_TABLE_SELECT3, _TABLE_SELECT_NONE: the
# same candidates as _table_rules3).
_select_rule(c, s, t) := x if {
	x := _TABLE_SELECT3[[c, s, t]]
} else := x if {
	is_string(c)
	is_string(s)
	is_string(t)
	not _TABLE_LITS[0][c]
	not _TABLE_LITS[1][s]
	not _TABLE_LITS[2][t]
	x := _TABLE_SELECT_NONE
} else := _table_rule(c, s, t)

_create_view_select(c, s, _, _) if {
	_cat_at_least(c, 2)
	s == _INFORMATION_SCHEMA
}

_create_view_select(c, s, t, columns) if {
	_cat_at_least(c, 2)
	s != _INFORMATION_SCHEMA
	n := _table_rule(c, s, t)
	_can_select(n, columns)
	"GRANT_SELECT" in n.privs
}

# FilterColumns for one table: the indices of `columns` the user may see.
_visible_column_indices(c, s, t, columns) := set() if {
	not _any_table_perm(c, s, t)
} else := {i | some i, _ in columns} if {
	s == _INFORMATION_SCHEMA
} else := {i | some i, _ in columns} if {
	# privileges other than SELECT / GRANT_SELECT show every column
	n := _table_rule(c, s, t)
	count(n.privs - {"SELECT", "GRANT_SELECT"}) > 0
} else := {i | some i, col in columns; not col in r} if {
	r := _table_rule(c, s, t).restricted
}

# ---------------------------------------------------------------------------
# Visibility (ShowSchemas, ShowTables, ShowFunctions, FilterCatalogs, FilterSchemas):
# could *any* rule grant the user something here? Built, like Trino, from every
# schema rule with owner, table / function / procedure rule with privileges and
# (for catalogs) catalog session property rule with allow — not only first matches.

_visible_catalog_matchers := (({n.catalog | some n in _schema_rules; n.owner == true} | union({_TABLE_GRANT_CATALOGS[s] | some s in _user_table_subjects})) | ({n.catalog | some n in _csp_rules; n.allow == true} | {n.catalog | some n in _function_rules; count(n.privs) > 0})) | {n.catalog | some n in _procedure_rules; count(n.privs) > 0}

_visible_schema_matchers := (({[n.catalog, n.schema] | some n in _schema_rules; n.owner == true} | union({_TABLE_GRANT_SCHEMAS[s] | some s in _user_table_subjects})) | {[n.catalog, n.schema] | some n in _function_rules; count(n.privs) > 0}) | {[n.catalog, n.schema] | some n in _procedure_rules; count(n.privs) > 0}

# (First from the rules that apply to everyone, worked out from the rules alone:
# a literal pattern is a lookup. Then from the rules that apply to the user.)
_catalog_visible(c) if {
	_cat_at_least(c, 1)
	_everyone_sees_catalog(c)
} else if {
	_cat_at_least(c, 3)
} else if {
	_cat_at_least(c, 1)
	some m in _visible_catalog_matchers
	_om(m, c)
}

_everyone_sees_catalog(c) if {
	_VISIBLE_CATALOGS_ALL_LIT[c]
} else if {
	some m in _VISIBLE_CATALOGS_ALL_RE
	_om(m, c)
}

_schema_visible(c, s) if {
	_cat_at_least(c, 1)
	_everyone_sees_schema(c, s)
} else if {
	_cat_at_least(c, 1)
	some p in _visible_schema_matchers
	_om(p[0], c)
	_om(p[1], s)
}

_everyone_sees_schema(c, s) if {
	_VISIBLE_SCHEMAS_ALL_LIT[[c, s]]
} else if {
	some p in _VISIBLE_SCHEMAS_ALL_RE
	_om(p[0], c)
	_om(p[1], s)
}

# The catalog and [catalog, schema] patterns of _visible_*_matchers from the
# rules without subject conditions, literal ones as names.
_uncond(n) if {
	count(n.lit) == 0
	count(n.re) == 0
}

_VISIBLE_CATALOGS_ALL := (({n.x.catalog | some n in _norm_schemas; _uncond(n); n.x.owner == true} | {n.x.catalog | some n in _norm_tables; _uncond(n); count(n.x.privs) > 0}) | ({n.x.catalog | some n in _norm_csp; _uncond(n); n.x.allow == true} | {n.x.catalog | some n in _norm_functions; _uncond(n); count(n.x.privs) > 0})) | {n.x.catalog | some n in _norm_procedures; _uncond(n); count(n.x.privs) > 0}

_VISIBLE_SCHEMAS_ALL := (({[n.x.catalog, n.x.schema] | some n in _norm_schemas; _uncond(n); n.x.owner == true} | {[n.x.catalog, n.x.schema] | some n in _norm_tables; _uncond(n); count(n.x.privs) > 0}) | {[n.x.catalog, n.x.schema] | some n in _norm_functions; _uncond(n); count(n.x.privs) > 0}) | {[n.x.catalog, n.x.schema] | some n in _norm_procedures; _uncond(n); count(n.x.privs) > 0}

_VISIBLE_CATALOGS_ALL_LIT := {p | some m in _VISIBLE_CATALOGS_ALL; p := _lit_of(m); is_string(p)}

_VISIBLE_CATALOGS_ALL_RE := {m | some m in _VISIBLE_CATALOGS_ALL; not is_string(_lit_of(m))}

_VISIBLE_SCHEMAS_ALL_LIT := {[a, b] | some [m1, m2] in _VISIBLE_SCHEMAS_ALL; a := _lit_of(m1); b := _lit_of(m2); is_string(a); is_string(b)}

_VISIBLE_SCHEMAS_ALL_RE := {p | some p in _VISIBLE_SCHEMAS_ALL; not _both_lit(p)}

_both_lit([m1, m2]) if {
	is_string(_lit_of(m1))
	is_string(_lit_of(m2))
}

# ---------------------------------------------------------------------------
# Session properties.

_system_property(p) if {
	allows := [n.allow | some n in _ssp_rules; _om(n.property, p)]
	allows[0] == true
}

_catalog_property(c, p) if {
	_cat_at_least(c, 1)
	allows := [n.allow | some n in _csp_rules; _om(n.catalog, c); _om(n.property, p)]
	allows[0] == true
}

# ---------------------------------------------------------------------------
# Queries. A rule without queryOwner matches both ExecuteQuery (no owner) and the
# owner checks; a rule with queryOwner matches only owner checks.

_query_access(mode, null) := x if {
	# ExecuteQuery: only rules without queryOwner match; the same answer for
	# every user when the rules alone decide it (_QUERY_NULL_CONST)
	x := _QUERY_NULL_CONST[mode]
} else := x if {
	f := _user_facets
	ms := [m | some [owner, lit, re, m] in _query_tuples; owner == null; object.subset(f, lit); _re_ok(re)]
	x := mode in ms[0]
}

_query_access(mode, owner) if {
	owner != null
	ms := [n.modes | some n in _query_rules; _query_owner_ok(n.owner, owner)]
	mode in ms[0]
}

_query_owner_ok(null, _) := true

_query_owner_ok(m, owner) if {
	owner != null
	_pm(m, owner)
}

# ---------------------------------------------------------------------------
# System information.

_system_information(mode) if {
	ms := [n.modes | some n in _sysinfo_rules]
	mode in ms[0]
}

# ---------------------------------------------------------------------------
# Functions and procedures.

_function_rule(c, s, f) := ns[0] if {
	ns := [n | some n in _function_rules; _om(n.catalog, c); _om(n.schema, s); _om(n.routine, f)]
}

_can_execute(n) if "EXECUTE" in n.privs

_can_execute(n) if "GRANT_EXECUTE" in n.privs

_function_execute(c, s, f) if {
	_cat_at_least(c, 1)
	_can_execute(_function_rule(c, s, f))
}

_function_grant_execute(c, s, f) if {
	_cat_at_least(c, 1)
	"GRANT_EXECUTE" in _function_rule(c, s, f).privs
}

_function_owner(c, s, f) if {
	_cat_at_least(c, 1)
	"OWNERSHIP" in _function_rule(c, s, f).privs
}

_procedure_execute(c, s, p) if {
	_cat_at_least(c, 1)
	ns := [n | some n in _procedure_rules; _om(n.catalog, c); _om(n.schema, s); _om(n.routine, p)]
	_can_execute(ns[0])
}

# ---------------------------------------------------------------------------
# Authorization (SET ... AUTHORIZATION): may the user hand ownership to grantee?
# grantee is {"name", "type": "USER" | "ROLE"}. No rule (or no section) denies.

_authorization(g) if {
	allows := [n.allow | some n in _authorization_rules; _authorization_target(n, g)]
	allows[0] == true
}

_authorization_target(n, _) if n.any_target == true

_authorization_target(n, g) if {
	upper(g.type) == "USER"
	n.new_user != null
	_pm(n.new_user, g.name)
}

_authorization_target(n, g) if {
	upper(g.type) == "ROLE"
	n.new_role != null
	_pm(n.new_role, g.name)
}
