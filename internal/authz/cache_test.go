package authz

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestDecisionCache(t *testing.T) {
	c := NewDecisionCache(3, 100)
	body := []byte(`{"input":{}}`)
	if _, _, ok := c.Get("allow", body); ok {
		t.Fatal("hit on an empty cache")
	}
	gen := c.Generation()
	c.Put(gen, "allow", body, []byte("yes"), Decision{Result: ResultAllow})
	if out, d, ok := c.Get("allow", body); !ok || string(out) != "yes" || d.Result != ResultAllow {
		t.Fatalf("miss after put: %q %v %v", out, d, ok)
	}
	if _, _, ok := c.Get("batch", body); ok {
		t.Fatal("hit for another endpoint")
	}
	if _, _, ok := c.Get("allow", []byte(`{"input":{} }`)); ok {
		t.Fatal("hit for another body")
	}
	// A change to the directory or policies kills every entry.
	c.Invalidate()
	if _, _, ok := c.Get("allow", body); ok {
		t.Fatal("hit after invalidation")
	}
	// An answer computed before a change is not stored after it.
	c.Put(gen, "allow", body, []byte("stale"), Decision{})
	if _, _, ok := c.Get("allow", body); ok {
		t.Fatal("stale answer stored")
	}
	// Bodies over the limit are never cached.
	big := make([]byte, 101)
	c.Put(c.Generation(), "allow", big, []byte("x"), Decision{})
	if _, _, ok := c.Get("allow", big); ok {
		t.Fatal("oversized body cached")
	}
	// The cache never grows past its size.
	for i := range 10 {
		c.Put(c.Generation(), "allow", []byte{byte(i)}, []byte("x"), Decision{})
	}
	if n, _ := c.Size(); n > 3 {
		t.Fatalf("%d entries, max 3", n)
	}
	// Disabled caches and nil caches hold nothing.
	var nilCache *DecisionCache
	nilCache.Put(0, "allow", body, []byte("x"), Decision{})
	if _, _, ok := nilCache.Get("allow", body); ok {
		t.Fatal("nil cache hit")
	}
}

// Memory is bounded in bytes as well as entries, and entries of a dead
// generation are freed by the next put.
func TestDecisionCacheBytes(t *testing.T) {
	c := NewDecisionCache(1_000_000, 64<<10)
	c.maxBytes = 10 * (1000 + entryOverhead)
	body := func(i int) []byte { return []byte(fmt.Sprintf("%01000d", i)) }
	for i := range 25 {
		c.Put(c.Generation(), "allow", body(i), nil, Decision{})
		if _, b := c.Size(); b > c.maxBytes {
			t.Fatalf("after %d puts: %d bytes held, budget %d", i+1, b, c.maxBytes)
		}
	}
	if _, _, ok := c.Get("allow", body(24)); !ok {
		t.Error("the latest entry is gone")
	}
	c.Put(c.Generation(), "allow", body(24), []byte("again"), Decision{}) // a replace is not counted twice
	if n, b := c.Size(); b != n*(1000+entryOverhead)+len("again") {
		t.Errorf("%d entries, %d bytes after a replace", n, b)
	}
	c.Invalidate()
	c.Put(c.Generation(), "allow", body(99), nil, Decision{})
	if n, _ := c.Size(); n != 1 {
		t.Errorf("%d entries after a new generation's first put, want 1", n)
	}
}

// A hit gives back the whole decision as it was put, Duration aside, and
// holds no memory of the cache.
func TestDecisionCacheRoundTrip(t *testing.T) {
	c := NewDecisionCache(10, 1<<10)
	d := Decision{Endpoint: "batch", Operation: "FilterTables", User: "alice", Target: "bob", QueryID: "q1",
		Resource: "hive.s.t", Result: ResultAllow, Items: 300, Kept: 7, Rule: "rule 3", Error: "", Duration: time.Second}
	c.Put(c.Generation(), "batch", []byte("body"), []byte("[0,1]"), d)
	out, got, ok := c.Get("batch", []byte("body"))
	if !ok || string(out) != "[0,1]" {
		t.Fatalf("get: %q %v", out, ok)
	}
	d.Duration = 0
	if got != d {
		t.Errorf("decision %+v, want %+v", got, d)
	}
	empty := Decision{Endpoint: "allow"}
	c.Put(c.Generation(), "allow", nil, nil, empty)
	if out, got, ok := c.Get("allow", nil); !ok || len(out) != 0 || got != empty {
		t.Errorf("empty entry: %q %+v %v", out, got, ok)
	}
}

// Keys that share a hash are told apart by endpoint and body, and both stay.
func TestDecisionCacheCollisions(t *testing.T) {
	c := NewDecisionCache(100, 1<<10)
	gen := c.Generation()
	for i := range 20 {
		c.put(42, gen, "allow", fmt.Appendf(nil, "body %d", i), fmt.Appendf(nil, "answer %d", i), Decision{User: fmt.Sprint(i)})
	}
	c.put(42, gen, "batch", []byte("body 3"), []byte("batch answer"), Decision{})
	for i := range 20 {
		out, d, ok := c.get(42, "allow", fmt.Appendf(nil, "body %d", i))
		if !ok || string(out) != fmt.Sprintf("answer %d", i) || d.User != fmt.Sprint(i) {
			t.Fatalf("entry %d: %q %+v %v", i, out, d, ok)
		}
	}
	if out, _, ok := c.get(42, "batch", []byte("body 3")); !ok || string(out) != "batch answer" {
		t.Errorf("batch entry: %q %v", out, ok)
	}
	if _, _, ok := c.get(42, "allow", []byte("body 99")); ok {
		t.Error("hit for a body never put")
	}
	if n, _ := c.Size(); n != 21 {
		t.Errorf("%d entries, want 21", n)
	}
}

// Entries fill many chunks, an entry larger than a chunk gets its own, and
// every answer stays readable until the cache is reset.
func TestDecisionCacheChunks(t *testing.T) {
	c := NewDecisionCache(10_000, 64<<10)
	gen := c.Generation()
	big := bytes.Repeat([]byte("x"), 60<<10)
	answers := map[string]string{}
	for i := range 3000 {
		body := fmt.Appendf(nil, "%d %s", i, big[:i%2000])
		answer := fmt.Sprintf("answer %d", i)
		if i%500 == 0 {
			body = fmt.Appendf(nil, "%d %s", i, big)
			answer = string(bytes.Repeat([]byte("y"), cacheChunk+i))
		}
		c.Put(gen, "allow", body, []byte(answer), Decision{Items: i})
		answers[string(body)] = answer
	}
	if len(c.t.chunks) < 4 {
		t.Fatalf("%d chunks: the test did not span several", len(c.t.chunks))
	}
	for body, answer := range answers {
		out, _, ok := c.Get("allow", []byte(body))
		if !ok || string(out) != answer {
			t.Fatalf("body of %d bytes: answer of %d bytes, %v", len(body), len(out), ok)
		}
	}
}

// Concurrent gets and puts, generations changing underneath: a hit is always
// the answer put for that body.
func TestDecisionCacheConcurrent(t *testing.T) {
	c := NewDecisionCache(64, 1<<10)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				body := fmt.Appendf(nil, "body %d", (i*7+w)%100)
				if w == 0 && i%300 == 0 {
					c.Invalidate()
				}
				if out, d, ok := c.Get("allow", body); ok {
					if string(out) != "answer for "+string(body) || d.User != string(body) {
						t.Errorf("%q answered %q (user %q)", body, out, d.User)
						return
					}
					continue
				}
				c.Put(c.Generation(), "allow", body, []byte("answer for "+string(body)), Decision{User: string(body)})
			}
		}()
	}
	wg.Wait()
}

// A huge entry count does not size the index past what the byte budget
// allows: every entry costs at least entryOverhead of it.
func TestDecisionCacheIndexBound(t *testing.T) {
	c := NewDecisionCache(1<<30, 1<<10)
	c.Put(c.Generation(), "allow", []byte("body"), []byte("yes"), Decision{})
	if n, limit := len(c.t.slots), 4*DecisionCacheBytes/entryOverhead; n > limit {
		t.Fatalf("%d index slots for a budget of %d entries", n, DecisionCacheBytes/entryOverhead)
	}
	if out, _, ok := c.Get("allow", []byte("body")); !ok || string(out) != "yes" {
		t.Fatalf("get: %q %v", out, ok)
	}
}
