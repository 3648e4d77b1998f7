package authz

import (
	"maps"
	"slices"
	"testing"
)

// ownerIndex against the obvious model: a sorted list of holders per key.
func TestOwnerIndexKeepsTheSmallestHolder(t *testing.T) {
	type step struct {
		add       bool
		key, user string
	}
	steps := []step{
		{true, "ann", "ann@x"},
		{true, "ann", "ann@x"}, // again: no change
		{true, "ann", "Ann@x"}, // a clash, smaller: wins
		{true, "ann", "zed@x"},
		{true, "bob", "bob@x"},
		{false, "ann", "Ann@x"}, // the winner leaves: the next smallest
		{false, "ann", "nobody@x"},
		{false, "ann", "zed@x"},   // back to one holder: no clash left
		{false, "bob", "other@x"}, // not the holder: no change
		{false, "bob", "bob@x"},
		{true, "bob", "b2@x"},
	}
	o := newOwnerIndex(0)
	model := map[string][]string{}
	for i, s := range steps {
		held := model[s.key]
		j, found := slices.BinarySearch(held, s.user)
		if s.add {
			o.add(s.key, s.user)
			if !found {
				held = slices.Insert(held, j, s.user)
			}
		} else {
			o.drop(s.key, s.user)
			if found {
				held = slices.Delete(held, j, j+1)
			}
		}
		if len(held) == 0 {
			delete(model, s.key)
		} else {
			model[s.key] = held
		}
		for _, key := range []string{"ann", "bob"} {
			got, ok := o.holder(key)
			want := model[key]
			if ok != (len(want) > 0) || (ok && got != want[0]) {
				t.Fatalf("step %d: holder(%q) = %q, %v; want %v", i, key, got, ok, want)
			}
			if c, clashing := o.clash[key]; clashing != (len(want) > 1) || (clashing && !slices.Equal(c, want)) {
				t.Fatalf("step %d: clash[%q] = %v; want holders %v", i, key, c, want)
			}
		}
	}
	if len(o.first) != len(model) || !slices.Equal(slices.Sorted(maps.Keys(o.first)), slices.Sorted(maps.Keys(model))) {
		t.Fatalf("keys %v, want %v", o.first, model)
	}
}
