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
type cpuMeter struct {
	pid       int
	wall      time.Time
	srv, self time.Duration
	srvErr    error // the server's CPU could not be read at the start
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
	return c
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
