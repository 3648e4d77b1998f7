package authz

import (
	"context"
	"errors"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/gatehouse-authz/gatehouse/internal/policy"
)

// Authorizer evaluates decisions against the current policies and directory
// snapshot, and accounts for them (metrics, audit).
type Authorizer struct {
	engine  *policy.Engine
	dir     *Directory
	auditor *Auditor
	metrics *Metrics
	imp     *impersonations
	cache   *DecisionCache
	// syncTrigger, when set, is given the directory username of a Trino
	// user who appears unsynced (see Directory.UnsyncedUser).
	syncTrigger func(username string)
}

// SetSyncTrigger makes Record hand fn the directory username of every
// Trino user (or impersonation target) who belongs to an identity provider
// with a user-info endpoint and was never synced. fn must not block (the
// user-info Syncer's Trigger only queues): Record runs on the decision path,
// cached answers included. Call before serving.
func (a *Authorizer) SetSyncTrigger(fn func(username string)) { a.syncTrigger = fn }

// SetCache makes the Authorizer answer repeated requests from c. The caller
// must Invalidate c whenever the directory mirror or the policies change.
func (a *Authorizer) SetCache(c *DecisionCache) { a.cache = c }

// Cached returns a cached answer for endpoint and body, if any.
func (a *Authorizer) Cached(endpoint string, body []byte) ([]byte, Decision, bool) {
	if a.cache == nil || a.dir.Ready() != nil {
		return nil, Decision{}, false
	}
	return a.cache.Get(endpoint, body)
}

// Generation is the cache generation to capture before evaluating.
func (a *Authorizer) Generation() uint64 { return a.cache.Generation() }

// Remember caches an answer computed at generation gen, when the policies
// allow caching.
func (a *Authorizer) Remember(gen uint64, endpoint string, body, answer []byte, d Decision) {
	if a.cache == nil || !a.engine.Deterministic() {
		return
	}
	a.cache.Put(gen, endpoint, body, answer, d)
}

// NewAuthorizer wires an Authorizer. auditor and metrics may be nil.
func NewAuthorizer(engine *policy.Engine, dir *Directory, auditor *Auditor, metrics *Metrics) *Authorizer {
	return &Authorizer{engine: engine, dir: dir, auditor: auditor, metrics: metrics, imp: newImpersonations(30*time.Second, 100_000)}
}

// ErrNotReady is returned while decisions cannot be trusted (the directory
// snapshot lags the store): callers fail closed.
var ErrNotReady = errors.New("gatehouse is not ready to decide")

// Eval evaluates entry point endpoint for input.
func (a *Authorizer) Eval(ctx context.Context, endpoint string, input ast.Value) (any, bool, error) {
	if err := a.dir.Ready(); err != nil {
		return nil, false, errors.Join(ErrNotReady, err)
	}
	return a.engine.Eval(ctx, endpoint, input)
}

// EvalValue is Eval with the answer as the policies produced it, an AST value
// (the decision path shape-checks and encodes it without converting it to Go).
func (a *Authorizer) EvalValue(ctx context.Context, endpoint string, input ast.Value) (ast.Value, bool, error) {
	if err := a.dir.Ready(); err != nil {
		return nil, false, errors.Join(ErrNotReady, err)
	}
	return a.engine.EvalValue(ctx, endpoint, input)
}

// EvalPath evaluates any rule of the loaded policies (the generic Data API).
func (a *Authorizer) EvalPath(ctx context.Context, path []string, input ast.Value) (any, bool, error) {
	if err := a.dir.Ready(); err != nil {
		return nil, false, errors.Join(ErrNotReady, err)
	}
	return a.engine.EvalPath(ctx, path, input)
}

// Reason asks the policies why a request was denied, when they can say
// (an optional rule data.trino.reason); "" otherwise. Only denials pay for it.
func (a *Authorizer) Reason(ctx context.Context, input ast.Value) string {
	v, ok, err := a.engine.EvalPath(ctx, []string{policy.Package, "reason"}, input)
	if err != nil || !ok {
		return ""
	}
	s, _ := v.(string)
	return s
}

// Outcome classes of a decision, for metrics and audit.
const (
	ResultAllow   = "allow"
	ResultDeny    = "deny"
	ResultPartial = "partial" // a batch that kept some items but not all
	ResultError   = "error"
	ResultUnknown = "unknown_operation"
)

// Decision is one answered request, as accounted.
type Decision struct {
	Endpoint  string
	Operation string
	User      string // the Trino user (for ImpersonateUser, the impersonator)
	Target    string // ImpersonateUser's target
	QueryID   string
	Resource  string
	Result    string // one of the Result* constants
	Items     int    // batch size, 0 for single decisions
	Kept      int    // items kept or masks returned
	Rule      string // why, when the policies say
	Error     string
	Duration  time.Duration
}

// Record counts the decision and audits it as configured. It never blocks.
func (a *Authorizer) Record(d Decision) {
	if a.metrics != nil {
		a.metrics.observe(d)
	}
	impersonator := a.imp.observe(d)
	if a.auditor != nil {
		a.auditor.record(d, impersonator)
	}
	if a.syncTrigger != nil {
		a.triggerSync(d.User)
		a.triggerSync(d.Target)
	}
}

func (a *Authorizer) triggerSync(trinoName string) {
	if trinoName == "" {
		return
	}
	if username, ok := a.dir.UnsyncedUser(trinoName); ok {
		a.syncTrigger(username)
	}
}
