package sqlstore

import (
	"testing"
	"testing/fstest"
)

// The SQL paths are covered by storetest through each backend; these are
// the pure helpers a backend's dialect relies on.

func TestRebind(t *testing.T) {
	q := "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
	if got := (&Dialect{}).rebind(q); got != q {
		t.Errorf("rebind without Placeholder = %q", got)
	}
	want := "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
	if got := (&Dialect{Placeholder: Dollar}).rebind(q); got != want {
		t.Errorf("rebind with Dollar = %q, want %q", got, want)
	}
}

func TestMigrationsOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"0010_later.sql": {}, "0002_second.sql": {}, "0001_init.sql": {}, "README.md": {},
	}
	got, err := migrations(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.name)
	}
	if want := []string{"0001_init.sql", "0002_second.sql", "0010_later.sql"}; len(names) != 3 ||
		names[0] != want[0] || names[1] != want[1] || names[2] != want[2] {
		t.Errorf("migrations = %v, want %v", names, want)
	}

	for name, fsys := range map[string]fstest.MapFS{
		"no version":        {"init.sql": {}},
		"duplicate version": {"0001_a.sql": {}, "1_b.sql": {}},
	} {
		if _, err := migrations(fsys); err == nil {
			t.Errorf("%s: migrations accepted %v", name, fsys)
		}
	}
}
