#!/usr/bin/env bash
# check-gen.sh fails when gen/ is not what proto/ generates, so that a proto
# change cannot land without its generated code (or gen/ be edited by hand).
# It generates into a scratch copy and compares, leaving the work tree alone:
# files that differ, are missing or are extra under gen/ all count as stale.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cp -R "$REPO/buf.yaml" "$REPO/buf.gen.yaml" "$REPO/proto" "$TMP/"
"$REPO/scripts/generate.sh" "$TMP"

mkdir -p "$REPO/gen"
if ! diff -r "$TMP/gen" "$REPO/gen" >"$TMP/gen.diff" 2>&1; then
	head -n 50 "$TMP/gen.diff" >&2
	echo "gen/ is stale: run make generate" >&2
	exit 1
fi
echo "gen/ is up to date"
