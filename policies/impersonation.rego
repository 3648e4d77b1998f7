# ImpersonateUser: may the request user (context.identity, the impersonator) run
# queries as action.resource.user.user (the target)? Checked by Trino for every
# query, so the permission is checked when a query runs.
#
# Allowed iff the target is the impersonator itself, or
#   (  the impersonator is an active directory user holding IMPERSONATE_USER
#   or an impersonation rule of rules.json allows it (Trino semantics below)
#   or the impersonator is in settings.impersonation.allowedServiceUsers )
#   and the target resolves to an active directory user
#   and neither side is policy-exempt
#   and the impersonator is not a disabled directory user.
package trino

_impersonation_target := input.action.resource.user.user

_impersonation_allowed if {
	is_string(_impersonation_target)
	_impersonation_target == _user_name
}

_impersonation_allowed if {
	is_string(_impersonation_target)
	_impersonation_target != _user_name
	not _exempt
	not _impersonator_disabled
	_impersonation_granted
	_impersonation_target_ok
}

_impersonator_disabled if {
	_dir_user
	not _active
}

_service_users := {x | some x in data.gatehouse.settings.impersonation.allowedServiceUsers}

_impersonation_granted if {
	_active
	"IMPERSONATE_USER" in _dir_user.permissions
}

_impersonation_granted if _impersonation_rule_allows(_user_name, _impersonation_target)

_impersonation_granted if _user_name in _service_users

# A service user listed by directory username must be a directory user: an
# unknown name is only lower-cased, and "SVC_ETL" is not "svc_etl".
_impersonation_granted if {
	_dir_user
	_username in _service_users
}

_impersonation_target_ok if {
	_is_active_username(_resolve(_impersonation_target))
	not _exempt_name(_impersonation_target)
}

# ---------------------------------------------------------------------------
# Trino's impersonation rules: the first rule that matches decides; none denies.
# A rule matches when original_user (if any) fully matches the impersonator,
# original_role (if any) matches one of its roles, gatehouse's permission /
# attribute conditions hold, and new_user — with $N replaced by original_user's
# capturing groups, the captured text not escaped — fully matches the target.

_impersonation_rule_allows(user, target) if {
	rs := [a | some n in _impersonation_rules; a := _impersonation_rule_result(n, user, target)]
	rs[0] == true
}

# An invalid rule matches everything and denies.
_impersonation_rule_result(n, _, _) := false if n.new_user == null

_impersonation_rule_result(n, _, target) := n.allow if {
	n.original_user == null
	n.new_user != null
	regex.match(_anchor(n.new_user), target)
}

_impersonation_rule_result(n, user, target) := r if {
	n.original_user != null
	n.new_user != null
	ms := regex.find_all_string_submatch_n(_anchor(n.original_user), user, 1)
	count(ms) == 1
	r := _substituted_result(_substitute(n.new_user, ms[0]), n.allow, target)
}

# Trino fails the check when new_user refers to a missing group or the
# substituted pattern does not compile: gatehouse denies.
_substituted_result(sub, _, _) := false if sub.error == true

_substituted_result(sub, _, _) := false if {
	sub.error == false
	not regex.is_valid(sub.pattern)
}

_substituted_result(sub, allow, target) := allow if {
	sub.error == false
	regex.match(_anchor(sub.pattern), target)
}

# Java's Matcher.appendReplacement: `\x` is a literal x, `$N` is group N (a second
# digit is taken when that group exists), a lone `$` or `\` is an error.
_SUBSTITUTION_TOKENS := `\\(.)|\$([0-9])([0-9]?)|[^\\$]+|\$|\\`

_substitute(tpl, groups) := {"error": false, "pattern": concat("", parts)} if {
	toks := regex.find_all_string_submatch_n(_SUBSTITUTION_TOKENS, tpl, -1)
	parts := [x | some t in toks; x := _substitution_token(t, groups)]
	count(parts) == count(toks)
} else := {"error": true}

_substitution_token(t, groups) := t[1] if {
	startswith(t[0], "\\")
	count(t[0]) == 2
} else := groups[to_number(concat("", [t[2], t[3]]))] if {
	t[3] != ""
	to_number(concat("", [t[2], t[3]])) < count(groups)
} else := concat("", [groups[to_number(t[2])], t[3]]) if {
	t[2] != ""
	to_number(t[2]) < count(groups)
} else := t[0] if {
	not startswith(t[0], "\\")
	not startswith(t[0], "$")
}
