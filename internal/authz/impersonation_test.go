package authz

import "testing"

func TestImpersonationWindow(t *testing.T) {
	m := newImpersonations(30e9, 100)
	step := func(op, user, target, result, queryID string) string {
		return m.observe(Decision{Operation: op, User: user, Target: target, Result: result, QueryID: queryID})
	}
	cases := []struct {
		name                         string
		op, user, target, res, query string
		want                         string
	}{
		{"own query before any impersonation", "ExecuteQuery", "alice", "", ResultAllow, "", ""},
		{"denied impersonation opens nothing", "ImpersonateUser", "svc", "alice", ResultDeny, "", ""},
		{"check after a denied impersonation", "SelectFromColumns", "alice", "", ResultAllow, "", ""},
		{"allowed impersonation", "ImpersonateUser", "svc", "alice", ResultAllow, "", ""},
		{"its ExecuteQuery", "ExecuteQuery", "alice", "", ResultAllow, "", "svc"},
		{"its checks", "SelectFromColumns", "alice", "", ResultAllow, "", "svc"},
		{"its checks with a queryId", "GetRowFilters", "alice", "", ResultAllow, "q1", "svc"},
		{"the same query later", "GetColumnMask", "alice", "", ResultAllow, "q1", "svc"},
		{"alice's own next query closes the window", "ExecuteQuery", "alice", "", ResultAllow, "", ""},
		{"and its checks are hers", "SelectFromColumns", "alice", "", ResultAllow, "", ""},
		{"self impersonation opens nothing", "ImpersonateUser", "bob", "bob", ResultAllow, "", ""},
		{"bob's own query", "ExecuteQuery", "bob", "", ResultAllow, "", ""},
	}
	for _, c := range cases {
		if got := step(c.op, c.user, c.target, c.res, c.query); got != c.want {
			t.Errorf("%s: impersonationUser %q, want %q", c.name, got, c.want)
		}
	}
}
