#!/usr/bin/env bash
# fetch-trino.sh: put a Trino 476 server where the end-to-end tests look for it.
#
# Usage: test/e2e/fetch-trino.sh         (idempotent; prints the server directory)
#
# Result: <repo>/.cache/trino/trino-server-476/ with bin/, lib/ and only the plugins the
# tests use (plugin/opa, plugin/memory, plugin/tpch). test/e2e/trinotest reads it from there
# (or from $TRINO_HOME). Re-running is a no-op once the marker file matches; the tarball
# stays in Maven's repository cache (<repo>/.cache/trino/m2), so re-extracting needs no network.
#
# Why the full tarball and not the smaller trino-server-core tarball plus plugin zips:
# io.trino:trino-server-core:476:tar.gz (194 MB) and the trino-memory/trino-tpch 476 zips are
# on Maven Central, but io.trino:trino-opa is not published there at all (its
# maven-metadata.xml is a 404, so no zip, jar or pom for any version). The opa plugin ships
# only inside io.trino:trino-server:476:tar.gz, so we fetch that one (821 MB, ~15 s here) and
# extract just bin/, lib/ and the three plugins (~110 MB; its lib/ is byte-identical to the
# core tarball's). Fewer plugins also means a faster coordinator start: every directory under
# plugin/ is loaded at startup.
#
# Needs: mvn (with a JDK for Maven itself), tar, gzip, sha256sum or shasum. Maven Central is
# the only network access. Environment overrides:
#   TRINO_CACHE_DIR     where to put everything (default <repo>/.cache/trino)
#   MAVEN_REPO_LOCAL    Maven's local repository (default $TRINO_CACHE_DIR/m2, kept out of ~/.m2
#                       so CI can cache one folder)
#   TRINO_EXTRA_PLUGINS space-separated extra plugin directories to extract (e.g. "blackhole")
set -euo pipefail

readonly TRINO_VERSION=476
readonly ARTIFACT="io.trino:trino-server:${TRINO_VERSION}:tar.gz"
readonly TARBALL="trino-server-${TRINO_VERSION}.tar.gz"
# SHA-256 of io.trino:trino-server:476:tar.gz (821,045,832 bytes; Maven's SHA-1 is
# c9b38be4017ebd2f7095455aaac772fb40247ebe). Maven checks only SHA-1; we pin SHA-256.
readonly TARBALL_SHA256="cfd5accde17e8ebd251eeeb78aed1f490e77bb3a164d95a0f454bf8a7c1cbd3f"
# Pinned so the fetch does not depend on Maven's built-in default plugin version.
readonly DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/../.." && pwd)"
cache_dir="${TRINO_CACHE_DIR:-${repo_root}/.cache/trino}"
m2_dir="${MAVEN_REPO_LOCAL:-${cache_dir}/m2}"
server_dir="${cache_dir}/trino-server-${TRINO_VERSION}"
marker="${server_dir}/.gatehouse-fetched"

read -r -a plugins <<<"memory opa tpch ${TRINO_EXTRA_PLUGINS:-}"

die() {
	echo "fetch-trino: error: $*" >&2
	exit 1
}
log() {
	echo "fetch-trino: $*" >&2
}

# The marker records what was extracted; a different plugin list or checksum re-extracts.
expected_marker="$(printf 'artifact=%s\nsha256=%s\nplugins=%s\n' \
	"${ARTIFACT}" "${TARBALL_SHA256}" "${plugins[*]}")"
if [[ -f "${marker}" && "$(cat "${marker}")" == "${expected_marker}" ]]; then
	log "Trino ${TRINO_VERSION} already present"
	echo "${server_dir}"
	exit 0
fi

command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH; install Maven (it downloads Trino from Maven Central)"
command -v tar >/dev/null 2>&1 || die "tar not found on PATH"
if command -v sha256sum >/dev/null 2>&1; then
	sha256() { sha256sum "$1" | awk '{print $1}'; }
elif command -v shasum >/dev/null 2>&1; then
	sha256() { shasum -a 256 "$1" | awk '{print $1}'; }
else
	die "neither sha256sum nor shasum found on PATH"
fi

mkdir -p "${cache_dir}" "${m2_dir}"
work="$(mktemp -d "${cache_dir}/.fetch.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

start=${SECONDS}
log "resolving ${ARTIFACT} with Maven (local repository ${m2_dir})"
if ! mvn -B -q -Dmaven.repo.local="${m2_dir}" \
	"${DEPENDENCY_PLUGIN}:copy" \
	-Dartifact="${ARTIFACT}" \
	-DoutputDirectory="${work}" >"${work}/mvn.log" 2>&1; then
	cat "${work}/mvn.log" >&2
	die "Maven could not fetch ${ARTIFACT} (see Maven's output above; is Maven Central reachable?)"
fi
[[ -f "${work}/${TARBALL}" ]] || die "Maven reported success but ${work}/${TARBALL} is missing"

log "verifying SHA-256 of ${TARBALL} ($(du -h "${work}/${TARBALL}" | cut -f1))"
actual="$(sha256 "${work}/${TARBALL}")"
if [[ "${actual}" != "${TARBALL_SHA256}" ]]; then
	die "checksum mismatch for ${TARBALL}: expected ${TARBALL_SHA256}, got ${actual}.
  The copy in ${m2_dir}/io/trino/trino-server/${TRINO_VERSION}/ is suspect; delete it and re-run."
fi

members=("trino-server-${TRINO_VERSION}/bin" "trino-server-${TRINO_VERSION}/lib" "trino-server-${TRINO_VERSION}/NOTICE")
for p in "${plugins[@]}"; do
	members+=("trino-server-${TRINO_VERSION}/plugin/${p}")
done
log "extracting bin/, lib/ and plugins: ${plugins[*]}"
# The plugin jars are hard links to lib/ inside the tarball, so lib/ must be extracted in the
# same tar run; tar fails if a requested plugin does not exist, which is what we want.
tar -xzf "${work}/${TARBALL}" -C "${work}" "${members[@]}" ||
	die "extracting ${TARBALL} failed (unknown plugin name in TRINO_EXTRA_PLUGINS?)"
rm -f "${work}/${TARBALL}"

extracted="${work}/trino-server-${TRINO_VERSION}"
[[ -x "${extracted}/bin/launcher" ]] || die "bin/launcher missing from ${TARBALL}"
[[ -f "${extracted}/lib/io.trino_trino-main-${TRINO_VERSION}.jar" ]] || die "lib/io.trino_trino-main-${TRINO_VERSION}.jar missing from ${TARBALL}"
for p in "${plugins[@]}"; do
	compgen -G "${extracted}/plugin/${p}/*.jar" >/dev/null || die "plugin/${p} has no jars in ${TARBALL}"
done
printf '%s\n' "${expected_marker}" >"${extracted}/.gatehouse-fetched"

# Swap the new tree in as late as possible so an interrupted run never leaves a half tree
# behind a valid marker. (Any AOT cache trinotest kept in the old tree goes with it, which is
# right: it is only valid for the exact jars it was trained on.)
rm -rf "${server_dir}"
mv "${extracted}" "${server_dir}"

log "Trino ${TRINO_VERSION} ready in ${server_dir} ($(du -sh "${server_dir}" | cut -f1), $((SECONDS - start)) s)"
echo "${server_dir}"
