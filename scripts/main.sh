#!/usr/bin/env bash
# The main job: sets raftlog up on a Debian machine (the packages it needs, a
# Release build in ./build-release) and runs a short side-by-side benchmark of
# a raft cluster in one process (1 and 3 RawNodes, 1 KiB entries, 64
# proposals per round) on MemoryStorage and on DiskStorage with fdatasync,
# in a temporary directory, with a raw pwrite+fdatasync probe of the same
# bytes between their turns: progress while it runs, a results table with
# ratios to MemoryStorage and to the disk's limit, then `raftlog info` on the
# leader's DiskStorage log and its last entries (`raftlog dump`). Before
# those, the windowed cluster (256 proposals in flight, one Propose per entry)
# on MemoryStorage, DiskStorage with Save on the Ready loop's thread, and
# DiskStorage under a LogWriter thread per node (pipelined group commit),
# 1 and 3 nodes. About 75 s of running once built.
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
# the fdatasync figures to mean anything), SECONDS_PER_STORAGE (default 8),
# WINDOWED_SECONDS (each windowed case; default 3).
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
  sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2
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

# The windowed cluster: the leader keeps 256 proposals in flight, one Propose
# per entry, as etcd raft's own cluster benchmarks do; the pipelined storage
# runs each node's appends on a LogWriter thread (asynchronous storage
# writes: group commit while the Ready loop goes on).
windowed_seconds=${WINDOWED_SECONDS:-3}
echo
echo "== windowed raft cluster: 256 proposals in flight, 1 KiB entries, ${windowed_seconds} s per case"
echo "   memory: MemoryStorage; disk sync: DiskStorage, Save (fdatasync) on the Ready loop's thread;"
echo "   disk pipelined: DiskStorage under a LogWriter thread per node (group commit, fdatasync per batch)"
lines="$dir/windowed.jsonl"
: > "$lines"
for nodes in 1 3; do
  for storage in memory disk_sync disk_pipelined; do
    printf '   %d node(s), %-15s ' "$nodes" "$storage"
    RAFTLOG_BENCH_DIR="$dir" "$BUILD_DIR/bench/raft_cluster_bench" --windowed --storage="$storage" \
      --nodes="$nodes" --entry-bytes=1024 --seconds="$windowed_seconds" --warmup=1 2>/dev/null |
      tail -n 1 | tee -a "$lines" |
      python3 -c 'import json, sys; print(format(json.load(sys.stdin)["entries_per_s"], ">10,.0f"), "entries/s")'
  done
done
python3 - "$lines" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mem = {r["nodes"]: r["entries_per_s"] for r in rows if r["storage"] == "memory"}
print()
print(f"{'nodes':>5}  {'storage':<15} {'entries/s':>10} {'vs memory':>9} {'vs raw disk':>11} "
      f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
for r in rows:
    vs_mem = r["entries_per_s"] / mem[r["nodes"]] if mem.get(r["nodes"]) else float("nan")
    raw = r.get("vs_raw_disk")
    raw_text = f"{raw:>11.2f}" if raw is not None and r["storage"] != "memory" else f"{'-':>11}"
    print(f"{r['nodes']:>5}  {r['storage']:<15} {r['entries_per_s']:>10,.0f} {vs_mem:>9.2f} {raw_text} "
          f"{r['p50_us'] / 1000:>7.2f} {r['p99_us'] / 1000:>7.2f} {r['max_us'] / 1000:>7.2f}")
print("vs raw disk: the raw pwrite+fdatasync loop's time for the same bytes and fdatasyncs,")
print("measured right after each run, over the storage's (1 = the disk's limit)")
PY

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
