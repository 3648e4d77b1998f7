package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// machine describes where and with what the run happened, for the report:
// figures from another machine or under other load do not compare.
type machine struct {
	CPUs        int    `json:"cpus"`
	CPUModel    string `json:"cpu_model"`
	MemTotalKiB int64  `json:"mem_total_kib"`
	LoadBefore  string `json:"load_average_before"`
	LoadAfter   string `json:"load_average_after"`
	OS          string `json:"os"`
	GoVersion   string `json:"go_version"`
	OPAVersion  string `json:"opa_version"`
	Gatehouse   string `json:"gatehouse_version"` // git describe
}

func describeMachine() machine {
	return machine{
		CPUs:        runtime.NumCPU(),
		CPUModel:    cpuModel(),
		MemTotalKiB: memTotal(),
		LoadBefore:  loadAverage(),
		OS:          runtime.GOOS + "/" + runtime.GOARCH,
		GoVersion:   runtime.Version(), // the toolchain that builds gatehouse too
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// loadAverage is the 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// gitDescribe names the tree measured ("dev" outside git). Read-only.
func gitDescribe(ctx context.Context, root string) string {
	cmd := exec.CommandContext(ctx, "git", "describe", "--tags", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(out))
}
