#!/usr/bin/env bash
# The raftlog-kv benchmark: client-observed puts/s and p50/p99 latency of a
# 3-process cluster on 127.0.0.1 (kv/bench.cc), with DiskStorage syncing
# (fdatasync per write batch) and with MemoryStorage, at 128 B and 1 KiB
# values, and the disk's limit for reference (one pwrite + fdatasync of a
# value at a time, in the same directory). Prints a Markdown table.
#
#   scripts/kv_bench.sh [--duration S] [--clients N]
# Environment: BUILD_DIR (default build), KV_BENCH_DIR (default /tmp; the
# nodes' data go in a new directory below it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
duration=10
clients=16
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    *) echo "usage: $0 [--duration S] [--clients N]" >&2; exit 2 ;;
  esac
done
if [ ! -x "$build/kv/raftlog-kv-bench" ] || [ ! -x "$build/kv/raftlog-kv" ]; then
  cmake --build "$build" --target raftlog_kv_server raftlog_kv_bench -j"${JOBS:-2}" >/dev/null
fi
work=$(mktemp -d "${KV_BENCH_DIR:-/tmp}/raftlog-kv-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
bench=$build/kv/raftlog-kv-bench
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(f\"{d['$2']:$3}\")" "$1"; }

echo "raftlog-kv: 3 processes on 127.0.0.1, $clients closed-loop clients, puts, ${duration} s each" >&2
echo
echo "| storage | value | puts/s | p50 ms | p99 ms |"
echo "|---|---:|---:|---:|---:|"
for size in 128 1024; do
  for storage in disk memory; do
    echo "  $storage, $size B ..." >&2
    out=$("$bench" --storage "$storage" --value-size "$size" --clients "$clients" \
          --duration "$duration" --dir "$work/$storage-$size")
    name="MemoryStorage"
    [ "$storage" = disk ] && name="DiskStorage, fdatasync per batch"
    echo "| $name | $size B | $(field "$out" ops_per_s .0f) | $(field "$out" p50_ms .2f) | $(field "$out" p99_ms .2f) |"
  done
  echo "  raw disk, $size B ..." >&2
  out=$("$bench" --raw-disk --value-size "$size" --duration 5 --dir "$work")
  echo "| disk limit: pwrite+fdatasync, 1 thread | $size B | $(field "$out" ops_per_s .0f) | $(field "$out" p50_ms .2f) | $(field "$out" p99_ms .2f) |"
done
