package e2e

import "syscall"

// setParentDeathSignal makes the kernel kill the gatehouse subprocess if the test binary
// dies without running TestMain's teardown (go test's timeout panic, SIGKILL), so no
// orphaned server keeps its port.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
