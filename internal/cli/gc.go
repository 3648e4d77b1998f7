package cli

import "runtime/debug"

// gcPercentUnderLimit is the garbage collector's target (GOGC) once `gatehouse
// serve` has a heap limit (the memory-limit option, 850 MiB by default) and
// GOGC is not in the environment. The engine sets 500 for start-up
// (policy.GCPercent); serving, each collection marks the whole live heap
// (~90 MB with 100,000 users) while decisions wait, so fewer collections are
// fewer slow decisions. At 1,000 the limit, not the live heap, decides when
// collections start for any directory whose live heap is over a tenth of the
// limit: with 100,000 users 2 collections per 20 s at 5,000 decisions/s
// instead of 2-3, for a peak RSS of ~840 MiB instead of 670-815 MiB
// (docs/performance.md, "The ninth session"). A smaller directory still gets
// a heap of at most 11 times its live one.
const gcPercentUnderLimit = 1000

// serveGC returns the heap limit and GC target serve should set once the
// directory is loaded; 0 for either leaves the runtime's as it is. The
// environment's GOMEMLIMIT and GOGC win, as Go has applied them already.
func serveGC(getenv func(string) string, memoryLimit int64) (limit int64, gcPercent int) {
	if getenv("GOMEMLIMIT") != "" || memoryLimit <= 0 {
		return 0, 0
	}
	if getenv("GOGC") != "" {
		return memoryLimit, 0
	}
	return memoryLimit, gcPercentUnderLimit
}

// setServeGC applies serveGC.
func setServeGC(getenv func(string) string, memoryLimit int64) (limit int64, gcPercent int) {
	limit, gcPercent = serveGC(getenv, memoryLimit)
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	if gcPercent > 0 {
		debug.SetGCPercent(gcPercent)
	}
	return limit, gcPercent
}
