//go:build !linux

package e2e

import "syscall"

// setParentDeathSignal is Linux-only; elsewhere an aborted run can leave gatehouse behind.
func setParentDeathSignal(*syscall.SysProcAttr) {}
