# The session user and what the gatehouse directory (data.gatehouse) knows
# about them. Everything here is resolved once per request: complete rules are
# evaluated at most once per query, so per-item code below only looks them up.
package trino

# The Trino user the request is about. For ImpersonateUser this is the
# impersonator; under impersonation every other check carries the target.
_user_name := input.context.identity.user

# A Trino user name resolves to a directory username through its `trino`
# external id (data.gatehouse.trinoUsers), else the lower-cased name itself.
_resolve(name) := u if {
	u := data.gatehouse.trinoUsers[_trino_key(name)]
} else := lower(name)

# Trino names match case-sensitively unless gatehouse is configured otherwise
# (trino-name-matching); then trinoUsers is keyed by the lower-cased name.
_trino_key(name) := lower(name) if {
	data.gatehouse.settings.trinoNameMatching == "case-insensitive"
} else := name

# (_resolve(_user_name), without the function call: it is on every request.)
_username := u if {
	u := data.gatehouse.trinoUsers[_trino_key(_user_name)]
} else := lower(_user_name)

_dir_user := data.gatehouse.users[_username]

# An active user exists in the directory and is not disabled. Unknown and
# disabled users are denied everything by the entry points.
_active if {
	du := _dir_user
	not du.disabled
}

_is_active_username(u) if {
	du := data.gatehouse.users[u]
	not du.disabled
}

# Policy-exempt users (settings.policyExemptUsers, by Trino name or directory
# username) bypass data policies; they can neither impersonate nor be impersonated.
_exempt_list := {x | some x in data.gatehouse.settings.policyExemptUsers}

_is_exempt(name) if name in _exempt_list

# By directory username only for a user the directory knows: an unknown name
# is lower-cased by _resolve, and "TRINO" must not pass for the exempt "trino".
_is_exempt(name) if {
	u := _resolve(name)
	data.gatehouse.users[u]
	u in _exempt_list
}

_exempt if {
	data.gatehouse.settings.policyExemptUsers[_] # none exempt: nothing to check
	_is_exempt(_user_name)
}

# _is_exempt, without looking further when no user is exempt (the usual case).
_exempt_name(name) if {
	data.gatehouse.settings.policyExemptUsers[_]
	_is_exempt(name)
}

# Group conditions match the union of the directory's groups and Trino's
# (Trino's are often empty, so the directory's are what make group rules work).
_groups := {g | some g in _dir_user.groups} | {g | some g in input.context.identity.groups}

# Trino's OPA input carries no roles; if a caller ever sends enabledRoles they are used,
# otherwise `role` / `original_role` conditions never match (as for a user with no roles).
_roles := {r | some r in input.context.identity.enabledRoles}

_permissions := {p | some p in _dir_user.permissions}

_attributes := a if {
	a := _dir_user.attributes
	is_object(a)
} else := {}

# The values of one attribute as strings, sorted (a single value may be stored bare).
_attr_values(name) := sort([_to_str(v) | some v in vs]) if {
	vs := _attributes[name]
	is_array(vs)
} else := [_to_str(_attributes[name])] if {
	v := _attributes[name]
	not is_array(v)
	v != null
} else := []

_to_str(v) := v if is_string(v)

_to_str(v) := sprintf("%v", [v]) if not is_string(v)

_email := e if {
	e := _dir_user.email
	is_string(e)
} else := _username
