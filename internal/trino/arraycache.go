package trino

import (
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// arrayCache keeps the large arrays of recent bodies (a batch's
// filterResources) whole, by their bytes: Trino sends the same list of tables
// again for every user who runs SHOW TABLES or reads information_schema, and
// a later body that carries the same bytes at the same depth then takes the
// array built the first time, after one comparison of its bytes, instead of
// reading ten thousand items again. (itemCache, below it, still serves arrays
// that differ from a kept one in a few items.)
//
// A JSON array is self-delimiting, so a body whose bytes at the array's start
// equal a kept array's bytes holds exactly that array there, valid, with the
// same value. Kept arrays are shared read-only, as itemCache's items are.
//
// It also remembers which resource kinds a kept array's items were found well
// formed for (checkShape), so a repeated batch is not checked item by item
// again either: the check depends on the items and the kind only.
type arrayCache struct {
	mu      sync.RWMutex
	byHead  map[arrayHead][]*keptArray
	byArray map[*ast.Array]*keptArray
	order   []*keptArray // oldest first
	bytes   int
	max     int
}

// keptArray is one array: its bytes (from '[' to ']'; a slice of the body it
// was read from, whose strings its elements share), the depth it was read at
// (the nesting limit depends on it) and its value.
type keptArray struct {
	src     string
	depth   int
	term    *ast.Term
	checked map[string]bool // resource kinds its items were found well formed for (under arrayCache.mu)
}

// arrayHead is the index key: an array's first bytes and depth.
type arrayHead struct {
	depth int
	head  string
}

const (
	// arrayCacheMaxBytes bounds the bytes of all kept arrays: five batches of
	// 10,000 tables. What they hold is larger: ~1 kB of AST per table item,
	// mostly shared with itemCache, but an array keeps its items alive after
	// itemCache has let them go, so the worst case is some 50 MB of heap.
	arrayCacheMaxBytes = 4 << 20
	arrayHeadBytes     = 256 // an array is looked up by its first bytes; shorter ones are not kept
)

// arrayCacheMinBytes is the size from which arrays are kept: smaller ones are
// read again (the body is too). At least arrayHeadBytes. (A variable for the
// tests.)
var arrayCacheMinBytes = 64 << 10

var arrays = newArrayCache(arrayCacheMaxBytes)

func newArrayCache(max int) *arrayCache {
	return &arrayCache{byHead: map[arrayHead][]*keptArray{}, byArray: map[*ast.Array]*keptArray{}, max: max}
}

func headOf(src string, depth int) arrayHead {
	return arrayHead{depth, src[:min(len(src), arrayHeadBytes)]}
}

// lookup returns the kept array whose bytes src starts with, read at depth.
func (c *arrayCache) lookup(src string, depth int) (*keptArray, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, k := range c.byHead[headOf(src, depth)] {
		if strings.HasPrefix(src, k.src) {
			return k, true
		}
	}
	return nil, false
}

// keep adds an array read at depth from src (exactly its bytes), making room
// by dropping the oldest.
func (c *arrayCache) keep(src string, depth int, t *ast.Term) {
	arr, ok := t.Value.(*ast.Array)
	if !ok || len(src) < arrayHeadBytes || len(src) > c.max {
		return
	}
	k := &keptArray{src: src, depth: depth, term: t}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := headOf(src, depth)
	for _, o := range c.byHead[h] {
		if o.src == src {
			return // another request kept it meanwhile
		}
	}
	for c.bytes+len(src) > c.max && len(c.order) > 0 {
		c.drop(c.order[0])
		c.order = c.order[1:]
	}
	c.byHead[h] = append(c.byHead[h], k)
	c.byArray[arr] = k
	c.order = append(c.order, k)
	c.bytes += len(src)
}

func (c *arrayCache) drop(k *keptArray) {
	h := headOf(k.src, k.depth)
	rest := c.byHead[h][:0]
	for _, o := range c.byHead[h] {
		if o != k {
			rest = append(rest, o)
		}
	}
	if len(rest) == 0 {
		delete(c.byHead, h)
	} else {
		c.byHead[h] = rest
	}
	delete(c.byArray, k.term.Value.(*ast.Array))
	c.bytes -= len(k.src)
}

// checked reports whether arr is a kept array whose items were found well
// formed for resource kind kind.
func (c *arrayCache) checked(arr *ast.Array, kind string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.byArray[arr]
	return ok && k.checked[kind]
}

// markChecked records that arr's items are well formed for kind (nothing if
// arr is not kept). Every batch request comes here: the write lock is taken
// only for a kept array not yet marked.
func (c *arrayCache) markChecked(arr *ast.Array, kind string) {
	c.mu.RLock()
	k, ok := c.byArray[arr]
	done := ok && k.checked[kind]
	c.mu.RUnlock()
	if !ok || done {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.byArray[arr]; ok {
		if k.checked == nil {
			k.checked = map[string]bool{}
		}
		k.checked[kind] = true
	}
}

// len is the number of kept arrays (for the tests).
func (c *arrayCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.order)
}
