//go:build unix

package trinotest

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the launcher (which execs java) in its own process group, so stop
// can signal the JVM and anything it spawns (the AOT cache assembler) together.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr)
}

// signalGroup sends SIGTERM (or SIGKILL) to the process group of cmd.
func signalGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
