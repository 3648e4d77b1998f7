package authz

import (
	"bytes"
	"encoding/binary"
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
//
// The entries hold no Go pointers: each is encoded into large byte chunks,
// found through an index of plain integers. Tens of thousands of entries as
// Go objects (an entry, a body, a decision's strings) were about half of
// the objects the garbage collector marked in every cycle, and marking is what
// a collection costs the decisions running beside it.
type DecisionCache struct {
	max      int
	maxBody  int
	maxBytes int // bodies and answers held, at most
	seed     maphash.Seed
	gen      atomic.Uint64

	mu sync.Mutex
	t  cacheTable

	hits, misses atomic.Int64
}

// cacheTable is one generation's entries. Bytes in a chunk are written once,
// under the lock, and never again, so what Get finds under the lock it may
// read after releasing it; a reset drops the chunks rather than reusing them.
type cacheTable struct {
	gen    uint64
	slots  []cacheSlot // open addressing, linear probing; at most half full
	chunks [][]byte
	n      int // entries
	bytes  int // bodies, answers and entryOverhead per entry
}

// cacheSlot finds an entry: hash 0 marks an empty slot (a key that hashes to
// 0 is stored as 1); at is chunk<<32 | offset.
type cacheSlot struct{ hash, at uint64 }

// DecisionCacheBytes bounds the bodies and answers a DecisionCache holds:
// with bodies of up to 64 KiB, max entries alone would allow gigabytes.
const DecisionCacheBytes = 64 << 20

// cacheChunk is the size of the chunks entries are encoded into; an entry
// larger than that gets a chunk of its own.
const cacheChunk = 1 << 20

// NewDecisionCache holds up to max entries of bodies up to maxBody bytes, and
// at most DecisionCacheBytes of bodies and answers; max ≤ 0 disables caching.
func NewDecisionCache(max, maxBody int) *DecisionCache {
	return &DecisionCache{max: max, maxBody: maxBody, maxBytes: DecisionCacheBytes, seed: maphash.MakeSeed()}
}

// entryOverhead approximates what an entry costs beside its body and answer:
// its encoded decision and lengths, and its share of the index.
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
	if k := h.Sum64(); k != 0 {
		return k
	}
	return 1
}

// Get returns the answer and decision cached for endpoint and body. The
// answer is shared with the cache: callers must not modify it.
func (c *DecisionCache) Get(endpoint string, body []byte) ([]byte, Decision, bool) {
	if c == nil || c.max <= 0 || len(body) > c.maxBody {
		return nil, Decision{}, false
	}
	return c.get(c.key(endpoint, body), endpoint, body)
}

func (c *DecisionCache) get(k uint64, endpoint string, body []byte) ([]byte, Decision, bool) {
	gen := c.gen.Load()
	c.mu.Lock()
	var e cachedEntry
	found := false
	if c.t.gen == gen && c.t.slots != nil {
		e, _, found = c.t.find(k, endpoint, body)
	}
	c.mu.Unlock()
	if !found {
		c.misses.Add(1)
		return nil, Decision{}, false
	}
	c.hits.Add(1)
	return e.answer, e.decision(endpoint), true
}

// Put stores an answer computed at generation gen.
func (c *DecisionCache) Put(gen uint64, endpoint string, body, answer []byte, d Decision) {
	if c == nil || c.max <= 0 || len(body) > c.maxBody || gen != c.gen.Load() {
		return
	}
	c.put(c.key(endpoint, body), gen, endpoint, body, answer, d)
}

func (c *DecisionCache) put(k, gen uint64, endpoint string, body, answer []byte, d Decision) {
	size := len(body) + len(answer) + entryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen.Load() {
		return // invalidated meanwhile: the table may already be the new generation's
	}
	t := &c.t
	if t.gen != gen || t.slots == nil {
		// Entries of an earlier generation can never be used: free them.
		c.reset(gen)
	}
	old, i, found := t.find(k, endpoint, body)
	if found {
		t.n--
		t.bytes -= len(old.body) + len(old.answer) + entryOverhead
	}
	if t.n >= c.max || t.bytes+size > c.maxBytes {
		// Full: start over rather than track recency on the hot path. Real
		// traffic refills the useful part within seconds.
		c.reset(gen)
		_, i, _ = t.find(k, endpoint, body)
	}
	t.slots[i] = cacheSlot{hash: k, at: t.append(endpoint, body, answer, &d)}
	t.n++
	t.bytes += size
}

// reset empties the table for generation gen. The old chunks are left to the
// collector: answers handed out by Get may still point into them.
func (c *DecisionCache) reset(gen uint64) {
	// Every entry costs at least entryOverhead of maxBytes, which bounds the
	// index too however large max is set.
	n := 16
	for n < 2*min(c.max, c.maxBytes/entryOverhead) {
		n *= 2
	}
	if len(c.t.slots) == n {
		clear(c.t.slots)
	} else {
		c.t.slots = make([]cacheSlot, n)
	}
	c.t = cacheTable{gen: gen, slots: c.t.slots}
}

// find looks k up: the entry and its slot when found, else the empty slot
// where it would go.
func (t *cacheTable) find(k uint64, endpoint string, body []byte) (cachedEntry, int, bool) {
	mask := len(t.slots) - 1
	for i := int(k) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s.hash == 0 {
			return cachedEntry{}, i, false
		}
		if s.hash != k {
			continue
		}
		e := t.entry(s.at)
		if string(e.endpoint) == endpoint && bytes.Equal(e.body, body) {
			return e, i, true
		}
	}
}

// An entry's encoding: endpoint, body, answer, then the decision's strings
// (cachedStrings of them) and Items and Kept, each string as a uvarint length
// and its bytes, each number as a uvarint.
const cachedStrings = 8

func (t *cacheTable) append(endpoint string, body, answer []byte, d *Decision) uint64 {
	strs := [cachedStrings]string{d.Operation, d.User, d.Target, d.QueryID, d.Resource, d.Result, d.Rule, d.Error}
	need := len(endpoint) + len(body) + len(answer) + 2*binary.MaxVarintLen64 + 3*binary.MaxVarintLen64
	for _, s := range strs {
		need += len(s) + binary.MaxVarintLen64
	}
	last := len(t.chunks) - 1
	if last < 0 || cap(t.chunks[last])-len(t.chunks[last]) < need {
		t.chunks = append(t.chunks, make([]byte, 0, max(cacheChunk, need)))
		last++
	}
	b := t.chunks[last]
	at := uint64(last)<<32 | uint64(len(b))
	b = appendBytes(b, endpoint)
	b = appendBytes(b, body)
	b = appendBytes(b, answer)
	for _, s := range strs {
		b = appendBytes(b, s)
	}
	b = binary.AppendUvarint(b, uint64(d.Items))
	b = binary.AppendUvarint(b, uint64(d.Kept))
	t.chunks[last] = b
	return at
}

func appendBytes[T string | []byte](b []byte, s T) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// cachedEntry is an entry read in place: its slices point into a chunk.
type cachedEntry struct {
	endpoint     []byte
	body, answer []byte
	strs         []byte // the decision's strings, still encoded
	items, kept  int
}

func (t *cacheTable) entry(at uint64) cachedEntry {
	b := t.chunks[at>>32][uint32(at):]
	var e cachedEntry
	e.endpoint, b = nextBytes(b)
	e.body, b = nextBytes(b)
	e.answer, b = nextBytes(b)
	rest := b
	for range cachedStrings {
		_, b = nextBytes(b)
	}
	e.strs = rest[:len(rest)-len(b)]
	items, n := binary.Uvarint(b)
	kept, _ := binary.Uvarint(b[n:])
	e.items, e.kept = int(items), int(kept)
	return e
}

// decision copies the entry's decision out of the chunk, its strings in one
// allocation: a decision may be kept (audit queue, impersonation tracking),
// and must not hold a chunk alive.
func (e cachedEntry) decision(endpoint string) Decision {
	all := string(e.strs)
	var strs [cachedStrings]string
	off := 0
	for i := range strs {
		n, w := binary.Uvarint(e.strs[off:])
		strs[i] = all[off+w : off+w+int(n)]
		off += w + int(n)
	}
	return Decision{Endpoint: endpoint, Operation: strs[0], User: strs[1], Target: strs[2], QueryID: strs[3],
		Resource: strs[4], Result: strs[5], Rule: strs[6], Error: strs[7], Items: e.items, Kept: e.kept}
}

func nextBytes(b []byte) (field, rest []byte) {
	n, w := binary.Uvarint(b)
	return b[w : w+int(n) : w+int(n)], b[w+int(n):]
}

// Size reports the entries held and the bytes of their bodies and answers.
func (c *DecisionCache) Size() (entries, bytes int) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.gen != c.gen.Load() {
		return 0, 0
	}
	return c.t.n, c.t.bytes
}

// Stats reports hits and misses so far.
func (c *DecisionCache) Stats() (hits, misses int64) {
	if c == nil {
		return 0, 0
	}
	return c.hits.Load(), c.misses.Load()
}
