package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuMeter measures how much CPU the server and the generator itself used
// during a phase, in cores (CPU seconds per wall second). On a two-core
// machine shared by both, this says whether the server had the cores it
// could use and how much the generator took from it.
//
// It also measures how long each process's threads were runnable but not
// running (/proc/<pid>/task/*/schedstat): waiting for a core. That is the
// machine's share of the latency. On this VM it was as large as the time
// the server ran, with a core ~45% idle (docs/performance.md, "The eighth
// session"), and then not even a null server met the p99 target.
type cpuMeter struct {
	pid           int
	wall          time.Time
	srv, self     time.Duration
	srvErr        error // the server's CPU could not be read at the start
	srvWait, wait time.Duration
	waitErr       error // run-queue waits could not be read at the start
}

// unknownCPU is the server's CPU use when /proc could not tell it (shown as
// "n/a": a 0 would read as an idle server).
const unknownCPU = -1

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

func startCPU(pid int) *cpuMeter {
	c := &cpuMeter{pid: pid, wall: time.Now()}
	c.srv, c.srvErr = procCPU(pid)
	c.self = selfCPU()
	var err error
	if c.srvWait, err = runQueueWait(strconv.Itoa(pid)); err == nil {
		c.wait, err = runQueueWait("self")
	}
	c.waitErr = err
	return c
}

// stopInto records the phase's CPU use and run-queue waits in p, in cores
// (seconds per wall second); a figure /proc could not give is unknownCPU.
func (c *cpuMeter) stopInto(p *phaseResult) {
	wall := time.Since(c.wall).Seconds()
	p.ServerCPU, p.GeneratorCPU = c.stop()
	p.ServerWait, p.GeneratorWait = unknownCPU, unknownCPU
	if c.waitErr != nil || wall <= 0 {
		return
	}
	srv, err1 := runQueueWait(strconv.Itoa(c.pid))
	self, err2 := runQueueWait("self")
	if err1 == nil && err2 == nil {
		p.ServerWait = (srv - c.srvWait).Seconds() / wall
		p.GeneratorWait = (self - c.wait).Seconds() / wall
	}
}

// runQueueWait sums, over the threads of process pid ("self" for the
// harness), the time they have spent runnable but waiting for a core: the
// second field of /proc/<pid>/task/<tid>/schedstat, in nanoseconds. (A
// thread that exits during a phase takes its share along; Go seldom ends
// threads.)
func runQueueWait(pid string) (time.Duration, error) {
	dir := "/proc/" + pid + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return 0, fmt.Errorf("%s/%s/schedstat: unexpected format", dir, t.Name())
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s/%s/schedstat: %w", dir, t.Name(), err)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}

// stop returns the server's and the generator's CPU use since start, in cores.
func (c *cpuMeter) stop() (server, generator float64) {
	wall := time.Since(c.wall).Seconds()
	if wall <= 0 {
		return 0, 0
	}
	srv, err := procCPU(c.pid)
	if err != nil || c.srvErr != nil {
		return unknownCPU, (selfCPU() - c.self).Seconds() / wall
	}
	return (srv - c.srv).Seconds() / wall, (selfCPU() - c.self).Seconds() / wall
}

// procCPU reads utime+stime of pid from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// fields are counted after its closing parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// f[0] is field 3 (state): utime is field 14, stime 15.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
