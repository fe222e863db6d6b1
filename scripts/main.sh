#!/usr/bin/env bash
# The main job: sets raftlog up on a Debian machine (the packages it needs, a
# Release build in ./build-release) and runs a short side-by-side benchmark of
# a raft cluster in one process (1 and 3 RawNodes, 1 KiB entries, 64
# proposals per round) on MemoryStorage and on DiskStorage with fdatasync,
# in a temporary directory, with a raw pwrite+fdatasync probe of the same
# bytes between their turns: progress while it runs, a results table with
# ratios to MemoryStorage and to the disk's limit, then `raftlog info` on the
# leader's DiskStorage log and its last entries (`raftlog dump`). About 45 s
# of running once built.
#
#   scripts/main.sh              the main job
#   scripts/main.sh --keep       the same, keeping the logs it made
#   scripts/main.sh --full       the full benchmark report instead (about 6 min):
#                                scripts/bench_report.py, which rewrites
#                                docs/benchmarks.md and its charts; further
#                                arguments go to it
#
# Environment: BUILD_DIR (default build-release), RAFTLOG_BENCH_DIR (where the
# temporary logs go; default /tmp, which must be a real disk, not tmpfs, for
# the fdatasync figures to mean anything), SECONDS_PER_STORAGE (default 8).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-release}
mode=demo
keep=0
if [ "${1:-}" = "--full" ]; then
  mode=full
  shift
elif [ "${1:-}" = "--keep" ]; then
  keep=1
  shift
fi
if [ "$mode" = demo ] && [ $# -gt 0 ]; then
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi

# --- setup: packages and a Release build (scripts/setup.sh), its output in a log.
mkdir -p "$BUILD_DIR"
setup_log="$BUILD_DIR/main-setup.log"
echo "== setup: Debian packages and a Release build in $BUILD_DIR (log: $setup_log)"
start=$(date +%s)
set +e
BUILD_DIR="$BUILD_DIR" BUILD_TYPE=Release \
  RAFTLOG_CMAKE_ARGS="-DRAFTLOG_BUILD_TESTS=OFF ${RAFTLOG_CMAKE_ARGS:-}" \
  scripts/setup.sh 2>&1 | tee "$setup_log" | while IFS= read -r line; do
    # Progress: the build's percentage, once per step of 10 %.
    case "$line" in
      setup:*) echo "   $line" ;;
      \[*%\]*)
        pct=${line:1:3}
        pct=${pct// /}
        if [ $((pct / 10)) -ne "${last_decile:--1}" ]; then
          last_decile=$((pct / 10))
          echo "   building: ${pct}% ($(($(date +%s) - start)) s)"
        fi
        ;;
    esac
  done
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "setup failed (exit $status); the end of $setup_log:" >&2
  tail -n 30 "$setup_log" >&2
  exit "$status"
fi
echo "   ready ($(($(date +%s) - start)) s)"

if [ "$mode" = full ]; then
  exec python3 scripts/bench_report.py --build-dir "$BUILD_DIR" "$@"
fi

# --- the run, in a temporary directory. First write back what the build left
# dirty, so that it does not land on the benchmark's fdatasyncs.
sync
base=${RAFTLOG_BENCH_DIR:-/tmp}
dir=$(mktemp -d "$base/raftlog-main-XXXXXX")
if [ "$keep" -eq 0 ]; then
  trap 'rm -rf "$dir"' EXIT
fi
fstype=$(findmnt -n -o FSTYPE -T "$dir" 2>/dev/null || echo "?")
echo
echo "== raft cluster benchmark: MemoryStorage against DiskStorage (sync) in $dir ($fstype)"
"$BUILD_DIR/bench/raft_cluster_demo" --dir "$dir" --seconds "${SECONDS_PER_STORAGE:-8}"

log="$dir/cluster-3/node1"
echo
echo "== raftlog info $log   (the 3-node cluster's leader)"
"$BUILD_DIR/tools/raftlog" info "$log"
last=$("$BUILD_DIR/tools/raftlog" info --format json "$log" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["last_index"])')
echo
echo "== raftlog dump $log --from $((last - 4))   (its last 5 entries)"
"$BUILD_DIR/tools/raftlog" dump "$log" --from $((last - 4))
echo
if [ "$keep" -eq 1 ]; then
  echo "logs kept in $dir (remove with: rm -rf $dir)"
else
  echo "(the logs in $dir are removed now; scripts/main.sh --keep keeps them)"
fi
