// Package policy embeds OPA: it loads and compiles the Rego bundle in
// policies/ (Rego v1 plus JSON/YAML data), prepares one query per Trino entry
// point once and shares it across goroutines, holds the data documents
// (including the directory snapshot under data.gatehouse) in an in-memory
// store updated in transactions, and swaps in a new bundle on reload only if
// it compiles — the last good one keeps serving otherwise.
package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Package is the Rego package of the Trino entry points.
const Package = "trino"

// EntryPoints are the rules Trino's opa plugin calls, one URI each.
var EntryPoints = []string{"allow", "batch", "rowFilters", "columnMask", "batchColumnMasks"}

// DirectoryKey is the top-level data document gatehouse owns: policy files
// may not define it.
const DirectoryKey = "gatehouse"

// ErrUndefinedPath is returned by EvalPath for a path that names no rule of
// the loaded policies.
var ErrUndefinedPath = errors.New("no such rule")

// BundleError says why a policy bundle was rejected: it does not load,
// compile or define the entry points. It is the policy author's to fix, unlike
// other reload errors.
type BundleError struct{ Err error }

func (e *BundleError) Error() string { return e.Err.Error() }
func (e *BundleError) Unwrap() error { return e.Err }

// Engine evaluates the loaded bundle. It is safe for concurrent use.
type Engine struct {
	dir   string
	log   *slog.Logger
	store storage.Store

	reloadMu sync.Mutex // one reload at a time
	mu       sync.RWMutex
	cur      *bundle
	fileKeys []string // top-level data keys that came from files
	onReload []func(err error)
	noFold   bool
	noMemo   bool
	// dataGen counts writes to the store, twice each: odd while one may be
	// committing. The identity memo (memo.go) is valid for one even value.
	dataGen atomic.Uint64
}

// bundle is one compiled generation of the policies.
type bundle struct {
	compiler *ast.Compiler
	prepared map[string]rego.PreparedEvalQuery
	paths    sync.Map // generic rule path → rego.PreparedEvalQuery, prepared on first use
	files    int
	// deterministic is false when a module calls a non-deterministic
	// built-in (time, randomness, HTTP): its answers must not be cached.
	deterministic bool
	loadedAt      time.Time
	// folded counts the rules replaced by their values at load (see fold.go);
	// foldedNames are their paths.
	folded      int
	foldedNames []string
	// memo keeps identity-scoped results across queries (memo.go); nil when
	// none can be.
	memo *subjectMemo
}

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithoutFolding turns off constant folding (fold.go): every rule is then
// evaluated per request, as stock OPA does. For tests and troubleshooting.
func WithoutFolding() Option { return func(e *Engine) { e.noFold = true } }

// WithoutMemo turns off the identity memo (memo.go): every query evaluates
// every rule it needs. For tests and troubleshooting.
func WithoutMemo() Option { return func(e *Engine) { e.noMemo = true } }

// WithReloadHook calls fn after every load attempt with its outcome, for metrics.
func WithReloadHook(fn func(err error)) Option {
	return func(e *Engine) { e.onReload = append(e.onReload, fn) }
}

// GCPercent is the garbage collector's target (GOGC) an engine sets for the
// process unless GOGC is set in the environment. The engine's data (the
// compiled bundle, the directory's indexes, the identity memo) is most of
// the process's live heap, about 85-125 MB with 100,000 users, and every
// collection marks all of it: on 2 cores each one takes a quarter of the
// CPU for ~0.1 s, and decisions queue meanwhile. With Go's default of 100
// a collection starts whenever the decisions have allocated as much again as
// is live; 500 makes that a sixth as often, for a heap of at most 6 times
// the live one (~700 MB, where 400 put it when the live heap was 140 MB).
// `gatehouse serve` then caps the heap with a soft limit (memory-limit,
// GOMEMLIMIT) and, under it, raises the target further once the directory is
// loaded (internal/cli/gc.go), so that the limit decides when to collect.
const GCPercent = 500

var gcOnce sync.Once

func tuneGC(log *slog.Logger) {
	gcOnce.Do(func() {
		if os.Getenv("GOGC") != "" {
			return
		}
		old := debug.SetGCPercent(GCPercent)
		log.Debug("garbage collector target raised for a long-lived policy heap", "GOGC", GCPercent, "was", old)
	})
}

// New loads and compiles the bundle in dir; a bundle that does not compile
// is an error here, since there is no last good one to fall back on. The first
// engine of the process also sets the garbage collector's target (GCPercent).
func New(ctx context.Context, dir string, opts ...Option) (*Engine, error) {
	e := &Engine{
		dir:   dir,
		log:   slog.Default(),
		store: dataStore{inmem.NewFromObjectWithOpts(map[string]any{}, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(false))},
	}
	for _, o := range opts {
		o(e)
	}
	tuneGC(e.log)
	if err := statDir(dir); err != nil {
		return nil, err
	}
	if err := e.Reload(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Dir is the policy directory.
func (e *Engine) Dir() string { return e.dir }

// isPolicyFile says which files of the directory are the bundle: tests,
// test data and examples are for `policy test` and authors, not for serving.
func isPolicyFile(abspath string, info fs.FileInfo, depth int) bool {
	name := info.Name()
	if info.IsDir() {
		return depth > 0 && (name == "testdata" || name == "examples" || strings.HasPrefix(name, "."))
	}
	return strings.HasSuffix(name, "_test.rego") || strings.HasPrefix(name, ".")
}

// Reload reads, compiles and prepares the bundle, then swaps it in together
// with its data documents. On any error the current bundle stays.
func (e *Engine) Reload(ctx context.Context) (err error) {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	defer func() {
		if err != nil {
			e.log.Error("policy bundle rejected; the last good one keeps serving", "dir", e.dir, "err", err)
		}
		for _, fn := range e.onReload {
			fn(err)
		}
	}()
	b, docs, modules, err := e.compile(ctx)
	if err != nil {
		return &BundleError{err}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.writeFileData(ctx, docs); err != nil {
		return err
	}
	if !e.noFold {
		e.foldBundle(ctx, b, modules)
	}
	e.cur = b
	e.log.Info("policy bundle loaded", "dir", e.dir, "modules", b.files, "folded_rules", b.folded, "identity_memoised_rules", b.memo.size())
	e.warnRuleErrors(ctx)
	return nil
}

// warnRuleErrors logs the rules the bundle's diagnostic rule (rules_errors)
// reports: rules Trino would refuse to load, which the policies treat as
// matching everyone and granting nothing. They fail closed, so the bundle
// still loads; the operator should hear about them.
func (e *Engine) warnRuleErrors(ctx context.Context) {
	ref := ast.MustParseRef("data." + Package + ".rules_errors")
	if len(e.cur.compiler.GetRules(ref)) == 0 {
		return
	}
	pq, err := e.prepare(ctx, e.cur.compiler, ref)
	if err != nil {
		return
	}
	v, ok, err := evalPrepared(ctx, pq, nil, nil)
	if err != nil || !ok {
		return
	}
	if errs, ok := v.([]any); ok && len(errs) > 0 {
		e.log.Warn("rules.json has rules that fail closed (they match and grant nothing)", "count", len(errs), "errors", errs)
	}
}

// compile loads the directory and prepares every entry point.
func (e *Engine) compile(ctx context.Context) (*bundle, map[string]any, map[string]*ast.Module, error) {
	res, err := loader.NewFileLoader().WithRegoVersion(ast.RegoV1).Filtered([]string{e.dir}, isPolicyFile)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load policies from %s: %w", e.dir, err)
	}
	if _, ok := res.Documents[DirectoryKey]; ok {
		return nil, nil, nil, fmt.Errorf("load policies from %s: data key %q is reserved for the directory snapshot", e.dir, DirectoryKey)
	}
	modules := res.ParsedModules()
	if len(modules) == 0 {
		return nil, nil, nil, fmt.Errorf("load policies from %s: no .rego files", e.dir)
	}
	c := ast.NewCompiler().WithEnablePrintStatements(false)
	if c.Compile(modules); c.Failed() {
		return nil, nil, nil, fmt.Errorf("compile policies: %w", c.Errors)
	}
	b := &bundle{compiler: c, files: len(modules), loadedAt: time.Now()}
	if err := e.prepareBundle(ctx, b); err != nil {
		return nil, nil, nil, err
	}
	return b, res.Documents, modules, nil
}

// prepareBundle prepares every entry point of b.compiler.
func (e *Engine) prepareBundle(ctx context.Context, b *bundle) error {
	b.prepared = map[string]rego.PreparedEvalQuery{}
	b.deterministic = deterministic(b.compiler)
	b.memo = nil
	if !e.noMemo {
		b.memo = newSubjectMemo(b.compiler)
	}
	for _, ep := range EntryPoints {
		ref := ast.MustParseRef("data." + Package + "." + ep)
		if len(b.compiler.GetRules(ref)) == 0 {
			return fmt.Errorf("compile policies: entry point data.%s.%s is not defined", Package, ep)
		}
		pq, err := e.prepare(ctx, b.compiler, ref)
		if err != nil {
			return fmt.Errorf("prepare data.%s.%s: %w", Package, ep, err)
		}
		b.prepared[ep] = pq
	}
	return nil
}

func (e *Engine) prepare(ctx context.Context, c *ast.Compiler, ref ast.Ref) (rego.PreparedEvalQuery, error) {
	return rego.New(
		rego.ParsedQuery(ast.NewBody(ast.NewExpr(ast.NewTerm(ref)))),
		rego.Compiler(c),
		rego.Store(e.store),
	).PrepareForEval(ctx)
}

// writeFileData replaces the data documents that came from files, leaving
// the directory snapshot alone.
func (e *Engine) writeFileData(ctx context.Context, docs map[string]any) error {
	return e.write(ctx, func(txn storage.Transaction) error {
		for _, k := range e.fileKeys {
			if _, still := docs[k]; !still {
				if err := e.store.Write(ctx, txn, storage.RemoveOp, storage.Path{k}, nil); err != nil && !storage.IsNotFound(err) {
					return err
				}
			}
		}
		keys := make([]string, 0, len(docs))
		for k, v := range docs {
			if err := e.store.Write(ctx, txn, storage.AddOp, storage.Path{k}, v); err != nil {
				return fmt.Errorf("write data document %q: %w", k, err)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.fileKeys = keys
		return nil
	})
}

func (e *Engine) current() *bundle {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.cur
}

// Eval evaluates an entry point. defined is false when the rule has no value
// for this input (OPA's "undefined").
func (e *Engine) Eval(ctx context.Context, entry string, input ast.Value, opts ...rego.EvalOption) (value any, defined bool, err error) {
	pq, ok := e.current().prepared[entry]
	if !ok {
		return nil, false, fmt.Errorf("unknown entry point %q", entry)
	}
	return evalPrepared(ctx, pq, input, opts)
}

// EvalValue is Eval with the answer as an AST value, as the policies produced
// it: no conversion to Go values (the decision path encodes it directly).
// Evaluation options are fixed for the hot path: no metrics, no instrumentation,
// rule indexing and early exit on (OPA's defaults), cancellation when ctx ends.
func (e *Engine) EvalValue(ctx context.Context, entry string, input ast.Value) (ast.Value, bool, error) {
	b := e.current()
	pq, ok := b.prepared[entry]
	if !ok {
		return nil, false, fmt.Errorf("unknown entry point %q", entry)
	}
	cancel := topdown.NewCancel()
	stop := context.AfterFunc(ctx, cancel.Cancel)
	defer stop()
	txn, err := e.store.NewTransaction(ctx)
	if err != nil {
		return nil, false, err
	}
	defer e.store.Abort(ctx, txn)
	caches := getCaches()
	defer putCaches(caches)
	if b.memo != nil {
		// (read under txn: no write commits while it is open)
		if gen := e.dataGen.Load(); gen%2 == 0 {
			if id := identityOf(input); id != nil {
				if s := b.memo.subject(id, gen); s != nil {
					caches.virtual.useMemo(b.memo, s)
				}
			}
		}
	}
	rs, err := pq.Eval(ctx,
		rego.EvalParsedInput(input),
		rego.EvalTransaction(txn),
		rego.EvalGenerateJSON(astResult),
		rego.EvalMetrics(noMetrics),
		rego.EvalExternalCancel(cancel),
		rego.EvalVirtualCache(&caches.virtual),
		rego.EvalBaseCache(&caches.base),
	)
	if err != nil {
		return nil, false, err
	}
	if s := caches.virtual.subject; s != nil && len(caches.virtual.pending) > 0 {
		s.add(caches.virtual.pending)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, false, nil
	}
	v, ok := rs[0].Expressions[0].Value.(ast.Value)
	if !ok {
		return nil, false, fmt.Errorf("entry point %q: unexpected result %T", entry, rs[0].Expressions[0].Value)
	}
	return v, true, nil
}

var noMetrics = metrics.NoOp()

var identityPath = ast.Ref{ast.StringTerm("context"), ast.StringTerm("identity")}

// identityOf is input.context.identity, or nil.
func identityOf(input ast.Value) ast.Value {
	if input == nil {
		return nil
	}
	v, err := input.Find(identityPath)
	if err != nil {
		return nil
	}
	return v
}

// astResult keeps a result as OPA's AST value instead of converting it to Go.
func astResult(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil }

func evalPrepared(ctx context.Context, pq rego.PreparedEvalQuery, input ast.Value, opts []rego.EvalOption) (any, bool, error) {
	opts = append(opts, rego.EvalParsedInput(input))
	rs, err := pq.Eval(ctx, opts...)
	if err != nil {
		return nil, false, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, false, nil
	}
	return rs[0].Expressions[0].Value, true, nil
}

// EvalPath evaluates data.<path...> for the generic Data API. Only paths that
// name rules (or packages of rules) of the loaded policies may be read: the
// directory snapshot and rules data are not served raw.
func (e *Engine) EvalPath(ctx context.Context, path []string, input ast.Value) (any, bool, error) {
	b := e.current()
	key := strings.Join(path, "/")
	if v, ok := b.paths.Load(key); ok {
		return evalPrepared(ctx, v.(rego.PreparedEvalQuery), input, nil)
	}
	ref := ast.Ref{ast.DefaultRootDocument}
	for _, p := range path {
		if p == "" {
			return nil, false, fmt.Errorf("%w: empty path segment", ErrUndefinedPath)
		}
		ref = append(ref, ast.StringTerm(p))
	}
	if len(path) == 0 || path[0] == DirectoryKey || len(b.compiler.GetRules(ref)) == 0 {
		return nil, false, fmt.Errorf("%w: %s", ErrUndefinedPath, ref)
	}
	pq, err := e.prepare(ctx, b.compiler, ref)
	if err != nil {
		return nil, false, err
	}
	b.paths.Store(key, pq)
	return evalPrepared(ctx, pq, input, nil)
}

// Explain evaluates an entry point with tracing and returns the value, the
// full trace and the rules whose bodies succeeded on the way (the ones that
// produced the decision), as "file:line head".
func (e *Engine) Explain(ctx context.Context, entry string, input ast.Value) (value any, defined bool, trace []*topdown.Event, rules []string, err error) {
	buf := topdown.NewBufferTracer()
	value, defined, err = e.Eval(ctx, entry, input, rego.EvalQueryTracer(buf))
	seen := map[string]bool{}
	for _, ev := range *buf {
		r, ok := ev.Node.(*ast.Rule)
		if !ok || ev.Op != topdown.ExitOp || r.Location == nil {
			continue
		}
		s := fmt.Sprintf("%s:%d %s", filepath.Base(r.Location.File), r.Location.Row, strings.SplitN(string(r.Location.Text), "\n", 2)[0])
		if !seen[s] {
			seen[s] = true
			rules = append(rules, s)
		}
	}
	return value, defined, *buf, rules, err
}

// Transact runs fn in a write transaction of the data store, so the next
// evaluation sees all of its writes or none. fn may write only under
// data.gatehouse (DirectoryKey): the rest of data comes from the policy files,
// and rules that depend on it alone are folded into constants when the bundle
// loads (fold.go).
func (e *Engine) Transact(ctx context.Context, fn func(storage.Store, storage.Transaction) error) error {
	return e.write(ctx, func(txn storage.Transaction) error { return fn(e.store, txn) })
}

// write runs fn in a write transaction, moving the data generation on: odd
// from before anything fn writes can be visible until the commit is over.
func (e *Engine) write(ctx context.Context, fn func(storage.Transaction) error) error {
	txn, err := e.store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		return err
	}
	e.dataGen.Add(1)
	defer e.dataGen.Add(1)
	if err := fn(txn); err != nil {
		e.store.Abort(ctx, txn)
		return err
	}
	return e.store.Commit(ctx, txn)
}

// Store is the data store, for read-only callers such as `data export`.
func (e *Engine) Store() storage.Store { return e.store }

// Deterministic reports whether the current bundle's answers depend only on
// input and data, so that they may be cached.
func (e *Engine) Deterministic() bool { return e.current().deterministic }

// deterministic walks every module for calls to built-ins OPA marks
// non-deterministic.
func deterministic(c *ast.Compiler) bool {
	ok := true
	for _, m := range c.Modules {
		ast.WalkExprs(m, func(x *ast.Expr) bool {
			if !x.IsCall() {
				return false
			}
			if b, found := ast.BuiltinMap[x.Operator().String()]; found && b.Nondeterministic {
				ok = false
			}
			return !ok
		})
	}
	return ok
}

// Modules counts the modules of the current bundle.
func (e *Engine) Modules() int { return e.current().files }

// statDir fails early with a clear message when the directory is missing.
func statDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("policies directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("policies directory %s is not a directory", dir)
	}
	return nil
}
