#!/usr/bin/env bash
# generate.sh regenerates gen/ from proto/: it installs the pinned code
# generators into .cache/bin (only when missing or at another version), lints
# the protos, then runs buf generate. The plugins are local binaries rather
# than buf's remote plugins because the remote registry is not reachable from
# where we build, and pinning them here keeps gen/ byte-identical for everyone.
#
# Usage: scripts/generate.sh [DIR]
#   DIR (default: the repository root) must hold buf.yaml, buf.gen.yaml and
#   proto/; gen/ is written under it. scripts/check-gen.sh passes a scratch
#   copy so it can compare without touching the work tree.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$REPO}"
BIN="$REPO/.cache/bin"

# Pinned generator versions. protoc-gen-go must match the protobuf runtime in
# go.mod (generated code may use runtime APIs of its own version), so it is
# read from go.mod rather than written twice. protoc-gen-go-grpc v1.6.x emits
# code needing grpc >= v1.64 (SupportPackageIsVersion9); go.mod has v1.85.0.
BUF_VERSION="v1.75.0"
PROTOC_GEN_GO_GRPC_VERSION="v1.6.2"
PROTOC_GEN_GO_VERSION="$(cd "$REPO" && go list -m -f '{{.Version}}' google.golang.org/protobuf)"

mkdir -p "$BIN"
export PATH="$BIN:$PATH"

# ensure NAME PACKAGE VERSION CURRENT: go install PACKAGE@VERSION into $BIN
# unless CURRENT (what the installed binary reports) already equals VERSION.
ensure() {
	local name="$1" pkg="$2" want="$3" have="$4"
	if [[ "$have" == "$want" ]]; then
		return
	fi
	echo "installing $name $want (found: ${have:-none})" >&2
	GOBIN="$BIN" go install "$pkg@$want"
}

# Each tool prints its version differently; normalise to "vX.Y.Z".
version_of() {
	local tool="$1"
	[[ -x "$BIN/$tool" ]] || return 0
	local out
	out="$("$BIN/$tool" --version 2>&1 || true)"
	out="${out##* }" # last word: "1.75.0", "v1.36.12", "1.6.2"
	echo "v${out#v}"
}

ensure buf github.com/bufbuild/buf/cmd/buf "$BUF_VERSION" "$(version_of buf)"
ensure protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION" "$(version_of protoc-gen-go)"
ensure protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION" "$(version_of protoc-gen-go-grpc)"

cd "$DIR"
buf lint
buf generate
