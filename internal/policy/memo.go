package policy

// Memoising, across queries, the rules that depend only on who is asking.
//
// OPA memoises rule and function results within one query (the virtual
// cache) and forgets them when it ends. Trino asks many questions per query
// for the same session user — ExecuteQuery, AccessCatalog, FilterCatalogs,
// SelectFromColumns, FilterColumns, ... — and most of each answer's cost is
// resolving that user (directory lookup, groups, permissions, attributes) and
// filtering each rules.json section down to the rules that apply to them, then
// matching the catalog and table against those. None of it depends on the
// operation or the resource.
//
// When a bundle loads, the engine finds the rules (and functions) whose value
// can depend only on input.context.identity, on data and on their arguments:
// every input reference anywhere in the rules they depend on starts with
// input.context.identity, none reads input or data as a whole, no built-in
// they call is non-deterministic, and no module uses `with`. Their results,
// as OPA computed them in a query that succeeded, are kept per identity
// (the value of input.context.identity) and answer later queries with the
// same identity in place of evaluating the rule again.
//
// The answers are those OPA would compute: the value is a function of what the
// analysis allows it to read, and the memo is dropped whenever any of that can
// change — a new bundle has its own memo, and every write to the data store
// (directory sync, policy data files) moves the data generation on. The
// generation is read inside the query's own read transaction, under which no
// write can commit; a write in progress makes it odd and the query then runs
// without the memo. Results of a query that fails are never kept.
//
// Memory is bounded: at most memoSubjects identities (a shard that fills up is
// emptied) and memoEntries results per identity (later ones are not kept).

import (
	"encoding/json"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

const (
	memoShards = 16
	// Identities kept, over all shards: Trino asks a dozen questions per
	// query within a second or so, and 512 covers a busy cluster's active
	// users. Each one kept is some hundred live objects every collection
	// marks while decisions wait: under a load of ever-new users (issue 7's
	// allow mix draws each query's user from 100,000) 2,048 kept up to
	// ~300,000 objects that were never asked for again once their query
	// was done (8,192 kept ~100 MB more).
	memoSubjects = 512
	memoEntries  = 512 // results kept per identity
)

// subjectMemo is one bundle's memo.
type subjectMemo struct {
	paths  map[uint64][]ast.Ref // memoisable rule paths, by refPrefixHash
	shards [memoShards]memoShard
}

type memoShard struct {
	mu   sync.Mutex
	gen  uint64
	subs map[uint64][]*subjectEntries // by identity hash
	n    int
}

// subjectEntries are the results kept for one identity.
type subjectEntries struct {
	id ast.Value
	mu sync.RWMutex
	m  map[uint64][]memoEntry // by refHash of the key
	n  int
}

type memoEntry struct {
	key       ast.Ref
	value     *ast.Term
	undefined bool
}

// newSubjectMemo analyses c; nil when nothing can be memoised.
func newSubjectMemo(c *ast.Compiler) *subjectMemo {
	a := &scopeAnalysis{c: c, scoped: map[*ast.Rule]bool{}}
	if (&foldAnalysis{c: c}).usesWith() {
		return nil // `with` can replace input or data under a rule: memoise nothing
	}
	// The ground prefix of every rule head; a prefix is memoisable when every
	// rule it covers is identity-scoped.
	seen := map[string]bool{}
	m := &subjectMemo{paths: map[uint64][]ast.Ref{}}
	for _, mod := range sortedModules(c.Modules) {
		for _, r := range mod.Rules {
			p := mod.Package.Path.Extend(r.Head.Ref().GroundPrefix())
			key := p.String()
			if seen[key] {
				continue
			}
			seen[key] = true
			rules := c.GetRules(p)
			ok := len(rules) > 0
			for _, dr := range rules {
				if !a.isScoped(dr) {
					ok = false
					break
				}
			}
			if ok {
				h := refPrefixHashes(p)[len(p)-1]
				m.paths[h] = append(m.paths[h], p)
			}
		}
	}
	if len(m.paths) == 0 {
		return nil
	}
	return m
}

// size is the number of memoisable rule paths.
func (m *subjectMemo) size() int {
	if m == nil {
		return 0
	}
	n := 0
	for _, ps := range m.paths {
		n += len(ps)
	}
	return n
}

// refPrefixHashes returns the hash of every prefix of ref: [i] is ref[:i+1]'s.
func refPrefixHashes(ref ast.Ref) []uint64 {
	out := make([]uint64, len(ref))
	h := uint64(0x9e3779b97f4a7c15)
	for i, t := range ref {
		h = h*1099511628211 ^ uint64(t.Hash())
		out[i] = h
	}
	return out
}

// memoisable: key is a cache key of a memoisable rule or function — a data
// reference under one, or a call of one ([function ref, args...]) — and ground.
func (m *subjectMemo) memoisable(key ast.Ref) bool {
	if len(key) == 0 {
		return false
	}
	path := key
	fn, _ := key[0].Value.(ast.Ref)
	if fn != nil {
		path = fn
	} else if !key[0].Equal(ast.DefaultRootDocument) {
		return false
	}
	if !m.underPath(path) {
		return false
	}
	for _, t := range key[1:] { // (the head of a data reference is the variable data)
		if !t.IsGround() {
			return false
		}
	}
	return fn == nil || key[0].IsGround()
}

func (m *subjectMemo) underPath(ref ast.Ref) bool {
	h := uint64(0x9e3779b97f4a7c15)
	for i, t := range ref {
		h = h*1099511628211 ^ uint64(t.Hash())
		if i < 1 {
			continue
		}
		for _, p := range m.paths[h] {
			if len(p) == i+1 && p.Equal(ref[:i+1]) {
				return true
			}
		}
	}
	return false
}

// subject returns the entries of identity id at data generation gen, or nil
// when the memo has moved on to a later generation.
func (m *subjectMemo) subject(id ast.Value, gen uint64) *subjectEntries {
	h := uint64(id.Hash())
	s := &m.shards[h%memoShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.gen > gen:
		return nil
	case s.gen < gen || s.n >= memoSubjects/memoShards:
		s.gen, s.subs, s.n = gen, nil, 0
	}
	for _, e := range s.subs[h] {
		if e.id.Compare(id) == 0 {
			return e
		}
	}
	if s.subs == nil {
		s.subs = map[uint64][]*subjectEntries{}
	}
	e := &subjectEntries{id: detach(ast.NewTerm(id)).Value, m: map[uint64][]memoEntry{}}
	s.subs[h] = append(s.subs[h], e)
	s.n++
	return e
}

func (e *subjectEntries) get(key ast.Ref, h uint64) (value *ast.Term, undefined, found bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, x := range e.m[h] {
		if x.key.Equal(key) {
			return x.value, x.undefined, true
		}
	}
	return nil, false, false
}

// add keeps the results of a query that succeeded.
func (e *subjectEntries) add(puts []memoEntry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range puts {
		if e.n >= memoEntries {
			return
		}
		h := refHash(p.key)
		dup := false
		for _, x := range e.m[h] {
			if x.key.Equal(p.key) {
				dup = true
				break
			}
		}
		if !dup {
			e.m[h] = append(e.m[h], memoEntry{key: detachScalars(p.key), value: detachValue(p.value), undefined: p.undefined})
			e.n++
		}
	}
}

// What the memo keeps must not hold on to the request it came from: terms
// parsed from a request come from blocks shared with the rest of the request
// and their strings point into its body, so keeping one of them for as long
// as the memo lives would keep the whole request. The identity is copied
// whole (a handful of terms, once per identity); results and their keys only
// where they are scalars (the arguments of a call: catalog, schema, table
// names), which is where request terms end up. Composite results are built
// by the evaluator or come from the policy's data; copying them would cost
// more than it saves.
func detachScalar(t *ast.Term) *ast.Term {
	switch t.Value.(type) {
	case ast.String, ast.Number:
		return detach(t)
	}
	return t
}

func detachScalars(r ast.Ref) ast.Ref {
	out := make(ast.Ref, len(r))
	for i, t := range r {
		out[i] = detachScalar(t)
	}
	return out
}

// detach deep-copies t, strings included.
func detach(t *ast.Term) *ast.Term {
	if t == nil {
		return nil
	}
	switch v := t.Value.(type) {
	case ast.String:
		return ast.StringTerm(strings.Clone(string(v)))
	case ast.Number:
		return ast.NumberTerm(json.Number(strings.Clone(string(v))))
	case ast.Boolean, ast.Null:
		return ast.NewTerm(v)
	case *ast.Array:
		elems := make([]*ast.Term, v.Len())
		for i := range elems {
			elems[i] = detach(v.Elem(i))
		}
		return ast.ArrayTerm(elems...)
	case ast.Set:
		elems := make([]*ast.Term, 0, v.Len())
		v.Foreach(func(x *ast.Term) { elems = append(elems, detach(x)) })
		return ast.SetTerm(elems...)
	case ast.Object:
		items := make([][2]*ast.Term, 0, v.Len())
		v.Foreach(func(k, x *ast.Term) { items = append(items, ast.Item(detach(k), detach(x))) })
		return ast.ObjectTerm(items...)
	case ast.Ref:
		return ast.RefTerm(detachRef(v)...)
	case ast.Var:
		return ast.VarTerm(strings.Clone(string(v)))
	default: // comprehensions and calls never appear in values or keys
		return t.Copy()
	}
}

func detachValue(t *ast.Term) *ast.Term {
	if t == nil {
		return nil
	}
	return detachScalar(t)
}

func detachRef(r ast.Ref) ast.Ref {
	out := make(ast.Ref, len(r))
	for i, t := range r {
		out[i] = detach(t)
	}
	return out
}

// scopeAnalysis decides which rules are identity-scoped: their value depends
// only on input.context.identity, data and their arguments.
type scopeAnalysis struct {
	c      *ast.Compiler
	scoped map[*ast.Rule]bool // memo; false while a rule is being analysed
}

var identityRef = ast.MustParseRef("input.context.identity")

func (a *scopeAnalysis) isScoped(r *ast.Rule) bool {
	if s, seen := a.scoped[r]; seen {
		return s
	}
	a.scoped[r] = false
	s := a.analyse(r)
	a.scoped[r] = s
	return s
}

func (a *scopeAnalysis) analyse(r *ast.Rule) bool {
	ok := true
	var deps []*ast.Rule
	fold := &foldAnalysis{c: a.c}
	var visit func(x any)
	visit = func(x any) {
		ast.WalkTerms(x, func(t *ast.Term) bool {
			if !ok {
				return true
			}
			switch v := t.Value.(type) {
			case ast.Var:
				if v.Equal(ast.InputRootDocument.Value) || v.Equal(ast.DefaultRootDocument.Value) {
					ok = false // input or data as a whole
				}
			case ast.Ref:
				rules, scoped := a.refDeps(v)
				if !scoped {
					ok = false
					return true
				}
				deps = append(deps, rules...)
				for _, t := range v[1:] {
					visit(t)
				}
				return true
			case ast.Call:
				if op, isRef := v[0].Value.(ast.Ref); !isRef || !fold.deterministicOperator(op) {
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
		if x.IsCall() && !fold.deterministicOperator(x.Operator()) {
			ok = false
		}
		return !ok
	})
	if !ok {
		return false
	}
	for _, d := range deps {
		if !a.isScoped(d) {
			return false
		}
	}
	return true
}

// refDeps classifies a reference: the rules it may read, and whether it is
// identity-scoped (input only under input.context.identity; data only below
// its first level, statically).
func (a *scopeAnalysis) refDeps(ref ast.Ref) ([]*ast.Rule, bool) {
	head := ref[0].Value
	prefix := ref.GroundPrefix()
	switch {
	case head.Compare(ast.InputRootDocument.Value) == 0:
		return nil, len(prefix) >= len(identityRef) && prefix[:len(identityRef)].Equal(identityRef)
	case head.Compare(ast.DefaultRootDocument.Value) != 0:
		return nil, true // a local variable or a built-in's name
	}
	if len(prefix) < 2 {
		return nil, false // all of data, or data[x]
	}
	return a.c.GetRules(prefix), true
}
