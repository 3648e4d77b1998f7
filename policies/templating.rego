# Row filter and column mask expressions may refer to the session user:
#   ${user.name}              the Trino user name
#   ${user.email}             the directory user's email (else the directory username)
#   ${user.attributes.NAME}   the user's values of attribute NAME
# Each renders as a comma-separated list of SQL string literals with single quotes
# doubled ('O''Brien'), so a value can never leave its literal. An attribute the
# user does not have (and any other ${user.*}) renders as NULL, which matches
# nothing: `region IN (${user.attributes.region})` then selects no rows.
# Write placeholders outside quotes. Rendered values are never re-scanned.
package trino

_PLACEHOLDER := `\$\{user\.([^}]*)\}`

_render(e) := e if not contains(e, "${user.")

_render(e) := strings.replace_n(replacements, e) if {
	contains(e, "${user.")
	replacements := {m[0]: _placeholder_value(m[1]) | some m in regex.find_all_string_submatch_n(_PLACEHOLDER, e, -1)}
}

_placeholder_value(k) := _sql_literal(_user_name) if {
	k == "name"
} else := _sql_literal(_email) if {
	k == "email"
} else := concat(", ", [_sql_literal(v) | some v in vs]) if {
	startswith(k, "attributes.")
	vs := _attr_values(substring(k, count("attributes."), -1))
	count(vs) > 0
} else := "NULL"

_sql_literal(s) := concat("", ["'", replace(s, "'", "''"), "'"])

# A view expression as Trino decodes it; identity only when the environment names a user.
_view_expression(expr, env) := {"expression": _render(expr), "identity": env.user} if {
	is_string(env.user)
} else := {"expression": _render(expr)}
