package policy

import (
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Per-evaluation caches for the decision path.
//
// OPA memoises every rule and function result of a query in a virtual cache,
// and every document it reads from the store in a base cache. Its default
// implementations are tries with a hash map per node, built afresh for every
// query: about a third of the allocations of a typical decision went into
// them. These implementations keep the same semantics in flat, reusable
// storage, recycled through a pool: a query's caches start empty, exactly as
// OPA's do, and are cleared before they are reused.

// evalCaches is one evaluation's pair of caches.
type evalCaches struct {
	virtual virtualCache
	base    baseCache
}

var cachePool = sync.Pool{New: func() any {
	c := &evalCaches{}
	c.virtual.reset()
	return c
}}

func getCaches() *evalCaches { return cachePool.Get().(*evalCaches) }

// putCaches clears c (dropping every reference it holds) and returns it to
// the pool. Caches that grew unusually large are dropped instead.
func putCaches(c *evalCaches) {
	if len(c.virtual.frames) > 8 || cap(c.virtual.frames[0].entries) > 4096 || cap(c.base.entries) > 256 || cap(c.virtual.pending) > 1024 {
		return
	}
	c.virtual.reset()
	c.base.reset()
	cachePool.Put(c)
}

// virtualCache implements topdown.VirtualCache: a stack of frames (one more
// per `with`), each a map from a reference's hash to a chain of entries.
// Get and Put look at the top frame only, as OPA's does.
type virtualCache struct {
	frames []vcFrame

	// The identity memo (memo.go), when the query uses it: results of
	// memoisable rules are looked up in subject, and those computed are
	// collected in pending, for the caller to keep if the query succeeds.
	memo    *subjectMemo
	subject *subjectEntries
	pending []memoEntry
}

// useMemo makes the query's cache consult and collect results for subject.
func (c *virtualCache) useMemo(m *subjectMemo, s *subjectEntries) {
	c.memo, c.subject = m, s
}

type vcFrame struct {
	index   map[uint64]int32
	entries []vcEntry
	terms   []*ast.Term // backing store for the keys
}

type vcEntry struct {
	key       ast.Ref
	value     *ast.Term
	undefined bool
	next      int32 // previous entry with the same hash, or -1
}

var _ topdown.VirtualCache = (*virtualCache)(nil)

func (c *virtualCache) reset() {
	for i := range c.frames {
		f := &c.frames[i]
		clear(f.index)
		clear(f.entries)
		f.entries = f.entries[:0]
		clear(f.terms)
		f.terms = f.terms[:0]
	}
	if len(c.frames) == 0 {
		c.frames = append(c.frames, vcFrame{index: make(map[uint64]int32, 64)})
	}
	c.frames = c.frames[:1]
	c.memo, c.subject = nil, nil
	clear(c.pending)
	c.pending = c.pending[:0]
}

func (c *virtualCache) Push() {
	if len(c.frames) < cap(c.frames) {
		c.frames = c.frames[:len(c.frames)+1]
		if c.frames[len(c.frames)-1].index == nil {
			c.frames[len(c.frames)-1].index = map[uint64]int32{}
		}
		return
	}
	c.frames = append(c.frames, vcFrame{index: map[uint64]int32{}})
}

func (c *virtualCache) Pop() {
	f := &c.frames[len(c.frames)-1]
	clear(f.index)
	clear(f.entries)
	f.entries = f.entries[:0]
	clear(f.terms)
	f.terms = f.terms[:0]
	c.frames = c.frames[:len(c.frames)-1]
}

func refHash(ref ast.Ref) uint64 {
	h := uint64(len(ref))
	for _, t := range ref {
		h = h*31 + uint64(t.Hash())
	}
	return h
}

func (f *vcFrame) find(ref ast.Ref, h uint64) int32 {
	i, ok := f.index[h]
	if !ok {
		return -1
	}
	for ; i >= 0; i = f.entries[i].next {
		if f.entries[i].key.Equal(ref) {
			return i
		}
	}
	return -1
}

func (c *virtualCache) Get(ref ast.Ref) (*ast.Term, bool) {
	f := &c.frames[len(c.frames)-1]
	h := refHash(ref)
	i := f.find(ref, h)
	if i < 0 {
		if c.subject != nil && len(c.frames) == 1 && c.memo.memoisable(ref) {
			v, undefined, _ := c.subject.get(ref, h)
			return v, undefined
		}
		return nil, false
	}
	e := &f.entries[i]
	if e.undefined {
		return nil, true
	}
	return e.value, false
}

func (c *virtualCache) Put(ref ast.Ref, value *ast.Term) {
	f := &c.frames[len(c.frames)-1]
	h := refHash(ref)
	if i := f.find(ref, h); i >= 0 {
		e := &f.entries[i]
		if value != nil {
			e.value = value
		} else {
			e.undefined = true
		}
		return
	}
	// The caller may reuse ref's backing array: keep a copy.
	start := len(f.terms)
	f.terms = append(f.terms, ref...)
	key := ast.Ref(f.terms[start:len(f.terms):len(f.terms)])
	next, ok := f.index[h]
	if !ok {
		next = -1
	}
	f.entries = append(f.entries, vcEntry{key: key, value: value, undefined: value == nil, next: next})
	f.index[h] = int32(len(f.entries) - 1)
	if c.subject != nil && len(c.frames) == 1 && c.memo.memoisable(key) {
		// (the frame's key storage is recycled with the cache: copy it)
		c.pending = append(c.pending, memoEntry{key: append(ast.Ref(nil), key...), value: value, undefined: value == nil})
	}
}

func (c *virtualCache) Keys() []ast.Ref {
	f := &c.frames[len(c.frames)-1]
	var keys []ast.Ref
	for _, e := range f.entries {
		if e.value != nil {
			keys = append(keys, e.key)
		}
	}
	return keys
}

// baseCache implements topdown.BaseCache: documents read from the store, by
// the reference they were read at. A reference under a cached one is answered
// from the cached document; putting a document drops those cached under it.
type baseCache struct {
	entries []bcEntry
}

type bcEntry struct {
	ref   ast.Ref
	value ast.Value
}

var _ topdown.BaseCache = (*baseCache)(nil)

func (c *baseCache) reset() {
	clear(c.entries)
	c.entries = c.entries[:0]
}

// Get answers from the entry with the shortest reference that is a prefix of
// ref (the first one a walk from the root would meet).
func (c *baseCache) Get(ref ast.Ref) ast.Value {
	best := -1
	for i := range c.entries {
		r := c.entries[i].ref
		if len(r) <= len(ref) && (best < 0 || len(r) < len(c.entries[best].ref)) && prefixOf(r, ref) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	e := &c.entries[best]
	if len(e.ref) == len(ref) {
		return e.value
	}
	v, err := e.value.Find(ref[len(e.ref):])
	if err != nil {
		return nil
	}
	return v
}

func (c *baseCache) Put(ref ast.Ref, value ast.Value) {
	kept := c.entries[:0]
	for _, e := range c.entries {
		if !prefixOf(ref, e.ref) { // e is not under ref
			kept = append(kept, e)
		}
	}
	clear(c.entries[len(kept):])
	c.entries = append(kept, bcEntry{ref: append(ast.Ref(nil), ref...), value: value})
}

// prefixOf: p is a prefix of ref (or equal to it).
func prefixOf(p, ref ast.Ref) bool {
	if len(p) > len(ref) {
		return false
	}
	for i := range p {
		if ast.Compare(p[i].Value, ref[i].Value) != 0 {
			return false
		}
	}
	return true
}
