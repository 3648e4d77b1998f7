package authz

import (
	"sync"
	"time"
)

// impersonations correlates Trino's ImpersonateUser(svc → alice) with the
// checks that follow for the same query, so their audit records can carry
// impersonationUser = svc.
//
// Trino sends, for every query under impersonation: ImpersonateUser (no
// queryId, identity = svc, target = alice), ExecuteQuery (no queryId,
// identity = alice), then the statement's checks as alice with a queryId
// (Trino 478+). So an allowed ImpersonateUser opens a short window for its
// target; the first queryId seen for that target inside the window is bound
// to the impersonator for the rest of that query. A query alice runs herself
// inside the same window would be attributed to svc too: the window is short
// and refreshed by every impersonated query, and the gateway, which knows
// the session, can make the link exact.
type impersonations struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	pending map[string]window // target → who impersonates them, until when
	queries map[string]window // queryId → impersonator
}

type window struct {
	by    string
	until time.Time
	armed bool // an ImpersonateUser came and its query's ExecuteQuery has not yet
}

func newImpersonations(ttl time.Duration, max int) *impersonations {
	return &impersonations{ttl: ttl, max: max, pending: map[string]window{}, queries: map[string]window{}}
}

// observe notes what d says about impersonation and returns the impersonator
// d's checks serve, or "".
func (m *impersonations) observe(d Decision) string {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if d.Operation == "ImpersonateUser" {
		if d.Result == ResultAllow && d.Target != "" && d.Target != d.User {
			m.sweep(now)
			m.pending[d.Target] = window{by: d.User, until: now.Add(m.ttl), armed: true}
		}
		return ""
	}
	if d.Operation == "ExecuteQuery" && d.QueryID == "" {
		// Each query starts with ExecuteQuery. One that follows an
		// ImpersonateUser for this user belongs to the impersonated session;
		// one that does not is the user's own query, which closes the window.
		w, ok := m.pending[d.User]
		if !ok || !now.Before(w.until) {
			return ""
		}
		if !w.armed {
			delete(m.pending, d.User)
			return ""
		}
		w.armed = false
		m.pending[d.User] = w
		return w.by
	}
	if d.QueryID != "" {
		if w, ok := m.queries[d.QueryID]; ok && now.Before(w.until) {
			return w.by
		}
	}
	w, ok := m.pending[d.User]
	if !ok || !now.Before(w.until) {
		return ""
	}
	if d.QueryID != "" {
		m.sweep(now)
		m.queries[d.QueryID] = window{by: w.by, until: now.Add(10 * m.ttl)}
		delete(m.pending, d.User)
	}
	return w.by
}

// sweep drops expired entries once the maps grow past max.
func (m *impersonations) sweep(now time.Time) {
	if len(m.pending)+len(m.queries) < m.max {
		return
	}
	for k, w := range m.pending {
		if !now.Before(w.until) {
			delete(m.pending, k)
		}
	}
	for k, w := range m.queries {
		if !now.Before(w.until) {
			delete(m.queries, k)
		}
	}
	if len(m.queries) >= m.max { // all fresh: forget the oldest generation rather than grow
		clear(m.queries)
	}
}
