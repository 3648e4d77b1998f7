# ImpersonateUser: gatehouse's directory rules (IMPERSONATE_USER, allowedServiceUsers,
# active and non-exempt targets, self) and Trino's impersonation rules with $N
# references. Uses `directory` from gatehouse_test.rego.
package trino_test

import data.trino

can_impersonate(user, target, rules, dir) if {
	trino.allow with input as g_request(user, [], impersonate(target))
		with data.trino.rules as rules
		with data.gatehouse as dir
}

test_impersonation_self_always_allowed if {
	can_impersonate("alice", "alice", {}, directory)
	can_impersonate("nobody", "nobody", {}, directory)
	can_impersonate("trino", "trino", {}, directory)
}

test_impersonation_with_directory_permission if {
	can_impersonate("svc_dashboard", "alice", {}, directory)
	can_impersonate("svc_dashboard", "alice@example.com", {}, directory)
	can_impersonate("svc_dashboard", "Bob", {}, directory)

	# the target must resolve to an active directory user who is not policy-exempt
	not can_impersonate("svc_dashboard", "carol@example.com", {}, directory)
	not can_impersonate("svc_dashboard", "nobody", {}, directory)
	not can_impersonate("svc_dashboard", "exempt@example.com", {}, directory)
	not can_impersonate("svc_dashboard", "trino", {}, directory)

	# without the permission
	not can_impersonate("alice", "Bob", {}, directory)
	not can_impersonate("Bob", "alice", {}, directory)
}

test_impersonation_disabled_impersonator_denied if {
	# carol holds IMPERSONATE_USER but is disabled
	not can_impersonate("carol@example.com", "alice", {}, directory)

	# ... and neither rules nor the service list help a disabled user
	not can_impersonate("carol@example.com", "alice", {"impersonation": [{"original_user": ".*", "new_user": ".*"}]}, directory)
}

test_impersonation_allowed_service_users if {
	# svc_etl is not in the directory at all
	can_impersonate("svc_etl", "alice", {}, directory)
	can_impersonate("svc_etl", "Bob", {}, directory)
	not can_impersonate("svc_etl", "carol@example.com", {}, directory)
	not can_impersonate("svc_etl", "nobody", {}, directory)
	not can_impersonate("svc_etl", "exempt@example.com", {}, directory)
}

test_impersonation_exempt_users_can_neither_impersonate_nor_be_impersonated if {
	# "trino" is exempt, and listed in allowedServiceUsers too; exempt@ holds IMPERSONATE_USER
	not can_impersonate("trino", "alice", {}, directory)
	not can_impersonate("exempt@example.com", "alice", {}, directory)
	not can_impersonate("trino", "alice", {"impersonation": [{"original_user": ".*", "new_user": ".*"}]}, directory)
	not can_impersonate("svc_dashboard", "trino", {}, directory)
}

test_impersonation_rules_with_group_reference if {
	r := {"impersonation": [{"original_user": "team_(.*)", "new_user": "team_$1_sandbox", "allow": true}]}
	dir := object.union(directory, {"users": {"team_sales": {"email": "team_sales@example.com"}}})
	can_impersonate("team_sales", "team_sales_sandbox", r, dir)
	not can_impersonate("team_ops", "team_sales_sandbox", r, dir)

	# the rule allows, but the target is not an active directory user
	not can_impersonate("team_ops", "team_ops_sandbox", r, dir)
}

test_impersonation_rule_with_permission_extension if {
	r := {"impersonation": [{"permission": "GOVERNANCE", "new_user": "alice"}]}
	can_impersonate("Bob", "alice", r, directory)
	not can_impersonate("svc_etl_other", "alice", r, directory)
}

test_impersonation_absent_section_uses_directory_only if {
	not can_impersonate("alice", "Bob", data.testdata.empty, directory)
	can_impersonate("svc_dashboard", "Bob", data.testdata.empty, directory)
}

# A directory in which every name used below is an active user, so that only
# Trino's rule semantics decide.
rules_directory(names) := {"users": {lower(n): {"email": lower(n)} | some n in names}}

catalog_impersonation_cases := [
	# [impersonator, target, allowed]
	["alice", "bob", true],
	["alice", "charlie", true],
	["alice", "test", true], # the first rule does not match the target; `.*` → test does
	["alice", "dave", false],
	["admin-test", "bob", false], # allow: false, and first match wins over admin(-.*)?
	["admin-test", "test", false],
	["admin", "bob", true],
	["admin-other", "anyone", true],
	["invalid", "test", false],
	["invalid-x", "bob", false],
	["bob", "test", true],
	["bob", "alice", false],
	["svc_etl", "svc_etl_prod", true],
	["svc_etl", "svc_other_prod", false],
	["external_foo_bar", "internal-bar-foo-sandbox", true],
	["external_foo_bar", "internal-foo-bar-sandbox", false],
	["missing_replacement_x", "anyone", true],
	["incorrect_number_of_replacements_groups_x", "x_x_prod", false], # $2 does not exist: Trino fails, gatehouse denies
	["incorrect_number_of_replacements_groups_x", "test", true], # the earlier `.*` → test rule matches first
]

test_catalog_impersonation_file if {
	r := data.testdata.catalog_impersonation
	every c in catalog_impersonation_cases {
		dir := rules_directory([c[0], c[1]])
		_impersonation_case(c[0], c[1], c[2], r, dir)
	}
}

_impersonation_case(user, target, true, r, dir) if can_impersonate(user, target, r, dir)

_impersonation_case(user, target, false, r, dir) if not can_impersonate(user, target, r, dir)

test_docs_impersonation_file if {
	r := data.testdata["docs-user-impersonation"]
	admin_id := {"user": "alberto", "groups": [], "enabledRoles": ["admin"]}
	dir := rules_directory(["alberto", "bob", "charlie", "test", "team_a", "team_a_sandbox", "joe"])
	not trino.allow with input as request(admin_id, impersonate("bob")) with data.trino.rules as r with data.gatehouse as dir
	trino.allow with input as request(admin_id, impersonate("charlie")) with data.trino.rules as r with data.gatehouse as dir
	can_impersonate("joe", "test", r, dir)
	not can_impersonate("joe", "charlie", r, dir)
	can_impersonate("team_a", "team_a_sandbox", r, dir)

	# Trino's OPA input has no roles: without them the admin rules never match
	not can_impersonate("alberto", "charlie", r, dir)
}

test_impersonation_substitution_like_java if {
	dir := rules_directory(["a.c", "abc", "svc_etl", "svc_etlxprod", "svc_etl.prod", "p$q"])

	# the captured text is inserted unescaped: "a.c" becomes a regex
	r1 := {"impersonation": [{"original_user": "(.*)", "new_user": "$1"}]}
	can_impersonate("a.c", "abc", r1, dir)

	# `\x` in new_user is a literal x after substitution (Java's appendReplacement)
	r2 := {"impersonation": [{"original_user": "svc_(.*)", "new_user": "svc_$1\\.prod"}]}
	can_impersonate("svc_etl", "svc_etlxprod", r2, dir)
	can_impersonate("svc_etl", "svc_etl.prod", r2, dir)

	# without original_user there is no substitution: new_user is used as it is
	r3 := {"impersonation": [{"new_user": "svc_etl\\.prod"}]}
	can_impersonate("svc_etl", "svc_etl.prod", r3, dir)
	not can_impersonate("svc_etl", "svc_etlxprod", r3, dir)

	# a lone `$` is an error in Java: gatehouse denies
	r4 := {"impersonation": [{"original_user": "(.*)", "new_user": "p$q"}, {"original_user": ".*", "new_user": ".*"}]}
	not can_impersonate("svc_etl", "p$q", r4, dir)
}

test_impersonation_invalid_rule_fails_closed if {
	dir := rules_directory(["alice", "bob", "svc"])
	every bad in [{"original_user": "alice"}, {"new_user": "bob(?=x)"}, {"original_user": "(?<=s)vc", "new_user": ".*"}] {
		not can_impersonate("svc", "bob", {"impersonation": [bad, {"original_user": ".*", "new_user": ".*"}]}, dir)
		count(trino.rules_errors) == 1 with data.trino.rules as {"impersonation": [bad]}
	}
}

test_impersonation_service_user_by_directory_username if {
	dir := object.union(directory, {"settings": {"impersonation": {"allowedServiceUsers": ["svc_dashboard@example.com"]}, "policyExemptUsers": []}})
	d2 := json.patch(dir, [{"op": "replace", "path": "/users/svc_dashboard@example.com/permissions", "value": []}])
	can_impersonate("svc_dashboard", "alice", {}, d2)
}

test_impersonation_substituted_pattern_must_compile if {
	dir := rules_directory(["a(b", "x"])

	# the captured "(" makes new_user an invalid regex: Trino fails, gatehouse denies
	r := {"impersonation": [{"original_user": "(.*)", "new_user": "$1"}, {"original_user": ".*", "new_user": ".*"}]}
	not can_impersonate("a(b", "x", r, dir)
}

test_impersonation_two_digit_group_references if {
	r := {"impersonation": [{"original_user": "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", "new_user": "$11-$1$12"}]}
	dir := rules_directory(["abcdefghijk", "k-aa2"])

	# $11 is group 11 (it exists); $12 is group 1 then "2"
	can_impersonate("abcdefghijk", "k-aa2", r, dir)
}
