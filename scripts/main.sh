#!/usr/bin/env bash
# The main job: sets raftlog up (Debian packages, a Release build in
# ./build-release) and runs the storage benchmarks side by side on this
# machine: DiskStorage against MemoryStorage and against the raw
# pwrite+fdatasync limit of this disk, printing each target ratio.
#
#   scripts/main.sh                 the default run (a few minutes)
#   scripts/main.sh --only append   extra arguments go to scripts/bench_storage.py
set -euo pipefail
cd "$(dirname "$0")/.."

export BUILD_DIR=${BUILD_DIR:-build-release}
export BUILD_TYPE=Release
export RAFTLOG_CMAKE_ARGS="-DRAFTLOG_BUILD_TESTS=OFF ${RAFTLOG_CMAKE_ARGS:-}"
scripts/setup.sh

if [ $# -eq 0 ]; then set -- --repetitions 1 --only append,read,maintenance; fi
exec python3 scripts/bench_storage.py --build-dir "$BUILD_DIR" "$@"
