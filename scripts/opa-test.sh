#!/usr/bin/env bash
# Runs the policy bundle's Rego tests and strict check with stock OPA.
#
#   scripts/opa-test.sh            # opa fmt, opa check --strict, opa test on policies/
#   scripts/opa-test.sh -v         # extra arguments go to `opa test`
#
# OPA is installed into .cache/bin (git-ignored) with `go install` when missing;
# OPA_VERSION overrides the pinned version, OPA overrides the binary used.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${OPA_VERSION:-v1.22.0}"
opa="${OPA:-$root/.cache/bin/opa}"

if [[ ! -x "$opa" ]] || ! "$opa" version 2>/dev/null | grep -q "^Version: ${version#v}$"; then
	if [[ -n "${OPA:-}" ]]; then
		echo "opa-test: $opa is not OPA $version" >&2
		exit 1
	fi
	echo "opa-test: installing OPA $version into $root/.cache/bin" >&2
	mkdir -p "$root/.cache/bin"
	GOBIN="$root/.cache/bin" go install "github.com/open-policy-agent/opa@$version"
fi

cd "$root"
if ! "$opa" fmt --list --fail policies/ >/dev/null; then
	echo "opa-test: not formatted (run: $opa fmt -w policies/):" >&2
	"$opa" fmt --list policies/ >&2
	exit 1
fi
"$opa" check --strict policies/
"$opa" test policies/ "$@"
