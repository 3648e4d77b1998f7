# The access rules: policies/rules.json in the shape of Trino's file-based access
# control rules.json, loaded at the root of data (data.catalogs, data.tables, ...).
#
# Each section is turned once per request into the ordered list of the rules that
# apply to the session user:
#   - a rule whose subject conditions (user, group, role and gatehouse's permission /
#     attribute) do not all hold for the user is dropped, without looking further;
#   - in the others, patterns become {"l": literal} (compared with ==) or
#     {"r": "^(?:p)$"} (a full-match regex, as Java's Matcher.matches()); absent
#     ones are null;
#   - a rule Trino would refuse to load (invalid regex, missing or invalid `allow`
#     or `privileges`, duplicate column names, ...) becomes a rule that matches
#     everything and grants nothing, so a broken rules file fails closed;
#     data.trino.rules_errors lists them.
# Per-item code then only tests catalog / schema / table / ... patterns against
# that short list.
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

_META := `[\\.\[\]{}()*+?^$|]`

_anchor(p) := concat("", ["^(?:", p, ")$"])

_pat(null) := null

_pat(p) := {"l": p} if {
	is_string(p)
	not regex.match(_META, p)
}

_pat(p) := {"r": _anchor(p)} if {
	is_string(p)
	regex.match(_META, p)
}

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

# _pm: a (non-null) matcher matches v.
_pm(m, v) if m.l == v

_pm(m, v) if regex.match(m.r, v)

# _om: an optional matcher (null = no condition) matches v.
_om(null, _) := true

_om(m, v) if _pm(m, v)

# ---------------------------------------------------------------------------
# Subjects: user, group, role (Trino) and permission, attribute (gatehouse).
#
# A rule is first gated on its subject: "bad" when a subject condition is invalid
# (the rule then matches everything and grants nothing), "match" when every
# condition holds for the session user, undefined when the rule does not apply to
# them — then its other fields do not matter and are not even looked at.

_subject(r) := {
	"user": object.get(r, "user", null),
	"group": object.get(r, "group", null),
	"role": object.get(r, "role", null),
	"permission": object.get(r, "permission", null),
	"attribute": object.get(r, "attribute", null),
}

_gate(r) := "bad" if {
	not is_object(r)
} else := _gate_subject(_subject(r))

_gate_subject(s) := "bad" if {
	_subject_bad(s)
} else := "match" if {
	_subject_matches(s)
}

_subject_bad(s) if _bad_pat(s.user)

_subject_bad(s) if _bad_pat(s.group)

_subject_bad(s) if _bad_pat(s.role)

_subject_bad(s) if _bad_pat(s.permission)

_subject_bad(s) if {
	s.attribute != null
	not _attr_spec_valid(s.attribute)
}

_subject_matches(s) if {
	_user_ok(s.user)
	_any_ok(s.group, _groups)
	_any_ok(s.role, _roles)
	_any_ok(s.permission, _permissions)
	_attr_ok(s.attribute)
}

# `user` matches the Trino user name or the directory username it resolves to.
_user_ok(null) := true

_user_ok(p) if regex.match(_anchor(p), _user_name)

_user_ok(p) if regex.match(_anchor(p), _username)

# `group`, `role`, `permission`: any of the user's matches.
_any_ok(null, _) := true

_any_ok(p, xs) if {
	p != null
	re := _anchor(p)
	some x in xs
	regex.match(re, x)
}

# `attribute`: {"name": "regex"} or {"name": ["regex", ...]}; every named attribute
# must have a value that fully matches one of the regexes.
_attr_ok(null) := true

_attr_ok(a) if {
	is_object(a)
	every name, want in a {
		_attr_match(name, want)
	}
}

_attr_match(name, want) if {
	some v in _attr_values(name)
	some p in _as_list(want)
	regex.match(_anchor(p), v)
}

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

# ---------------------------------------------------------------------------
# catalogs: allow = true|false|"all"|"read-only"|"owner"|"none" (case-insensitive).

_LEVELS := {"none": 0, "read-only": 1, "all": 2, "owner": 3}

_mode_key(true) := "all"

_mode_key(false) := "none"

_mode_key(s) := lower(s) if is_string(s)

_valid_catalog_allow(v) if _LEVELS[_mode_key(v)]

_catalog_bad(r) if _pats_bad(r, ["catalog"])

_catalog_bad(r) if not _valid_catalog_allow(object.get(r, "allow", null))

_catalog_rule("bad", _) := {"catalog": null, "level": 0}

_catalog_rule("match", r) := {"catalog": null, "level": 0} if {
	_catalog_bad(r)
} else := {"catalog": _pat(object.get(r, "catalog", null)), "level": _LEVELS[_mode_key(r.allow)]}

_catalog_rules := [n | some r in _catalog_list; n := _catalog_rule(_gate(r), r)]

# ---------------------------------------------------------------------------
# schemas: owner (absent = false).

_schema_bad(r) if _pats_bad(r, ["catalog", "schema"])

_schema_bad(r) if not is_boolean(object.get(r, "owner", false))

_schema_rule("bad", _) := {"catalog": null, "schema": null, "owner": false}

_schema_rule("match", r) := {"catalog": null, "schema": null, "owner": false} if {
	_schema_bad(r)
} else := {
	"catalog": _pat(object.get(r, "catalog", null)),
	"schema": _pat(object.get(r, "schema", null)),
	"owner": object.get(r, "owner", false),
}

_schema_rules := [n | some r in _schema_list; n := _schema_rule(_gate(r), r)]

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

_DENY_TABLE_RULE := {"catalog": null, "schema": null, "table": null, "privs": set(), "rule": {}}

_table_rule_of("bad", _) := _DENY_TABLE_RULE

_table_rule_of("match", r) := _DENY_TABLE_RULE if {
	_table_bad(r)
} else := {
	"catalog": _pat(object.get(r, "catalog", null)),
	"schema": _pat(object.get(r, "schema", null)),
	"table": _pat(object.get(r, "table", null)),
	"privs": {upper(p) | some p in r.privileges},
	"rule": r,
}

_table_rules := [n | some r in _table_list; n := _table_rule_of(_gate(r), r)]

# ---------------------------------------------------------------------------
# system_session_properties / catalog_session_properties: allow (absent = false).

_prop_bad(r, fields) if _pats_bad(r, fields)

_prop_bad(r, _) if not is_boolean(object.get(r, "allow", false))

_ssp_rule("bad", _) := {"property": null, "allow": false}

_ssp_rule("match", r) := {"property": null, "allow": false} if {
	_prop_bad(r, ["property"])
} else := {
	"property": _pat(object.get(r, "property", null)),
	"allow": object.get(r, "allow", false),
}

_ssp_rules := [n | some r in _ssp_list; n := _ssp_rule(_gate(r), r)]

_csp_rule("bad", _) := {"catalog": null, "property": null, "allow": false}

_csp_rule("match", r) := {"catalog": null, "property": null, "allow": false} if {
	_prop_bad(r, ["catalog", "property"])
} else := {
	"catalog": _pat(object.get(r, "catalog", null)),
	"property": _pat(object.get(r, "property", null)),
	"allow": object.get(r, "allow", false),
}

_csp_rules := [n | some r in _csp_list; n := _csp_rule(_gate(r), r)]

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

_query_rule("bad", _) := {"owner": null, "modes": set()}

_query_rule("match", r) := {"owner": null, "modes": set()} if {
	_query_bad(r)
} else := {
	"owner": _pat(object.get(r, "queryOwner", null)),
	"modes": {lower(m) | some m in r.allow},
}

_query_rules := [n | some r in _query_list; n := _query_rule(_gate(r), r)]

# ---------------------------------------------------------------------------
# system_information: allow ⊆ {read, write} (required).

_SYSINFO_MODES := {"read", "write"}

_sysinfo_bad(r) if not _modes_valid(object.get(r, "allow", null), _SYSINFO_MODES)

_sysinfo_rule("bad", _) := {"modes": set()}

_sysinfo_rule("match", r) := {"modes": set()} if {
	_sysinfo_bad(r)
} else := {"modes": {lower(m) | some m in r.allow}}

_sysinfo_rules := [n | some r in _sysinfo_list; n := _sysinfo_rule(_gate(r), r)]

# ---------------------------------------------------------------------------
# functions / procedures: privileges (required).

_FUNCTION_PRIVILEGES := {"EXECUTE", "GRANT_EXECUTE", "OWNERSHIP"}

_PROCEDURE_PRIVILEGES := {"EXECUTE", "GRANT_EXECUTE"}

_function_bad(r) if _pats_bad(r, ["catalog", "schema", "function"])

_function_bad(r) if not _privs_valid(object.get(r, "privileges", null), _FUNCTION_PRIVILEGES)

# Trino no longer supports function_kinds and refuses a non-empty one.
_function_bad(r) if count(object.get(r, "function_kinds", [])) > 0

_function_bad(r) if count(object.get(r, "functionKinds", [])) > 0

_DENY_ROUTINE_RULE := {"catalog": null, "schema": null, "routine": null, "privs": set()}

_function_rule_of("bad", _) := _DENY_ROUTINE_RULE

_function_rule_of("match", r) := _DENY_ROUTINE_RULE if {
	_function_bad(r)
} else := {
	"catalog": _pat(object.get(r, "catalog", null)),
	"schema": _pat(object.get(r, "schema", null)),
	"routine": _pat(object.get(r, "function", null)),
	"privs": {upper(p) | some p in r.privileges},
}

_function_rules := [n | some r in _function_list; n := _function_rule_of(_gate(r), r)]

_procedure_bad(r) if _pats_bad(r, ["catalog", "schema", "procedure"])

_procedure_bad(r) if not _privs_valid(object.get(r, "privileges", null), _PROCEDURE_PRIVILEGES)

_procedure_rule_of("bad", _) := _DENY_ROUTINE_RULE

_procedure_rule_of("match", r) := _DENY_ROUTINE_RULE if {
	_procedure_bad(r)
} else := {
	"catalog": _pat(object.get(r, "catalog", null)),
	"schema": _pat(object.get(r, "schema", null)),
	"routine": _pat(object.get(r, "procedure", null)),
	"privs": {upper(p) | some p in r.privileges},
}

_procedure_rules := [n | some r in _procedure_list; n := _procedure_rule_of(_gate(r), r)]

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

_authorization_gate(r) := "bad" if {
	not is_object(r)
} else := _gate_subject(_authorization_subject(r))

_authorization_bad(r) if _pats_bad(r, ["new_user", "new_role"])

_authorization_bad(r) if {
	object.get(r, "new_user", null) == null
	object.get(r, "new_role", null) == null
}

_authorization_bad(r) if not is_boolean(object.get(r, "allow", true))

_DENY_AUTHORIZATION_RULE := {"new_user": null, "new_role": null, "any_target": true, "allow": false}

_authorization_rule("bad", _) := _DENY_AUTHORIZATION_RULE

_authorization_rule("match", r) := _DENY_AUTHORIZATION_RULE if {
	_authorization_bad(r)
} else := {
	"new_user": _pat(object.get(r, "new_user", null)),
	"new_role": _pat(object.get(r, "new_role", null)),
	"any_target": false,
	"allow": object.get(r, "allow", true),
}

_authorization_rules := [n | some r in _authorization_list; n := _authorization_rule(_authorization_gate(r), r)]

# ---------------------------------------------------------------------------
# impersonation: original_user (with capturing groups), original_role, new_user
# (required; $N references), allow (absent = true). The subject gate covers the
# impersonator's original_role and gatehouse's permission / attribute;
# original_user is matched in impersonation.rego for its capturing groups.

_impersonation_subject(r) := {
	"user": null,
	"group": null,
	"role": object.get(r, "original_role", null),
	"permission": object.get(r, "permission", null),
	"attribute": object.get(r, "attribute", null),
}

_impersonation_gate(r) := "bad" if {
	not is_object(r)
} else := _gate_subject(_impersonation_subject(r))

_impersonation_bad(r) if _pats_bad(r, ["original_user", "new_user"])

_impersonation_bad(r) if not is_string(object.get(r, "new_user", null))

_impersonation_bad(r) if not is_boolean(object.get(r, "allow", true))

_DENY_IMPERSONATION_RULE := {"original_user": null, "new_user": null, "allow": false}

_impersonation_rule("bad", _) := _DENY_IMPERSONATION_RULE

_impersonation_rule("match", r) := _DENY_IMPERSONATION_RULE if {
	_impersonation_bad(r)
} else := {
	"original_user": object.get(r, "original_user", null),
	"new_user": r.new_user,
	"allow": object.get(r, "allow", true),
}

_impersonation_rules := [n | some r in _impersonation_list; n := _impersonation_rule(_impersonation_gate(r), r)]

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
