package trinotest

import "syscall"

// setParentDeathSignal makes the kernel kill the JVM if the test binary dies without running
// its cleanups (go test's timeout panic, SIGKILL), so no orphaned coordinator keeps running.
// The launcher execs java in the same process, which keeps the setting. (Linux ties it to
// the OS thread that started the process; Go retires a thread only when a goroutine exits
// while locked to it, which Start never does.)
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
