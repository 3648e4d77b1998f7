package policy

// Constant folding of the rules that depend on the policy files alone.
//
// Trino's rules.json is data that changes only when the bundle is reloaded, yet
// OPA evaluates every rule afresh for each query: reading rules.json, checking
// every rule's regexes and fields and normalising them (rules.rego) would be
// paid by every decision. So when a bundle loads, after its data files are in
// the store, the engine finds the complete rules whose value cannot depend on
// the request or the directory — no reference to input, to data.gatehouse or
// to any data it cannot see statically, no `with`, no non-deterministic
// built-in, anywhere in the rules they depend on — evaluates each once, and
// compiles the bundle again with each such rule replaced by its value (a
// literal, see foldedRule; put in after compiling, see foldPlaceholder). The
// files on disk are not changed: stock OPA and `opa test` evaluate them as
// written.
//
// The answers are those of the unfolded bundle by construction (the value is
// what OPA computes for that rule on every query, since nothing it reads can
// change until the next reload, which folds again), and the differential test
// checks gatehouse against stock OPA running the unfolded files. A rule that is
// undefined or fails to evaluate is left as it is, and so is the whole bundle
// if the folded modules do not compile: folding is an optimisation only.

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// foldBundle folds b in place when it can; modules are the parsed (not
// compiled) modules b.compiler was built from. The data files must already be
// in the store. Errors are logged and leave b unfolded.
func (e *Engine) foldBundle(ctx context.Context, b *bundle, modules map[string]*ast.Module) {
	c, names, err := e.fold(ctx, b.compiler, modules)
	if err == nil && len(names) > 0 {
		folded := &bundle{compiler: c, files: b.files, loadedAt: b.loadedAt}
		if err = e.prepareBundle(ctx, folded); err == nil {
			b.compiler, b.prepared, b.deterministic, b.memo = folded.compiler, folded.prepared, folded.deterministic, folded.memo
			b.folded, b.foldedNames = len(names), names
			return
		}
	}
	if err != nil {
		e.log.Warn("policy constant folding skipped; every rule is evaluated per request", "err", err)
	}
}

// isConstant: `name := <ground value>` with no body, already a constant.
func isConstant(r *ast.Rule) bool {
	return r.Else == nil && r.Head.Value != nil && r.Head.Value.IsGround() &&
		len(r.Body) == 1 && r.Body[0].Equal(ast.NewExpr(ast.BooleanTerm(true)))
}

// fold returns a compiler of modules with the foldable rules of c replaced by
// their values, and how many rules were replaced.
// fold also returns the names (paths) of the rules it folded.
func (e *Engine) fold(ctx context.Context, c *ast.Compiler, modules map[string]*ast.Module) (*ast.Compiler, []string, error) {
	a := &foldAnalysis{c: c, static: map[*ast.Rule]bool{}}
	if a.usesWith() {
		return nil, nil, nil // `with` can replace what a rule reads: fold nothing
	}
	// Candidates: every complete, argument-free, single-name rule whose
	// definitions are all static (and that is not a constant already).
	byPath := map[string]ast.Ref{}
	var order []string
	for _, m := range sortedModules(c.Modules) {
		for _, r := range m.Rules {
			if len(r.Head.Args) > 0 || r.Head.RuleKind() != ast.SingleValue || len(r.Head.Ref()) != 1 {
				continue
			}
			path := r.Ref()
			key := path.String()
			if _, seen := byPath[key]; seen {
				continue
			}
			defs := c.GetRulesExact(path)
			ok := len(defs) > 0 && !(len(defs) == 1 && isConstant(defs[0]))
			for _, d := range defs {
				if len(d.Head.Args) > 0 || d.Head.RuleKind() != ast.SingleValue || !a.isStatic(d) {
					ok = false
					break
				}
			}
			if !ok {
				byPath[key] = nil
				continue
			}
			byPath[key] = path
			order = append(order, key)
		}
	}
	if len(order) == 0 {
		return nil, nil, nil
	}

	txn, err := e.store.NewTransaction(ctx)
	if err != nil {
		return nil, nil, err
	}
	values := ast.NewObject()
	// One virtual cache for all of them: the rules share their dependencies
	// (every table index reads the normalised table rules), which would
	// otherwise be evaluated again for each. Nothing here reads input.
	vc := topdown.NewVirtualCache()
	for _, key := range order {
		v, err := evalRef(ctx, c, e.store, txn, vc, byPath[key])
		if err != nil {
			// OPA caches a value before it finds a conflict: start afresh, so
			// that no later rule is folded over a value that was an error
			vc = topdown.NewVirtualCache()
		}
		if err != nil || v == nil {
			continue // undefined or an error: evaluated per request, as written
		}
		values.Insert(ast.StringTerm(key), v)
	}
	e.store.Abort(ctx, txn)
	if values.Len() == 0 {
		return nil, nil, nil
	}

	folded := make(map[string]*ast.Module, len(modules))
	done := map[string]bool{}
	names := make([]string, 0, len(modules))
	for name := range modules {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		mc := modules[name].Copy()
		rules := mc.Rules[:0]
		for _, r := range mc.Rules {
			if len(r.Head.Args) > 0 || r.Head.RuleKind() != ast.SingleValue || len(r.Head.Ref()) != 1 {
				rules = append(rules, r)
				continue
			}
			key := mc.Package.Path.Extend(r.Head.Ref()).String()
			if values.Get(ast.StringTerm(key)) == nil {
				rules = append(rules, r)
				continue
			}
			if done[key] {
				continue // another definition of a folded rule
			}
			done[key] = true
			rules = append(rules, foldedRule(mc, r, foldPlaceholder))
		}
		mc.Rules = rules
		folded[name] = mc
	}
	fc := ast.NewCompiler().WithEnablePrintStatements(false).WithSkipStages(ast.StageCheckTypes)
	if fc.Compile(folded); fc.Failed() {
		return nil, nil, fmt.Errorf("folded modules do not compile: %w", fc.Errors)
	}
	if err := setFoldedValues(fc, values, done); err != nil {
		return nil, nil, err
	}
	foldedNames := make([]string, 0, len(done))
	for k := range done {
		foldedNames = append(foldedNames, k)
	}
	sort.Strings(foldedNames)
	return fc, foldedNames, nil
}

// foldPlaceholder stands for a folded value while the folded modules compile.
//
// The values are what the folded bundle is made of (rules on 1,000 tables:
// ~25,000 distinct terms), and compiling them as literals leaves them as
// trees of several copies' worth of terms, each stage rewriting its own and
// the rule index keeping another: ~350,000 objects that live as long as the
// bundle and that every garbage collection marks while decisions wait. So
// the modules are compiled with this in their place, and setFoldedValues
// then puts each value in, its identical parts shared (termSharer). The
// compiler does nothing with a ground head value but carry it: the rule
// graph follows references (a value has none), the index keeps the head
// value only to tell rules of one path with different values apart (a
// folded rule is the only rule of its path), and early exit is decided when
// a query runs, from the rule's value then.
var foldPlaceholder = ast.StringTerm("gatehouse: folded value")

// setFoldedValues puts the values of the folded rules (by path) into c in
// place of foldPlaceholder.
func setFoldedValues(c *ast.Compiler, values ast.Object, folded map[string]bool) error {
	var s termSharer
	n := 0
	for _, m := range c.Modules {
		for _, r := range m.Rules {
			if len(r.Head.Args) > 0 || len(r.Head.Ref()) != 1 {
				continue
			}
			key := m.Package.Path.Extend(r.Head.Ref()).String()
			if !folded[key] {
				continue
			}
			v := values.Get(ast.StringTerm(key))
			if v == nil || r.Head.Value == nil || !r.Head.Value.Equal(foldPlaceholder) {
				return fmt.Errorf("folded rule %s compiled to %v, not the placeholder", key, r.Head.Value)
			}
			r.Head.Value = &ast.Term{Value: s.share(v).Value, Location: r.Head.Value.Location}
			n++
		}
	}
	if n != len(folded) {
		return fmt.Errorf("%d folded rules compiled, of %d", n, len(folded))
	}
	return nil
}

// termSharer hash-conses ground values: share returns a term identical to
// t (the same JSON, number spellings included: OPA's Equal holds 1 equal to
// 1.0) built of the first identical parts it was given: every "hive", every
// ["SELECT"], every rule object listed under several tables is one term.
// Shared terms are safe here because nothing mutates a compiled rule's
// value: evaluation only reads it. Each part is known by a signature of its
// kind and its own parts' ids.
type termSharer struct {
	ids   map[*ast.Term]int
	terms map[string]*ast.Term
	sig   []byte
}

func (s *termSharer) share(t *ast.Term) *ast.Term {
	if s.ids == nil {
		s.ids, s.terms = map[*ast.Term]int{}, map[string]*ast.Term{}
	}
	var parts []*ast.Term
	sig := s.sig[:0]
	switch v := t.Value.(type) {
	case *ast.Array:
		parts = make([]*ast.Term, v.Len())
		for i := range parts {
			parts[i] = s.share(v.Elem(i))
		}
		sig = append(sig, 'a')
	case ast.Object:
		parts = make([]*ast.Term, 0, 2*v.Len())
		v.Foreach(func(k, x *ast.Term) { parts = append(parts, s.share(k), s.share(x)) })
		sig = append(sig, 'o')
	case ast.Set:
		parts = make([]*ast.Term, 0, v.Len())
		v.Foreach(func(x *ast.Term) { parts = append(parts, s.share(x)) })
		sig = append(sig, 'e')
	case ast.String:
		sig = append(append(sig, 's'), v...)
	case ast.Number:
		sig = append(append(sig, 'n'), v...)
	case ast.Boolean:
		sig = strconv.AppendBool(append(sig, 'b'), bool(v))
	case ast.Null:
		sig = append(sig, 'z')
	default:
		return t // not a value: evaluation results never are
	}
	// (the children's calls above are done with s.sig before it is reused)
	for _, p := range parts {
		sig = strconv.AppendInt(append(sig, ','), int64(s.ids[p]), 10)
	}
	s.sig = sig
	if x, ok := s.terms[string(sig)]; ok {
		return x
	}
	var out *ast.Term
	switch t.Value.(type) {
	case *ast.Array:
		out = ast.NewTerm(ast.NewArray(parts...))
	case ast.Object:
		items := make([][2]*ast.Term, len(parts)/2)
		for i := range items {
			items[i] = [2]*ast.Term{parts[2*i], parts[2*i+1]}
		}
		out = ast.NewTerm(ast.NewObject(items...))
	case ast.Set:
		out = ast.NewTerm(ast.NewSet(parts...))
	default:
		out = ast.NewTerm(t.Value)
	}
	s.ids[out] = len(s.ids) + 1
	s.terms[string(sig)] = out
	return out
}

// foldedRule is `name := value`, at the location of the rule it replaces.
// The folded modules are compiled without OPA's type checker: it would type
// the rules reading the rule from the literal (and reject, say, iterating over
// a list that happens to be empty) where it typed them as reading data before
// — the same modules passed it unfolded, and types do not change how a query
// evaluates.
func foldedRule(m *ast.Module, r *ast.Rule, value *ast.Term) *ast.Rule {
	loc := r.Location
	name := r.Head.Ref()[0].Value.(ast.Var)
	head := ast.NewHead(name, nil, value.Copy().SetLocation(loc))
	head.Assign = true
	head.Location = loc
	head.Reference[0].Location = loc
	body := ast.NewBody(ast.NewExpr(ast.BooleanTerm(true).SetLocation(loc)).SetLocation(loc))
	return &ast.Rule{Head: head, Body: body, Module: m, Location: loc}
}

// evalRef evaluates one document with no input.
func evalRef(ctx context.Context, c *ast.Compiler, store storage.Store, txn storage.Transaction, vc topdown.VirtualCache, ref ast.Ref) (*ast.Term, error) {
	x := ast.VarTerm("__gatehouse_fold__")
	body, err := c.QueryCompiler().Compile(ast.NewBody(ast.Equality.Expr(x, ast.NewTerm(ref))))
	if err != nil {
		return nil, err
	}
	q := topdown.NewQuery(body).WithCompiler(c).WithStore(store).WithTransaction(txn).WithVirtualCache(vc)
	var out *ast.Term
	n := 0
	err = q.Iter(ctx, func(qr topdown.QueryResult) error {
		n++
		out = qr[x.Value.(ast.Var)]
		return nil
	})
	if err != nil || n != 1 || out == nil || !out.IsGround() {
		return nil, err
	}
	return out, nil
}

// foldAnalysis decides which rules are static: their value depends only on
// the policy files.
type foldAnalysis struct {
	c      *ast.Compiler
	static map[*ast.Rule]bool // memo; false while a rule is being analysed
}

// usesWith reports whether any module uses `with`.
func (a *foldAnalysis) usesWith() bool {
	found := false
	for _, m := range a.c.Modules {
		ast.WalkExprs(m, func(x *ast.Expr) bool {
			if len(x.With) > 0 {
				found = true
			}
			return found
		})
		if found {
			return true
		}
	}
	return false
}

func (a *foldAnalysis) isStatic(r *ast.Rule) bool {
	if s, seen := a.static[r]; seen {
		return s
	}
	a.static[r] = false // recursion is not allowed in Rego; be safe anyway
	s := a.analyse(r)
	a.static[r] = s
	return s
}

func (a *foldAnalysis) analyse(r *ast.Rule) bool {
	ok := true
	var deps []*ast.Rule
	var visit func(x any)
	visit = func(x any) {
		ast.WalkTerms(x, func(t *ast.Term) bool {
			if !ok {
				return true
			}
			switch v := t.Value.(type) {
			case ast.Var:
				// input or data as a whole
				if v.Equal(ast.InputRootDocument.Value) || v.Equal(ast.DefaultRootDocument.Value) {
					ok = false
				}
			case ast.Ref:
				rules, static := a.refDeps(v)
				if !static {
					ok = false
					return true
				}
				deps = append(deps, rules...)
				for _, t := range v[1:] {
					visit(t)
				}
				return true
			case ast.Call:
				if op, isRef := v[0].Value.(ast.Ref); !isRef || !a.deterministicOperator(op) {
					ok = false
				}
			}
			return false
		})
	}
	visit(r)
	if !ok {
		return false
	}
	ast.WalkExprs(r, func(x *ast.Expr) bool {
		if x.IsCall() && !a.deterministicOperator(x.Operator()) {
			ok = false
		}
		return !ok
	})
	if !ok {
		return false
	}
	for _, d := range deps {
		if !a.isStatic(d) {
			return false
		}
	}
	return true
}

// refDeps classifies a reference: the rules it may read, and whether it is
// static (no input, no data that is not a policy file's).
func (a *foldAnalysis) refDeps(ref ast.Ref) ([]*ast.Rule, bool) {
	head := ref[0].Value
	switch {
	case head.Compare(ast.InputRootDocument.Value) == 0:
		return nil, false
	case head.Compare(ast.DefaultRootDocument.Value) != 0:
		return nil, true // a local variable or a built-in's name
	}
	prefix := ref.GroundPrefix()
	if len(prefix) < 2 {
		return nil, false // all of data, or data[x]
	}
	if k, ok := prefix[1].Value.(ast.String); !ok || string(k) == DirectoryKey {
		return nil, false // the directory, written at run time
	}
	return a.c.GetRules(prefix), true
}

// deterministicOperator: a call of a rule (a data reference, checked as a
// dependency) or of a built-in OPA marks deterministic.
func (a *foldAnalysis) deterministicOperator(op ast.Ref) bool {
	if len(op) == 0 {
		return false
	}
	if op[0].Value.Compare(ast.DefaultRootDocument.Value) == 0 {
		return true
	}
	b, found := ast.BuiltinMap[op.String()]
	return found && !b.Nondeterministic
}

func sortedModules(ms map[string]*ast.Module) []*ast.Module {
	names := make([]string, 0, len(ms))
	for n := range ms {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*ast.Module, len(names))
	for i, n := range names {
		out[i] = ms[n]
	}
	return out
}

// Folded reports how many rules of the current bundle were folded into
// constants when it loaded.
func (e *Engine) Folded() int { return e.current().folded }
