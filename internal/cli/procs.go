package cli

import "runtime"

// spareProcs is how many Ps `gatehouse serve` runs beyond the cores it may
// use. A decision is a short burst of CPU; when the kernel pauses a thread
// that holds a P to run another process (the Trino coordinator beside it, a
// sidecar, the load generator in bench/), the requests queued on that P wait
// until the thread runs again, unless another P's thread is running to take
// them. With two spare Ps there usually is one. Measured with bench/ on two
// cores shared with the generator (docs/performance.md, "The eighth
// session"): the open loop's p99 at 5,000 req/s was lower with 4 Ps than with
// 2 in 9 of 12 alternating pairs over three sessions, by the most in the
// machine's slow spells.
const spareProcs = 2

// serveProcs returns the GOMAXPROCS serve should set, or 0 to leave Go's.
//
//   - GOMAXPROCS in the environment wins: Go has applied it already.
//   - An explicit procs option is used as given.
//   - auto: under a CPU quota smaller than the cores (Go lowers its default
//     to the quota), Go's figure stays, as more Ps than the quota would let a
//     burst use up the quota and be throttled for the rest of the period.
//     Otherwise the cores plus spareProcs: with the cores all usable, extra
//     Ps cannot use more CPU than there is. (Go never lowers its default
//     below 2, so a quota under 2 cores on a 2-core machine goes unseen
//     here; it could be exceeded with Go's 2 Ps as much as with 4.)
func serveProcs(getenv func(string) string, configured, current, cpus int) int {
	switch {
	case getenv("GOMAXPROCS") != "":
		return 0
	case configured > 0:
		return configured
	case current < cpus:
		return 0
	default:
		return cpus + spareProcs
	}
}

// setServeProcs applies serveProcs to the runtime and returns the Ps in use.
func setServeProcs(getenv func(string) string, configured int) int {
	if n := serveProcs(getenv, configured, runtime.GOMAXPROCS(0), runtime.NumCPU()); n > 0 {
		runtime.GOMAXPROCS(n)
	}
	return runtime.GOMAXPROCS(0)
}
