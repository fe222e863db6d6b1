#!/usr/bin/env bash
# Sets raftlog up on a Debian 12 machine: installs the Debian packages it needs
# (only those missing; apt-get, non-interactive), configures and builds.
#
#   scripts/setup.sh              build into ./build (RelWithDebInfo)
#   BUILD_DIR=b BUILD_TYPE=Debug scripts/setup.sh
#   RAFTLOG_CMAKE_ARGS="-DRAFTLOG_SANITIZE=address,undefined" scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
JOBS=${JOBS:-$(nproc)}

# Every package the build, the tests, the tool and the benchmark report use.
PACKAGES=(
  build-essential cmake pkg-config git
  liblmdb-dev libxxhash-dev libzstd-dev          # engine: metadata, checksums, compression
  libgtest-dev libgmock-dev libbenchmark-dev     # tests and benchmarks
  libcli11-dev nlohmann-json3-dev                # the raftlog tool: arguments, JSON
  libcpp-httplib-dev                             # raftlog-kv: HTTP transport and client API
  clang libclang-rt-dev                          # thread-safety analysis, sanitizers, fuzzing
  gnuplot-nox python3                            # benchmark report charts
)
# Not here: golang-go and golang-etcd-server-dev, which only the etcd raft
# peer of the cluster benchmark needs; scripts/etcd_peer.sh installs them.

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" ${RAFTLOG_CMAKE_ARGS:-}
cmake --build "$BUILD_DIR" --parallel "$JOBS"
