package cli

import "testing"

func TestServeGC(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name       string
		env        map[string]string
		configured int64
		limit      int64
		gogc       int
	}{
		{"default limit: the collector runs by it", nil, 850 * mib, 850 * mib, gcPercentUnderLimit},
		{"no limit: the engine's GOGC stays", nil, 0, 0, 0},
		{"GOMEMLIMIT in the environment wins", map[string]string{"GOMEMLIMIT": "2GiB"}, 850 * mib, 0, 0},
		{"GOGC in the environment wins", map[string]string{"GOGC": "200"}, 850 * mib, 850 * mib, 0},
		{"both in the environment", map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, 850 * mib, 0, 0},
	} {
		getenv := func(k string) string { return c.env[k] }
		if limit, gogc := serveGC(getenv, c.configured); limit != c.limit || gogc != c.gogc {
			t.Errorf("%s: limit %d GOGC %d, want %d %d", c.name, limit, gogc, c.limit, c.gogc)
		}
	}
}
