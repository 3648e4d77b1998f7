package main

import (
	"os"
	"strconv"
	"syscall"
)

// The generator's measurements are only as good as its timing: a request
// released late by a generator that waited for a core is latency the server
// did not cause. On two cores, a busy server (or anything else running)
// can delay the generator's wake-ups by milliseconds, so the harness raises
// its own scheduling priority (nice -20; root only) and runs the servers at
// the normal 0. That gives the generator a core promptly when its timer
// fires; it takes no more CPU than before (see GeneratorCPU), and both
// servers are measured the same way. (At nice -5 the generator's own
// lateness still reached 2.5 ms at p99 with the server busy on both cores;
// at -20 it is about 0.5 ms. A client on another machine would not take the
// server's cores at all.)

const generatorNice = -20

// raisePriority sets every thread of the harness to nice (Linux
// applies nice per thread; threads made later inherit their creator's) and
// returns the nice the harness now runs at.
func raisePriority(nice int) int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return currentNice()
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil {
			return currentNice() // not allowed (not root): everything stays at the same priority
		}
	}
	return currentNice()
}

// currentNice is the calling thread's nice value. (getpriority's raw
// system call returns 20 - nice.)
func currentNice() int {
	r, _, errno := syscall.Syscall(syscall.SYS_GETPRIORITY, syscall.PRIO_PROCESS, 0, 0)
	if errno != 0 {
		return 0
	}
	return 20 - int(r)
}

// atNormalPriority wraps a server's command line so that it runs at nice 0
// whatever the harness's: `nice -n <adjustment>` sets it and then execs the
// server, so the pid stays the server's own.
func atNormalPriority(harnessNice int, bin string, args []string) (string, []string) {
	if harnessNice == 0 {
		return bin, args
	}
	return "nice", append([]string{"-n", strconv.Itoa(-harnessNice), bin}, args...)
}
