package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// opaVersion is the stock OPA the run compares with: the version
// scripts/opa-test.sh installs and the differential tests pin (go.mod).
const opaVersion = "v1.22.0"

// buildGatehouse builds the binary from the tree as `make build` does
// (version stamped from git describe) into dir.
func buildGatehouse(ctx context.Context, root, dir, version string) (string, error) {
	bin := filepath.Join(dir, "gatehouse")
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags", "-X github.com/gatehouse-authz/gatehouse/internal/cli.Version="+version,
		"-o", bin, "./cmd/gatehouse")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gatehouse: %v\n%s", err, out)
	}
	return bin, nil
}

// ensureOPA returns .cache/bin/opa, installing stock OPA there with
// `go install` (as scripts/opa-test.sh does) unless the right version is
// already in place.
func ensureOPA(ctx context.Context, root string) (string, error) {
	binDir := filepath.Join(root, ".cache", "bin")
	opa := filepath.Join(binDir, "opa")
	if v, err := opaBinaryVersion(ctx, opa); err == nil && v == strings.TrimPrefix(opaVersion, "v") {
		return opa, nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "installing OPA %s into %s\n", opaVersion, binDir)
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/open-policy-agent/opa@"+opaVersion)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOBIN="+binDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install opa@%s: %v\n%s", opaVersion, err, out)
	}
	v, err := opaBinaryVersion(ctx, opa)
	if err != nil {
		return "", err
	}
	if v != strings.TrimPrefix(opaVersion, "v") {
		return "", fmt.Errorf("%s is OPA %s after installing %s", opa, v, opaVersion)
	}
	return opa, nil
}

// opaBinaryVersion reads "Version: x.y.z" from `opa version`.
func opaBinaryVersion(ctx context.Context, opa string) (string, error) {
	out, err := exec.CommandContext(ctx, opa, "version").Output()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "Version: "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s version: no Version line", opa)
}

// exportData writes the store's directory as OPA data with the real
// `gatehouse data export`, in the same environment the server gets.
func exportData(ctx context.Context, bin, storeDir, out string, env []string) error {
	cmd := exec.CommandContext(ctx, bin, "data", "export", "--data-dir", storeDir, "-f", out)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("gatehouse data export: %v\n%s", err, stderr.String())
	}
	return nil
}
