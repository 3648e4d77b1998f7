package cli

import "testing"

func TestServeProcs(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMAXPROCS" {
				return v
			}
			return ""
		}
	}
	cases := []struct {
		name                      string
		gomaxprocs                string
		configured, current, cpus int
		want                      int
	}{
		{"auto, all cores usable", "", 0, 2, 2, 4},
		{"auto, many cores", "", 0, 16, 16, 18},
		{"auto, under a quota Go lowered its default for", "", 0, 2, 8, 0},
		{"configured", "", 3, 2, 2, 3},
		{"configured below the cores", "", 1, 8, 8, 1},
		{"GOMAXPROCS set: Go's stands", "6", 0, 6, 2, 0},
		{"GOMAXPROCS wins over configured", "6", 3, 6, 2, 0},
	}
	for _, c := range cases {
		if got := serveProcs(env(c.gomaxprocs), c.configured, c.current, c.cpus); got != c.want {
			t.Errorf("%s: serveProcs = %d, want %d", c.name, got, c.want)
		}
	}
}
