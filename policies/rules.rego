# The access rules: policies/rules.json in the shape of Trino's file-based access
# control rules.json, loaded at the root of data (data.catalogs, data.tables, ...).
#
# Each section is normalised into a list (_norm_catalogs, _norm_tables, ...) of
# {"lit", "re", "x"}: the rule's subject conditions (below) and what the rule
# says, with patterns as full-match regexes "^(?:p)$" (Java's Matcher.matches())
# and absent ones as _ANY. A rule Trino would refuse to load (invalid regex,
# missing or invalid `allow` or `privileges`, duplicate column names, ...) becomes
# a rule that matches everything and grants nothing, so a broken rules file fails
# closed; data.trino.rules_errors lists them.
#
# The normalised lists depend on rules.json only, never on the request or the
# directory: OPA evaluates each at most once per query, and gatehouse once per
# policy load (internal/policy/fold.go folds them into constants). Per request,
# the decision walks a section's list in order and takes the first rule that
# applies to the session user and matches the resource (_cat_level,
# _table_rule, ... in access.rego), or filters it into the rules that apply
# (_catalog_rules, _table_rules, ...) for the batch and visibility checks.
package trino

# The raw sections, one per top-level key of rules.json. A ref-head rule per key,
# so tests can replace the whole rules file with `with data.trino.rules as {...}`.
# A key that is absent (or null) takes Trino's default for that section.
rules["catalogs"] := data.catalogs

rules["schemas"] := data.schemas

rules["tables"] := data.tables

rules["impersonation"] := data.impersonation

rules["system_session_properties"] := data.system_session_properties

rules["catalog_session_properties"] := data.catalog_session_properties

rules["queries"] := data.queries

rules["functions"] := data.functions

rules["procedures"] := data.procedures

rules["system_information"] := data.system_information

rules["authorization"] := data.authorization

# ---------------------------------------------------------------------------
# Effective rule lists, with Trino 476's defaults when a section is absent.

_ALL_TABLE_PRIVILEGES := ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"]

# A section that is present but not a list is a file Trino would refuse to load:
# it becomes one invalid rule, which matches everything and grants nothing.
_has(k) if rules[k] != null

_section(k, _) := rules[k] if is_array(rules[k])

_section(k, default_rules) := default_rules if not _has(k)

_section(k, _) := [null] if {
	_has(k)
	not is_array(rules[k])
}

# When `catalogs` is present Trino appends a hidden last rule giving everyone
# `all` on catalog `system`; when absent, everyone has `all` on every catalog.
_catalog_list := array.concat(rules.catalogs, [{"user": ".*", "catalog": "system", "allow": "all"}]) if {
	is_array(rules.catalogs)
} else := _section("catalogs", [{"allow": "all"}])

_schema_list := _section("schemas", [{"owner": true}])

_table_list := _section("tables", [{"privileges": _ALL_TABLE_PRIVILEGES}])

_ssp_list := _section("system_session_properties", [{"allow": true}])

_csp_list := _section("catalog_session_properties", [{"allow": true}])

# Absent `queries` allows everything, which is what one rule without queryOwner
# granting every mode does (it matches both ExecuteQuery and owner checks).
_query_list := _section("queries", [{"allow": ["execute", "view", "kill"]}])

_BUILTIN_ROUTINES := [{"catalog": "system", "schema": "builtin", "privileges": ["EXECUTE", "GRANT_EXECUTE"]}]

_function_list := _section("functions", _BUILTIN_ROUTINES)

_procedure_list := _section("procedures", _BUILTIN_ROUTINES)

_sysinfo_list := _section("system_information", [])

_authorization_list := _section("authorization", [])

# Absent `impersonation` denies. (Trino skips the check when a legacy `principals`
# section exists because it then checks principals at authentication; that check
# never reaches an OPA server, so gatehouse does not treat `principals` as allowing.)
_impersonation_list := _section("impersonation", [])

# ---------------------------------------------------------------------------
# Patterns.
#
# A pattern becomes the full-match regex "^(?:p)$" (as Java's Matcher.matches());
# an absent one, where it means "any", the regex _ANY, which every string matches.

_META := `[\\.\[\]{}()*+?^$|]`

_anchor(p) := concat("", ["^(?:", p, ")$"])

_ANY := `^(?s:.*)$`

_pat(null) := _ANY

_pat(p) := _anchor(p) if is_string(p)

# An optional pattern: absent is null (queryOwner, new_user, new_role).
_opt_pat(null) := null

_opt_pat(p) := _anchor(p) if is_string(p)

_bad_pat(p) if {
	p != null
	not is_string(p)
}

_bad_pat(p) if {
	is_string(p)
	not regex.is_valid(p)
}

_pats_bad(r, fields) if {
	some f in fields
	_bad_pat(object.get(r, f, null))
}

# _pm: a pattern's regex matches v.
_pm(m, v) if regex.match(m, v)

# _om: a pattern matches v; an absent one matches any value, even one that is
# not a string (which no regex matches).
_om(m, v) if regex.match(m, v)

_om(m, v) if {
	m == _ANY
	not is_string(v)
}

# ---------------------------------------------------------------------------
# Subjects: user, group, role (Trino) and permission, attribute (gatehouse).
#
# A rule's subject becomes {"lit": {facet: [literal]}, "re": {condition}}: the
# conditions on the session user that must all hold for the rule to apply.
# Facets: "u" (the Trino user name and the directory username), "g" (groups),
# "p" (permissions), "r" (roles), ["a", name] (the values of an attribute).
# A `user`, `group` or `permission` pattern without regex metacharacters is a
# literal, which holds when it is one of the user's values of that facet; any
# other pattern is a regex condition {"f": [facet], "r": "^(?:p)$"}, which holds
# when one of them fully matches. `role` patterns are always regex conditions
# (Trino rarely sends roles), and an `attribute` entry is one regex condition
# {"f": ["a", name], "r": "^(?:p1)$|^(?:p2)$"} on the values of that attribute.
# A rule without conditions applies to everyone; one whose subject is invalid
# (or that is not an object) applies to everyone and grants nothing.

_subject(r) := {
	"user": object.get(r, "user", null),
	"group": object.get(r, "group", null),
	"role": object.get(r, "role", null),
	"permission": object.get(r, "permission", null),
	"attribute": object.get(r, "attribute", null),
}

_subject_bad(s) if _bad_pat(s.user)

_subject_bad(s) if _bad_pat(s.group)

_subject_bad(s) if _bad_pat(s.role)

_subject_bad(s) if _bad_pat(s.permission)

_subject_bad(s) if {
	s.attribute != null
	not _attr_spec_valid(s.attribute)
}

# The conditions of subject s, or "bad".
_conds_of(s) := "bad" if {
	_subject_bad(s)
} else := {
	"lit": {f: [p] |
		some f, p in {"u": s.user, "g": s.group, "p": s.permission}
		is_string(p)
		not regex.match(_META, p)
	},
	"re": (({{"f": [f], "r": _anchor(p)} |
		some f, p in {"u": s.user, "g": s.group, "p": s.permission}
		is_string(p)
		regex.match(_META, p)
	} | _role_conds(s.role)) | _attr_conds(s.attribute)),
}

# Roles (rarely sent by Trino) are always regex conditions: only rules that name
# one look at them.
_role_conds(null) := set()

_role_conds(p) := {{"f": ["r"], "r": _anchor(p)}} if is_string(p)

_attr_conds(null) := set()

_attr_conds(a) := {{"f": ["a", name], "r": concat("|", [_anchor(p) | some p in _as_list(want)])} | some name, want in a}

_as_list(x) := x if is_array(x)

else := [x]

_attr_spec_valid(a) if {
	is_object(a)
	every v in a {
		_attr_value_valid(v)
	}
}

_attr_value_valid(v) if {
	is_string(v)
	not _bad_pat(v)
}

_attr_value_valid(v) if {
	is_array(v)
	count(v) > 0
	every x in v {
		is_string(x)
		not _bad_pat(x)
	}
}

# One normalised rule: {"lit", "re": its conditions, "x": what it says}, x being
# the section's reading of the rule (its deny form when the rule is invalid).
_norm("bad", _, deny) := {"lit": {}, "re": set(), "x": deny}

_norm(conds, x, _) := {"lit": conds.lit, "re": conds.re, "x": x} if conds != "bad"

_rule_conds(r) := "bad" if {
	not is_object(r)
} else := _conds_of(_subject(r))

# Per request: the session user's values of each facet, as arrays (a literal
# condition [l] is a subset of one when l is an element), and the regex
# conditions (of any rule) that hold for them. A rule n applies to the user when
#   object.subset(_user_facets, n.lit)
#   _re_ok(n.re)
# (the second only looks at the regex conditions when the rule has any).
_user_facets := {"u": [_user_name, _username], "g": array.concat(du.groups, input.context.identity.groups), "p": perms} if {
	# the common case, without comprehensions: a directory user, arrays everywhere
	du := _dir_user
	perms := du.permissions
	is_array(perms)
} else := {
	"u": [x | some x in [_user_name, _username]],
	"g": [g | some g in _groups],
	"p": [p | some p in _permissions],
}

_re_ok(set()) := true

_re_ok(conds) if {
	count(conds) > 0
	every c in conds {
		_cond_hit(c.f[0], c)
	}
}

# A regex condition holds: one of the user's values of its facet fully matches.
# (Memoised per condition: shared by every rule that has it.)
_cond_hit(k, c) if {
	k in {"u", "g", "p"}
	some v in _user_facets[k]
	regex.match(c.r, v)
}

_cond_hit("r", c) if {
	some v in _roles
	regex.match(c.r, v)
}

_cond_hit("a", c) if {
	some v in _attr_values(c.f[1])
	regex.match(c.r, v)
}

# ---------------------------------------------------------------------------
# The sections. For each: the checks that make a rule invalid, its reading
# (_<section>_x), the normalised list (_norm_<section>) and, per request, the
# rules that apply to the session user (_<section>_rules); for the sections on
# the hot paths also tuples for the first-match comprehensions of access.rego.

# catalogs: allow = true|false|"all"|"read-only"|"owner"|"none" (case-insensitive).

_LEVELS := {"none": 0, "read-only": 1, "all": 2, "owner": 3}

_mode_key(true) := "all"

_mode_key(false) := "none"

_mode_key(s) := lower(s) if is_string(s)

_valid_catalog_allow(v) if _LEVELS[_mode_key(v)]

_catalog_bad(r) if _pats_bad(r, ["catalog"])

_catalog_bad(r) if not _valid_catalog_allow(object.get(r, "allow", null))

_DENY_CATALOG_RULE := {"catalog": _ANY, "level": 0}

_catalog_x(r) := _DENY_CATALOG_RULE if {
	not is_object(r)
} else := _DENY_CATALOG_RULE if {
	_catalog_bad(r)
} else := {"catalog": _pat(object.get(r, "catalog", null)), "level": _LEVELS[_mode_key(r.allow)]}

_norm_catalogs := [_norm(_rule_conds(r), _catalog_x(r), _DENY_CATALOG_RULE) | some r in _catalog_list]

_catalog_rules := [n.x | f := _user_facets; some n in _norm_catalogs; object.subset(f, n.lit); _re_ok(n.re)]

# The level every user has at least on a catalog (_cat_floor), from the rules
# alone. A user's level is that of the first rule that applies to them and
# matches the catalog: any of the matching rules up to the first that applies
# to everyone (no subject conditions) may be that rule, none after it; with
# none for everyone, a user may match no rule (level 0). By literal name, and
# for every other name when all catalog patterns are literals or absent.
_cat_floor_of(ns) := min({n.x.level | some n in array.slice(ns, 0, stops[0] + 1)}) if {
	stops := [i | some i, n in ns; n.lit == {}; n.re == set()]
	count(stops) > 0
} else := min({0} | {n.x.level | some n in ns})

_CAT_FLOOR_LIT := {p: _cat_floor_of([n | some n in _norm_catalogs; regex.match(n.x.catalog, p)]) |
	some m in _norm_catalogs
	p := _lit_of(m.x.catalog)
	is_string(p)
}

_CAT_FLOOR_OTHER := _cat_floor_of([n | some n in _norm_catalogs; n.x.catalog == _ANY]) if {
	every n in _norm_catalogs {
		_ = _lit_of(n.x.catalog)
	}
}

# [catalog regex, literal and regex conditions, level] of each rule, for _cat_level.
_catalog_tuples := [[n.x.catalog, n.lit, n.re, n.x.level] | some n in _norm_catalogs]

# ---------------------------------------------------------------------------
# schemas: owner (absent = false).

_schema_bad(r) if _pats_bad(r, ["catalog", "schema"])

_schema_bad(r) if not is_boolean(object.get(r, "owner", false))

_DENY_SCHEMA_RULE := {"catalog": _ANY, "schema": _ANY, "owner": false}

_schema_x(r) := _DENY_SCHEMA_RULE if {
	not is_object(r)
} else := _DENY_SCHEMA_RULE if {
	_schema_bad(r)
} else := {
	"catalog": _pat(object.get(r, "catalog", null)),
	"schema": _pat(object.get(r, "schema", null)),
	"owner": object.get(r, "owner", false),
}

_norm_schemas := [_norm(_rule_conds(r), _schema_x(r), _DENY_SCHEMA_RULE) | some r in _schema_list]

_schema_rules := [n.x | f := _user_facets; some n in _norm_schemas; object.subset(f, n.lit); _re_ok(n.re)]

# ---------------------------------------------------------------------------
# tables: privileges (required), columns, filter, filter_environment.

_TABLE_PRIVILEGES := {p | some p in _ALL_TABLE_PRIVILEGES}

_privs_valid(ps, allowed) if {
	is_array(ps)
	every p in ps {
		is_string(p)
		upper(p) in allowed
	}
}

_table_bad(r) if _pats_bad(r, ["catalog", "schema", "table"])

_table_bad(r) if not _privs_valid(object.get(r, "privileges", null), _TABLE_PRIVILEGES)

_table_bad(r) if not _columns_valid(object.get(r, "columns", []))

_table_bad(r) if not _optional_string(object.get(r, "filter", null))

_table_bad(r) if not _environment_valid(object.get(r, "filter_environment", null))

_optional_string(null) := true

_optional_string(s) if is_string(s)

_environment_valid(null) := true

_environment_valid(e) if {
	is_object(e)
	_optional_string(object.get(e, "user", null))
}

_columns_valid(cs) if {
	is_array(cs)
	every c in cs {
		is_object(c)
		is_string(c.name)
		is_boolean(object.get(c, "allow", true))
		_optional_string(object.get(c, "mask", null))
		_environment_valid(object.get(c, "mask_environment", null))
	}

	# Trino indexes columns by name and refuses duplicates.
	count(cs) == count({c.name | some c in cs})
}

# A table rule: patterns, privileges (upper case), the columns it forbids
# (allow: false), its row filter and environment, and its column masks.
_DENY_TABLE_RULE := {
	"catalog": _ANY, "schema": _ANY, "table": _ANY, "privs": set(), "select": false,
	"restricted": set(), "filter": null, "fenv": {}, "masks": [],
}

_table_x(r) := _DENY_TABLE_RULE if {
	not is_object(r)
} else := _DENY_TABLE_RULE if {
	_table_bad(r)
} else := {
	"catalog": _pat(object.get(r, "catalog", null)),
	"schema": _pat(object.get(r, "schema", null)),
	"table": _pat(object.get(r, "table", null)),
	"privs": {upper(p) | some p in r.privileges},
	"select": count({upper(p) | some p in r.privileges} & {"SELECT", "GRANT_SELECT"}) > 0,
	"restricted": {c.name | some c in object.get(r, "columns", []); object.get(c, "allow", true) == false},
	"filter": object.get(r, "filter", null),
	"fenv": object.get(r, "filter_environment", {}),
	"masks": [{"name": c.name, "mask": c.mask, "env": object.get(c, "mask_environment", {})} |
		some c in object.get(r, "columns", [])
		is_string(object.get(c, "mask", null))
	],
}

_norm_tables := [_norm(_rule_conds(r), _table_x(r), _DENY_TABLE_RULE) | some r in _table_list]

_table_rules := [n.x | f := _user_facets; some n in _norm_tables; object.subset(f, n.lit); _re_ok(n.re)]

# Table rules indexed by name. A pattern without regex metacharacters is a
# literal: it matches the one name it spells. The rules whose patterns are all
# literals or absent are filed under those literals (null for absent), by
# catalog, schema and table (_TABLE_INDEX3), by catalog and schema
# (_TABLE_INDEX2) and by catalog (_TABLE_INDEX1); the others are scanned. The
# rules that may match a name are then those filed under one of the few keys it
# can match plus the scanned ones, in rules.json order: with hundreds of table
# rules, a lookup costs a handful of rules instead of all of them. The index
# depends on rules.json only (folded once per policy load in gatehouse).

# The literal of a normalised pattern: null for "any", the name for a literal;
# undefined for a regex.
_lit_of(m) := null if m == _ANY

_lit_of(m) := p if {
	m != _ANY
	p := substring(m, 4, count(m) - 6) # "^(?:" p ")$"
	not regex.match(_META, p)
}

# [key, rule index] of the rules filed at each level.
_TABLE_KEYED3 := [[k, i] |
	some i, n in _norm_tables
	k := [_lit_of(n.x.catalog), _lit_of(n.x.schema), _lit_of(n.x.table)]
]

_TABLE_KEYED2 := [[k, i] |
	some i, n in _norm_tables
	k := [_lit_of(n.x.catalog), _lit_of(n.x.schema)]
]

_TABLE_KEYED1 := [[k, i] |
	some i, n in _norm_tables
	k := [_lit_of(n.x.catalog)]
]

# key → rule indices, in order. OPA indexes the inner comprehensions on k
# (a reference iterated with == k), so each index is built in one pass.
_TABLE_INDEX3 := {k: ids | some p in _TABLE_KEYED3; k := p[0]; ids := [i | _TABLE_KEYED3[j][0] == k; i := _TABLE_KEYED3[j][1]]}

_TABLE_INDEX2 := {k: ids | some p in _TABLE_KEYED2; k := p[0]; ids := [i | _TABLE_KEYED2[j][0] == k; i := _TABLE_KEYED2[j][1]]}

_TABLE_INDEX1 := {k: ids | some p in _TABLE_KEYED1; k := p[0]; ids := [i | _TABLE_KEYED1[j][0] == k; i := _TABLE_KEYED1[j][1]]}

_TABLE_SCAN3 := [i | some i, n in _norm_tables; not _all_literal([n.x.catalog, n.x.schema, n.x.table])]

_TABLE_SCAN2 := [i | some i, n in _norm_tables; not _all_literal([n.x.catalog, n.x.schema])]

_TABLE_SCAN1 := [i | some i, n in _norm_tables; not _all_literal([n.x.catalog])]

# Table rules by subject. A long file has few distinct subjects (most rules
# none, or one group each): what a user may see and which rule applies first
# are worked out from the subjects that apply to the user, not from every rule.
_TABLE_SUBJECT_OF := [{"lit": n.lit, "re": n.re} | some n in _norm_tables]

_TABLE_SUBJECTS := {s | some s in _TABLE_SUBJECT_OF}

# Per subject (OPA indexes the inner comprehensions on s): the catalog and the
# [catalog, schema] patterns of its rules that grant a privilege, and the
# index of its first rule.
_TABLE_GRANT_CATALOGS := {s: cs |
	some s in _TABLE_SUBJECTS
	cs := {_norm_tables[i].x.catalog | _TABLE_SUBJECT_OF[i] == s; count(_norm_tables[i].x.privs) > 0}
}

_TABLE_GRANT_SCHEMAS := {s: ps |
	some s in _TABLE_SUBJECTS
	ps := {[_norm_tables[i].x.catalog, _norm_tables[i].x.schema] | _TABLE_SUBJECT_OF[i] == s; count(_norm_tables[i].x.privs) > 0}
}

_TABLE_FIRST := {s: min(is) | some s in _TABLE_SUBJECTS; is := [i | _TABLE_SUBJECT_OF[i] == s]}

# The subjects of table rules that apply to the session user.
# Looked up by the user's values rather than checking every subject: a
# subject with literal conditions is filed under one of them ([facet, value])
# and checked in full only when the user has that value.
_user_table_subjects := {s |
	f := _user_facets
	some k, vs in f
	some v in vs
	some s in _TABLE_SUBJECTS_BY_LIT[[k, v]]
	object.subset(f, s.lit)
	_re_ok(s.re)
} | {s | some s in _TABLE_SUBJECTS_NO_LIT; _re_ok(s.re)}

# The subjects with literal conditions by the first of them, and the others.
_TABLE_SUBJECTS_BY_LIT := {k: ss |
	some s in _TABLE_SUBJECTS
	k := _first_lit(s.lit)
	ss := {x | some x in _TABLE_SUBJECTS; _first_lit(x.lit) == k}
}

_TABLE_SUBJECTS_NO_LIT := {s | some s in _TABLE_SUBJECTS; count(s.lit) == 0}

_first_lit(lit) := [k, lit[k][0]] if k := min(object.keys(lit))

# The first table rule that applies to the session user (undefined if none).
_first_table_rule := _norm_tables[min({_TABLE_FIRST[s] | some s in _user_table_subjects})].x

# The first rule of each subject among the rules filed under each catalog key
# (object.union_n of the rules in reverse order: the first one wins).
_TABLE_FIRST1 := {k: object.union_n(array.reverse([{_TABLE_SUBJECT_OF[i]: i} | some i in ids])) | some k, ids in _TABLE_INDEX1}

# The first table rule that applies to the user among those that may match
# catalog c (undefined if none): from the user's subjects, not every rule.
_first_table_rule1(c) := _norm_tables[min(firsts)].x if {
	firsts := {i | some k in [[c], [null]]; some s in _user_table_subjects; i := _TABLE_FIRST1[k][s]} | {i |
		some i in _TABLE_SCAN1
		regex.match(_norm_tables[i].x.catalog, c)
		_user_table_subjects[_TABLE_SUBJECT_OF[i]]
	}
	count(firsts) > 0
}

# The table rules that mask columns.
_TABLE_MASKING := [i | some i, n in _norm_tables; count(n.x.masks) > 0]

# Every pattern is a literal or absent.
_all_literal(ms) if {
	every m in ms {
		_ = _lit_of(m)
	}
}

# The table rules that may match names the rules alone decide, worked out
# from the rules: [rule index, literal and regex conditions] of each, in order.
# For the names of each key of literals (catalog, schema and table): the
# rules filed under it or under one of its keys with nulls, and the scanned
# rules whose patterns match them.
_TABLE_CANDS3 := {k: _table_cands(ids) |
	some k, _ in _TABLE_INDEX3
	[c, s, t] := k
	is_string(c)
	is_string(s)
	is_string(t)
	filed := {i |
		some kk in [[c, s, t], [c, s, null], [c, null, t], [c, null, null], [null, s, t], [null, s, null], [null, null, t], [null, null, null]]
		some i in _TABLE_INDEX3[kk]
	}
	scanned := {i |
		some i in _TABLE_SCAN3
		n := _norm_tables[i]
		regex.match(n.x.catalog, c)
		regex.match(n.x.schema, s)
		regex.match(n.x.table, t)
	}
	ids := filed | scanned
}

# For names that none of the literal patterns spells, when no rule is scanned:
# the rules without patterns.
_TABLE_CANDS_NONE := _table_cands({i | some i in object.get(_TABLE_INDEX3, [[null, null, null]], [])}) if count(_TABLE_SCAN3) == 0

_table_cands(ids) := [[i, _norm_tables[i].lit, _norm_tables[i].re] | some i in sort(ids)]

# What SelectFromColumns needs of the first table rule that applies ("select",
# "restricted"), when it is the same whoever the user is: the candidates up to
# the first that applies to everyone (one of which is the first that applies
# to the user) all say the same. By key as _TABLE_CANDS3, and for names no
# literal spells as _TABLE_CANDS_NONE.
_TABLE_SELECT3 := {k: x | some k, cands in _TABLE_CANDS3; x := _same_select(cands)}

_TABLE_SELECT_NONE := _same_select(_TABLE_CANDS_NONE)

_same_select(cands) := x if {
	stops := [j | some j, cand in cands; count(cand[1]) == 0; count(cand[2]) == 0]
	count(stops) > 0
	xs := {{"select": n.x.select, "restricted": n.x.restricted} |
		some cand in array.slice(cands, 0, stops[0] + 1)
		n := _norm_tables[cand[0]]
	}
	count(xs) == 1
	some x in xs
}

# The literal catalogs, schemas and tables of the keys (and null).
_TABLE_LITS := [{k[0] | some k, _ in _TABLE_INDEX3}, {k[1] | some k, _ in _TABLE_INDEX3}, {k[2] | some k, _ in _TABLE_INDEX3}]

# The table rules that apply to the user and match catalog c, schema s and
# table t (strings), in order. Filed rules match by their key; scanned ones are
# matched pattern by pattern.
_table_rules3(c, s, t) := [_norm_tables[i].x | some [i, lit, re] in cands; object.subset(f, lit); _re_ok(re)] if {
	# names that spell the key of rules whose patterns are all literals
	cands := _TABLE_CANDS3[[c, s, t]]
	f := _user_facets
} else := [_norm_tables[i].x | some [i, lit, re] in cands; object.subset(f, lit); _re_ok(re)] if {
	# names that no literal pattern spells
	not _TABLE_LITS[0][c]
	not _TABLE_LITS[1][s]
	not _TABLE_LITS[2][t]
	cands := _TABLE_CANDS_NONE
	f := _user_facets
} else := [p[1] | some p in sort(array.concat(filed, scanned))] if {
	f := _user_facets
	filed := [[i, n.x] |
		some k in [[c, s, t], [c, s, null], [c, null, t], [c, null, null], [null, s, t], [null, s, null], [null, null, t], [null, null, null]]
		some i in _TABLE_INDEX3[k]
		n := _norm_tables[i]
		object.subset(f, n.lit)
		_re_ok(n.re)
	]
	scanned := [[i, n.x] |
		some i in _TABLE_SCAN3
		n := _norm_tables[i]
		regex.match(n.x.catalog, c)
		regex.match(n.x.schema, s)
		regex.match(n.x.table, t)
		object.subset(f, n.lit)
		_re_ok(n.re)
	]
}

# The same for catalog c and schema s (any table). A schema has many rules,
# so the subject check is a lookup in the user's applicable subjects (worked
# out once per user) rather than two checks per rule.
_table_rules2(c, s) := [p[1] | some p in sort(array.concat(filed, scanned))] if {
	filed := [[i, n.x] |
		some k in [[c, s], [c, null], [null, s], [null, null]]
		some i in _TABLE_INDEX2[k]
		n := _norm_tables[i]
		_user_table_subjects[_TABLE_SUBJECT_OF[i]]
	]
	scanned := [[i, n.x] |
		some i in _TABLE_SCAN2
		n := _norm_tables[i]
		regex.match(n.x.catalog, c)
		regex.match(n.x.schema, s)
		_user_table_subjects[_TABLE_SUBJECT_OF[i]]
	]
}

# ---------------------------------------------------------------------------
# system_session_properties / catalog_session_properties: allow (absent = false).

_prop_bad(r, fields) if _pats_bad(r, fields)

_prop_bad(r, _) if not is_boolean(object.get(r, "allow", false))

_DENY_SSP_RULE := {"property": _ANY, "allow": false}

_ssp_x(r) := _DENY_SSP_RULE if {
	not is_object(r)
} else := _DENY_SSP_RULE if {
	_prop_bad(r, ["property"])
} else := {
	"property": _pat(object.get(r, "property", null)),
	"allow": object.get(r, "allow", false),
}

_norm_ssp := [_norm(_rule_conds(r), _ssp_x(r), _DENY_SSP_RULE) | some r in _ssp_list]

_ssp_rules := [n.x | f := _user_facets; some n in _norm_ssp; object.subset(f, n.lit); _re_ok(n.re)]

_DENY_CSP_RULE := {"catalog": _ANY, "property": _ANY, "allow": false}

_csp_x(r) := _DENY_CSP_RULE if {
	not is_object(r)
} else := _DENY_CSP_RULE if {
	_prop_bad(r, ["catalog", "property"])
} else := {
	"catalog": _pat(object.get(r, "catalog", null)),
	"property": _pat(object.get(r, "property", null)),
	"allow": object.get(r, "allow", false),
}

_norm_csp := [_norm(_rule_conds(r), _csp_x(r), _DENY_CSP_RULE) | some r in _csp_list]

_csp_rules := [n.x | f := _user_facets; some n in _norm_csp; object.subset(f, n.lit); _re_ok(n.re)]

# ---------------------------------------------------------------------------
# queries: allow ⊆ {execute, view, kill} (required), queryOwner.

_QUERY_MODES := {"execute", "view", "kill"}

_modes_valid(ms, allowed) if {
	is_array(ms)
	every m in ms {
		is_string(m)
		lower(m) in allowed
	}
}

_query_bad(r) if _pats_bad(r, ["queryOwner"])

_query_bad(r) if not _modes_valid(object.get(r, "allow", null), _QUERY_MODES)

# Trino refuses a rule that combines queryOwner with execute.
_query_bad(r) if {
	object.get(r, "queryOwner", null) != null
	some m in r.allow
	lower(m) == "execute"
}

_DENY_QUERY_RULE := {"owner": null, "modes": set()}

_query_x(r) := _DENY_QUERY_RULE if {
	not is_object(r)
} else := _DENY_QUERY_RULE if {
	_query_bad(r)
} else := {
	"owner": _opt_pat(object.get(r, "queryOwner", null)),
	"modes": {lower(m) | some m in r.allow},
}

_norm_queries := [_norm(_rule_conds(r), _query_x(r), _DENY_QUERY_RULE) | some r in _query_list]

_query_rules := [n.x | f := _user_facets; some n in _norm_queries; object.subset(f, n.lit); _re_ok(n.re)]

# Whether each mode is allowed, for the checks without a query owner, when
# every user gets the same answer: the rules without queryOwner up to the
# first that applies to everyone (one of which is the first that applies to
# the user) all allow the mode, or none does.
_QUERY_NULL_CONST := {mode: ok |
	some mode in _QUERY_MODES
	ts := [t | some t in _query_tuples; t[0] == null]
	stops := [i | some i, t in ts; t[1] == {}; t[2] == set()]
	count(stops) > 0
	ok := _query_mode_in(mode, ts[stops[0]])
	every t in array.slice(ts, 0, stops[0]) {
		_query_mode_in(mode, t) == ok
	}
}

_query_mode_in(mode, t) := mode in t[3]

# [queryOwner regex or null, literal and regex conditions, modes] of each rule.
_query_tuples := [[n.x.owner, n.lit, n.re, n.x.modes] | some n in _norm_queries]

# ---------------------------------------------------------------------------
# system_information: allow ⊆ {read, write} (required).

_SYSINFO_MODES := {"read", "write"}

_sysinfo_bad(r) if not _modes_valid(object.get(r, "allow", null), _SYSINFO_MODES)

_DENY_SYSINFO_RULE := {"modes": set()}

_sysinfo_x(r) := _DENY_SYSINFO_RULE if {
	not is_object(r)
} else := _DENY_SYSINFO_RULE if {
	_sysinfo_bad(r)
} else := {"modes": {lower(m) | some m in r.allow}}

_norm_sysinfo := [_norm(_rule_conds(r), _sysinfo_x(r), _DENY_SYSINFO_RULE) | some r in _sysinfo_list]

_sysinfo_rules := [n.x | f := _user_facets; some n in _norm_sysinfo; object.subset(f, n.lit); _re_ok(n.re)]

# ---------------------------------------------------------------------------
# functions / procedures: privileges (required).

_FUNCTION_PRIVILEGES := {"EXECUTE", "GRANT_EXECUTE", "OWNERSHIP"}

_PROCEDURE_PRIVILEGES := {"EXECUTE", "GRANT_EXECUTE"}

_function_bad(r) if _pats_bad(r, ["catalog", "schema", "function"])

_function_bad(r) if not _privs_valid(object.get(r, "privileges", null), _FUNCTION_PRIVILEGES)

# Trino no longer supports function_kinds and refuses a non-empty one.
_function_bad(r) if count(object.get(r, "function_kinds", [])) > 0

_function_bad(r) if count(object.get(r, "functionKinds", [])) > 0

_DENY_ROUTINE_RULE := {"catalog": _ANY, "schema": _ANY, "routine": _ANY, "privs": set()}

_function_x(r) := _DENY_ROUTINE_RULE if {
	not is_object(r)
} else := _DENY_ROUTINE_RULE if {
	_function_bad(r)
} else := {
	"catalog": _pat(object.get(r, "catalog", null)),
	"schema": _pat(object.get(r, "schema", null)),
	"routine": _pat(object.get(r, "function", null)),
	"privs": {upper(p) | some p in r.privileges},
}

_norm_functions := [_norm(_rule_conds(r), _function_x(r), _DENY_ROUTINE_RULE) | some r in _function_list]

_function_rules := [n.x | f := _user_facets; some n in _norm_functions; object.subset(f, n.lit); _re_ok(n.re)]

_procedure_bad(r) if _pats_bad(r, ["catalog", "schema", "procedure"])

_procedure_bad(r) if not _privs_valid(object.get(r, "privileges", null), _PROCEDURE_PRIVILEGES)

_procedure_x(r) := _DENY_ROUTINE_RULE if {
	not is_object(r)
} else := _DENY_ROUTINE_RULE if {
	_procedure_bad(r)
} else := {
	"catalog": _pat(object.get(r, "catalog", null)),
	"schema": _pat(object.get(r, "schema", null)),
	"routine": _pat(object.get(r, "procedure", null)),
	"privs": {upper(p) | some p in r.privileges},
}

_norm_procedures := [_norm(_rule_conds(r), _procedure_x(r), _DENY_ROUTINE_RULE) | some r in _procedure_list]

_procedure_rules := [n.x | f := _user_facets; some n in _norm_procedures; object.subset(f, n.lit); _re_ok(n.re)]

# ---------------------------------------------------------------------------
# authorization: original_user / original_group / original_role, new_user /
# new_role (at least one required), allow (absent = true).

_authorization_subject(r) := {
	"user": object.get(r, "original_user", null),
	"group": object.get(r, "original_group", null),
	"role": object.get(r, "original_role", null),
	"permission": object.get(r, "permission", null),
	"attribute": object.get(r, "attribute", null),
}

_authorization_conds(r) := "bad" if {
	not is_object(r)
} else := _conds_of(_authorization_subject(r))

_authorization_bad(r) if _pats_bad(r, ["new_user", "new_role"])

_authorization_bad(r) if {
	object.get(r, "new_user", null) == null
	object.get(r, "new_role", null) == null
}

_authorization_bad(r) if not is_boolean(object.get(r, "allow", true))

_DENY_AUTHORIZATION_RULE := {"new_user": null, "new_role": null, "any_target": true, "allow": false}

_authorization_x(r) := _DENY_AUTHORIZATION_RULE if {
	not is_object(r)
} else := _DENY_AUTHORIZATION_RULE if {
	_authorization_bad(r)
} else := {
	"new_user": _opt_pat(object.get(r, "new_user", null)),
	"new_role": _opt_pat(object.get(r, "new_role", null)),
	"any_target": false,
	"allow": object.get(r, "allow", true),
}

_norm_authorization := [_norm(_authorization_conds(r), _authorization_x(r), _DENY_AUTHORIZATION_RULE) |
	some r in _authorization_list
]

_authorization_rules := [n.x | f := _user_facets; some n in _norm_authorization; object.subset(f, n.lit); _re_ok(n.re)]

# ---------------------------------------------------------------------------
# impersonation: original_user (with capturing groups), original_role, new_user
# (required; $N references), allow (absent = true). The subject covers the
# impersonator's original_role and gatehouse's permission / attribute;
# original_user is matched in impersonation.rego for its capturing groups.

_impersonation_subject(r) := {
	"user": null,
	"group": null,
	"role": object.get(r, "original_role", null),
	"permission": object.get(r, "permission", null),
	"attribute": object.get(r, "attribute", null),
}

_impersonation_conds(r) := "bad" if {
	not is_object(r)
} else := _conds_of(_impersonation_subject(r))

_impersonation_bad(r) if _pats_bad(r, ["original_user", "new_user"])

_impersonation_bad(r) if not is_string(object.get(r, "new_user", null))

_impersonation_bad(r) if not is_boolean(object.get(r, "allow", true))

_DENY_IMPERSONATION_RULE := {"original_user": null, "new_user": null, "allow": false}

_impersonation_x(r) := _DENY_IMPERSONATION_RULE if {
	not is_object(r)
} else := _DENY_IMPERSONATION_RULE if {
	_impersonation_bad(r)
} else := {
	"original_user": object.get(r, "original_user", null),
	"new_user": r.new_user,
	"allow": object.get(r, "allow", true),
}

_norm_impersonation := [_norm(_impersonation_conds(r), _impersonation_x(r), _DENY_IMPERSONATION_RULE) |
	some r in _impersonation_list
]

_impersonation_rules := [n.x | f := _user_facets; some n in _norm_impersonation; object.subset(f, n.lit); _re_ok(n.re)]

# ---------------------------------------------------------------------------
# Diagnostics: rules Trino would refuse to load (whoever they are for). Gatehouse
# treats each as a rule that matches everything and grants nothing; a loader, CI
# or `opa eval data.trino.rules_errors` can list them.

rules_errors contains msg if {
	some i, r in _array_or_empty(rules.catalogs)
	_rule_invalid("catalogs", r)
	msg := sprintf("catalogs[%d]: invalid rule %v", [i, r])
}

rules_errors contains msg if {
	some section in [
		"schemas", "tables", "system_session_properties", "catalog_session_properties", "queries",
		"system_information", "functions", "procedures", "authorization", "impersonation",
	]
	some i, r in _array_or_empty(rules[section])
	_rule_invalid(section, r)
	msg := sprintf("%s[%d]: invalid rule %v", [section, i, r])
}

rules_errors contains msg if {
	some key, v in rules
	v != null
	not is_array(v)
	msg := sprintf("%s: must be a list of rules", [key])
}

_array_or_empty(x) := x if is_array(x)

else := []

_rule_invalid(_, r) if not is_object(r)

_rule_invalid(section, r) if {
	is_object(r)
	not section in {"authorization", "impersonation"}
	_subject_bad(_subject(r))
}

_rule_invalid("authorization", r) if {
	is_object(r)
	_subject_bad(_authorization_subject(r))
}

_rule_invalid("impersonation", r) if {
	is_object(r)
	_subject_bad(_impersonation_subject(r))
}

_rule_invalid("catalogs", r) if _catalog_bad(r)

_rule_invalid("schemas", r) if _schema_bad(r)

_rule_invalid("tables", r) if _table_bad(r)

_rule_invalid("system_session_properties", r) if _prop_bad(r, ["property"])

_rule_invalid("catalog_session_properties", r) if _prop_bad(r, ["catalog", "property"])

_rule_invalid("queries", r) if _query_bad(r)

_rule_invalid("system_information", r) if _sysinfo_bad(r)

_rule_invalid("functions", r) if _function_bad(r)

_rule_invalid("procedures", r) if _procedure_bad(r)

_rule_invalid("authorization", r) if _authorization_bad(r)

_rule_invalid("impersonation", r) if _impersonation_bad(r)
