package policy

import (
	"hash/maphash"
	"maps"
	"slices"
	"unsafe"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Collection is a packed collection (data.gatehouse.users, trinoUsers,
// groups) as one value in the data store: its records in a table without a
// single pointer in it, plus the records written since the table was built.
//
// Why: the garbage collector again. As a Go map from key to record, a
// 100,000-user collection is a 3 MB bucket array of string headers and
// interfaces that every collection scans pointer by pointer, and
// data.gatehouse has three such maps. The table is three pointer-free
// slices (keys and records back to back; entries as offsets; hash slots as
// indexes), which the collector never looks into.
//
// A Collection is a value (OPA's in-memory store dereferences a pointer
// written to it anyway) and is never modified: With and Without return a new one that
// shares the table, so a query reading the committed one meanwhile is
// unaffected, and a store transaction that is aborted leaves no trace. Records
// written after the build are kept beside the table (overlay); when there are
// more than maxOverlay of them the table is built again, with them in it.
type Collection struct {
	base    *recordTable
	overlay map[string]Packed // key → record written since base; "" = removed
	n       int               // records
}

// maxOverlay bounds the records a Collection keeps beside its table. Each
// With copies them (~75 µs for 2,048), and an overlay is a Go map the
// collector scans; building a 100,000-user table again takes ~18 ms,
// in the write's transaction (decisions go on reading the committed data
// meanwhile), once per maxOverlay writes.
const maxOverlay = 2048

type recordTable struct {
	text  []byte      // every key and record, back to back
	ents  []recordEnt // in insertion order
	slots []uint32    // open addressing: index into ents + 1; 0 is empty
	seed  maphash.Seed
}

type recordEnt struct{ key, rec span }

type span struct{ off, len uint32 }

// CollectionBuilder builds a Collection from records added one by one.
type CollectionBuilder struct {
	t   recordTable
	buf []byte
}

// NewCollectionBuilder is a builder sized for n records.
func NewCollectionBuilder(n int) *CollectionBuilder {
	b := &CollectionBuilder{t: recordTable{ents: make([]recordEnt, 0, n), seed: maphash.MakeSeed()}}
	b.t.slots = make([]uint32, slotCount(n))
	return b
}

func slotCount(n int) int {
	s := 8
	for s < 2*n { // at most half full: short probes
		s *= 2
	}
	return s
}

// Add adds v, packed, under key; a key added twice keeps the later record.
func (b *CollectionBuilder) Add(key string, v ast.Value) {
	b.buf = appendJSON(b.buf[:0], v)
	b.t.add(key, Packed(unsafe.String(unsafe.SliceData(b.buf), len(b.buf)))) // copied in
}

// Build returns the Collection; the builder must not be used afterwards.
func (b *CollectionBuilder) Build() Collection {
	return Collection{base: &b.t, n: len(b.t.ents)}
}

func (t *recordTable) add(key string, rec Packed) {
	if len(t.text)+len(key)+len(rec) > 1<<32-1 {
		panic("policy: collection larger than 4 GiB")
	}
	if 2*(len(t.ents)+1) > len(t.slots) {
		t.grow()
	}
	s, found := t.find(key)
	e := recordEnt{key: t.put(key), rec: t.put(string(rec))}
	if found {
		t.ents[t.slots[s]-1] = e
		return
	}
	t.ents = append(t.ents, e)
	t.slots[s] = uint32(len(t.ents))
}

func (t *recordTable) put(s string) span {
	sp := span{uint32(len(t.text)), uint32(len(s))}
	t.text = append(t.text, s...)
	return sp
}

func (t *recordTable) grow() {
	t.slots = make([]uint32, slotCount(len(t.ents)+1))
	for i, e := range t.ents {
		s, _ := t.find(t.str(e.key))
		t.slots[s] = uint32(i + 1)
	}
}

// find returns key's slot, or the empty slot where it would go.
func (t *recordTable) find(key string) (int, bool) {
	mask := len(t.slots) - 1
	for s := int(maphash.String(t.seed, key)) & mask; ; s = (s + 1) & mask {
		i := t.slots[s]
		if i == 0 {
			return s, false
		}
		if t.str(t.ents[i-1].key) == key {
			return s, true
		}
	}
}

// str is the text at sp. The table's text is never written after Build, so
// the string may point into it.
func (t *recordTable) str(sp span) string {
	if sp.len == 0 {
		return ""
	}
	return unsafe.String(&t.text[sp.off], sp.len)
}

func (t *recordTable) get(key string) (Packed, bool) {
	if t == nil || len(t.slots) == 0 {
		return "", false
	}
	s, found := t.find(key)
	if !found {
		return "", false
	}
	return Packed(t.str(t.ents[t.slots[s]-1].rec)), true
}

// Len is the number of records.
func (c Collection) Len() int { return c.n }

// Get returns key's record.
func (c Collection) Get(key string) (Packed, bool) {
	if rec, ok := c.overlay[key]; ok {
		return rec, rec != ""
	}
	return c.base.get(key)
}

// With returns c with rec under key.
func (c Collection) With(key string, rec Packed) Collection {
	n := c.n
	if _, had := c.Get(key); !had {
		n++
	}
	return c.edit(key, rec, n)
}

// Without returns c without key, and whether c had it.
func (c Collection) Without(key string) (Collection, bool) {
	if _, had := c.Get(key); !had {
		return c, false
	}
	return c.edit(key, "", c.n-1), true
}

// edit returns c with key's record replaced by rec ("" removes it), holding n records.
func (c Collection) edit(key string, rec Packed, n int) Collection {
	overlay := make(map[string]Packed, len(c.overlay)+1)
	maps.Copy(overlay, c.overlay)
	if _, inBase := c.base.get(key); rec == "" && !inBase {
		delete(overlay, key) // removed, and nothing underneath to hide
	} else {
		overlay[key] = rec
	}
	out := Collection{base: c.base, overlay: overlay, n: n}
	if len(overlay) > maxOverlay {
		out = out.rebuilt()
	}
	return out
}

// rebuilt is c as one table again.
func (c Collection) rebuilt() Collection {
	b := NewCollectionBuilder(c.n)
	size := 0
	if c.base != nil {
		size = len(c.base.text)
	}
	for key, rec := range c.overlay {
		size += len(key) + len(rec)
	}
	b.t.text = make([]byte, 0, size)
	c.Range(func(key string, rec Packed) bool {
		b.t.add(key, rec)
		return true
	})
	return b.Build()
}

// Range calls f for every record, in no particular order, until f returns false.
func (c Collection) Range(f func(key string, rec Packed) bool) {
	if t := c.base; t != nil {
		for _, e := range t.ents {
			key := t.str(e.key)
			if _, over := c.overlay[key]; over {
				continue
			}
			if !f(key, Packed(t.str(e.rec))) {
				return
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(c.overlay)) {
		if rec := c.overlay[key]; rec != "" && !f(key, rec) {
			return
		}
	}
}
