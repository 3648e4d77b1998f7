package authz

import "testing"

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
	if len(c.entries) > 3 {
		t.Fatalf("%d entries, max 3", len(c.entries))
	}
	// Disabled caches and nil caches hold nothing.
	var nilCache *DecisionCache
	nilCache.Put(0, "allow", body, []byte("x"), Decision{})
	if _, _, ok := nilCache.Get("allow", body); ok {
		t.Fatal("nil cache hit")
	}
}
