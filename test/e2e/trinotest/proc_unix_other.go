//go:build unix && !linux

package trinotest

import "syscall"

// setParentDeathSignal is Linux-only; elsewhere an aborted test run can leave a JVM behind.
func setParentDeathSignal(*syscall.SysProcAttr) {}
