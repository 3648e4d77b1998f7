//go:build !unix

package trinotest

import "os/exec"

// Trino's launcher supports only Linux and macOS; these keep the package compiling
// elsewhere so that only the tests that start Trino fail there.
func setProcessGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
