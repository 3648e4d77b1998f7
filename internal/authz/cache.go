package authz

import (
	"bytes"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// DecisionCache remembers encoded answers by endpoint and exact request body
// for as long as neither the directory nor the policies change. Trino repeats
// identical checks constantly (the same catalogs filtered twice per SHOW, the
// same columns for every run of a dashboard query), and it has no cache of
// its own.
//
// Correctness rests on three things: the key is the whole body, compared
// byte for byte (a hash only finds the slot); every change to what decisions
// read — a directory write mirrored into data.gatehouse, a policy reload —
// bumps the generation before the write is answered, and an entry is used
// only at the generation it was computed at, captured before evaluation; and
// bundles that call non-deterministic built-ins (time, randomness, HTTP)
// are never cached.
type DecisionCache struct {
	max      int
	maxBody  int
	maxBytes int // bodies and answers held, at most
	bytes    int
	mapGen   uint64 // the generation the entries were put at
	seed     maphash.Seed
	gen      atomic.Uint64

	mu      sync.Mutex
	entries map[uint64]*cacheEntry

	hits, misses atomic.Int64
}

type cacheEntry struct {
	gen      uint64
	endpoint string
	body     []byte
	answer   []byte
	decision Decision
}

// DecisionCacheBytes bounds the bodies and answers a DecisionCache holds:
// with bodies of up to 64 KiB, max entries alone would allow gigabytes.
const DecisionCacheBytes = 64 << 20

// NewDecisionCache holds up to max entries of bodies up to maxBody bytes, and
// at most DecisionCacheBytes of bodies and answers; max ≤ 0 disables caching.
func NewDecisionCache(max, maxBody int) *DecisionCache {
	return &DecisionCache{max: max, maxBody: maxBody, maxBytes: DecisionCacheBytes, seed: maphash.MakeSeed(), entries: map[uint64]*cacheEntry{}}
}

// entryOverhead approximates what an entry costs beside its body and answer.
const entryOverhead = 128

// Invalidate starts a new generation: every earlier entry is dead.
func (c *DecisionCache) Invalidate() {
	if c == nil {
		return
	}
	c.gen.Add(1)
}

// Generation is the current generation; capture it before evaluating.
func (c *DecisionCache) Generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

func (c *DecisionCache) key(endpoint string, body []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(endpoint)
	h.WriteByte(0)
	h.Write(body)
	return h.Sum64()
}

// Get returns the answer and decision cached for endpoint and body.
func (c *DecisionCache) Get(endpoint string, body []byte) ([]byte, Decision, bool) {
	if c == nil || c.max <= 0 || len(body) > c.maxBody {
		return nil, Decision{}, false
	}
	k := c.key(endpoint, body)
	gen := c.gen.Load()
	c.mu.Lock()
	e := c.entries[k]
	c.mu.Unlock()
	if e == nil || e.gen != gen || e.endpoint != endpoint || !bytes.Equal(e.body, body) {
		c.misses.Add(1)
		return nil, Decision{}, false
	}
	c.hits.Add(1)
	return e.answer, e.decision, true
}

// Put stores an answer computed at generation gen.
func (c *DecisionCache) Put(gen uint64, endpoint string, body, answer []byte, d Decision) {
	if c == nil || c.max <= 0 || len(body) > c.maxBody || gen != c.gen.Load() {
		return
	}
	e := &cacheEntry{gen: gen, endpoint: endpoint, body: bytes.Clone(body), answer: answer, decision: d}
	k := c.key(endpoint, body)
	size := len(e.body) + len(e.answer) + entryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mapGen != gen {
		// Entries of an earlier generation can never be used: free them.
		clear(c.entries)
		c.bytes, c.mapGen = 0, gen
	}
	if old := c.entries[k]; old != nil {
		c.bytes -= len(old.body) + len(old.answer) + entryOverhead
	}
	if len(c.entries) >= c.max || c.bytes+size > c.maxBytes {
		// Full: start over rather than track recency on the hot path. Real
		// traffic refills the useful part within seconds.
		clear(c.entries)
		c.bytes = 0
	}
	c.entries[k] = e
	c.bytes += size
}

// Size reports the entries held and the bytes of their bodies and answers.
func (c *DecisionCache) Size() (entries, bytes int) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes
}

// Stats reports hits and misses so far.
func (c *DecisionCache) Stats() (hits, misses int64) {
	if c == nil {
		return 0, 0
	}
	return c.hits.Load(), c.misses.Load()
}
