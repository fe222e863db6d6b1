#!/usr/bin/env bash
# The windowed raft cluster benchmark of raftlog (raft_cluster_bench
# --windowed) side by side with the etcd raft peer (bench/etcd,
# scripts/etcd_peer.sh), case by case, interleaved: for every repetition and
# case, raftlog's run then etcd's. Prints every JSON line (stdout, or the file
# given by OUT) and then a table of the medians per case with the ratios
# raftlog ÷ etcd raft (committed entries/s; p50 and p99 latency).
#
#   scripts/cluster_vs_etcd.sh                       all 18 cases once, 10 s each
#   scripts/cluster_vs_etcd.sh 'memory/*/*'          storage/nodes/entry_bytes (etcd's names:
#                                                    memory, wal_sync, wal_nosync; shell patterns)
#   REPS=3 BENCH_SECONDS=10 OUT=runs.jsonl scripts/cluster_vs_etcd.sh
#   SIDES=raftlog scripts/cluster_vs_etcd.sh 'memory/1/*'   one side only
#
# raftlog's storage for each etcd one: memory -> MemoryStorage (memory),
# wal_sync -> DiskStorage with fdatasync per Ready (disk_sync) and DiskStorage
# under asynchronous storage writes with a LogWriter per node (disk_pipelined;
# PIPELINED=0 leaves it out), wal_nosync -> DiskStorage with
# SyncPolicy::kNever (disk_nosync) and the same under a LogWriter per node
# (disk_pipelined_nosync; PIPELINED=0 leaves it out). For the synced runs the table also shows
# raftlog's time against the raw disk doing the same writes and fdatasyncs
# (vs_raw_disk, measured by raft_cluster_bench right after each run).
#
# Environment: BUILD_DIR (build; raft_cluster_bench must be built there, in
# Release or RelWithDebInfo), REPS (1), BENCH_SECONDS (10), WARMUP (3), PIPELINED (1),
# WINDOW (256), SIDES ("raftlog etcd"), OUT (a file for the JSON lines),
# RAFTLOG_BENCH_DIR (/tmp: the logs of both sides go there).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
REPS=${REPS:-1}
BENCH_SECONDS=${BENCH_SECONDS:-10}
WARMUP=${WARMUP:-3}
WINDOW=${WINDOW:-256}
SIDES=${SIDES:-raftlog etcd}
OUT=${OUT:-}
PIPELINED=${PIPELINED:-1}

bench="$BUILD_DIR/bench/raft_cluster_bench"
if [ ! -x "$bench" ]; then
  echo "cluster_vs_etcd: $bench is not built (cmake --build $BUILD_DIR --target raft_cluster_bench)" >&2
  exit 2
fi
mapfile -t all < <(scripts/etcd_peer.sh --list)
cases=()
if [ $# -eq 0 ]; then
  cases=("${all[@]}")
else
  for pattern in "$@"; do
    found=0
    for c in "${all[@]}"; do
      # shellcheck disable=SC2053  # a pattern on purpose
      if [[ $c == $pattern ]]; then cases+=("$c"); found=1; fi
    done
    if [ $found -eq 0 ]; then
      echo "cluster_vs_etcd: no case matches '$pattern' (scripts/etcd_peer.sh --list)" >&2
      exit 2
    fi
  done
fi
if [[ " $SIDES " == *" etcd "* ]]; then
  BUILD_DIR=$BUILD_DIR scripts/etcd_peer.sh --build-only
fi
etcd_bin="$BUILD_DIR/etcd/etcd_raft_bench"

lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
for ((rep = 1; rep <= REPS; rep++)); do
  for c in "${cases[@]}"; do
    IFS=/ read -r storage nodes bytes <<<"$c"
    case $storage in
      memory) ours=memory ;;
      wal_sync) ours=disk_sync; if [ "$PIPELINED" = 1 ]; then ours="disk_sync disk_pipelined"; fi ;;
      wal_nosync) ours=disk_nosync; if [ "$PIPELINED" = 1 ]; then ours="disk_nosync disk_pipelined_nosync"; fi ;;
    esac
    for side in $SIDES; do
      echo "cluster_vs_etcd: rep $rep/$REPS $c $side" >&2
      if [ "$side" = raftlog ]; then
        for st in $ours; do
          "$bench" --windowed --storage="$st" --nodes="$nodes" --entry-bytes="$bytes" \
            --window="$WINDOW" --seconds="$BENCH_SECONDS" --warmup="$WARMUP" | tee -a "$lines"
        done
      else
        "$etcd_bin" -storage "$storage" -nodes "$nodes" -entry-bytes "$bytes" -window "$WINDOW" \
          -seconds "$BENCH_SECONDS" -warmup "$WARMUP" | tee -a "$lines"
      fi
    done
  done
done
if [ -n "$OUT" ]; then cp "$lines" "$OUT"; fi

python3 - "$lines" <<'EOF'
import json, statistics, sys
pair = {"memory": "memory", "disk_sync": "wal_sync", "disk_pipelined": "wal_sync",
        "disk_nosync": "wal_nosync", "disk_pipelined_nosync": "wal_nosync"}
ours_runs, etcd_runs = {}, {}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    if r["impl"] == "raftlog":
        ours_runs.setdefault((r["storage"], r["nodes"], r["entry_bytes"]), []).append(r)
    else:
        etcd_runs.setdefault((r["storage"], r["nodes"], r["entry_bytes"]), []).append(r)
# One row per raftlog storage and case, beside its etcd counterpart (etcd-only
# cases too, when raftlog's side was not run).
rows = {k: (v, etcd_runs.get((pair.get(k[0], k[0]), k[1], k[2]), [])) for k, v in ours_runs.items()}
for k, v in etcd_runs.items():
    if not any(pair.get(o[0], o[0]) == k[0] and o[1:] == k[1:] for o in ours_runs):
        rows[k] = ([], v)
def med(rs, key):
    return statistics.median(x.get(key, 0) for x in rs)
print()
print("| storage (etcd / raftlog) | nodes | entry | raftlog entries/s | etcd entries/s | ratio | "
      "raftlog p50/p99/max µs | etcd p50/p99 µs | raftlog vs raw disk | runs |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
names = {"memory": "memory / MemoryStorage", "disk_sync": "wal_sync / DiskStorage sync",
         "disk_pipelined": "wal_sync / DiskStorage pipelined",
         "disk_nosync": "wal_nosync / DiskStorage no sync",
         "disk_pipelined_nosync": "wal_nosync / DiskStorage pipelined, no sync",
         "wal_sync": "wal_sync / -",
         "wal_nosync": "wal_nosync / -"}
order = {"memory": 0, "wal_sync": 1, "disk_sync": 1, "disk_pipelined": 2, "wal_nosync": 3,
         "disk_nosync": 3, "disk_pipelined_nosync": 4}
for key in sorted(rows, key=lambda k: (order.get(k[0], 9), k[1], k[2])):
    ours, theirs = rows[key]
    def fmt(rs):
        return f"{med(rs, 'entries_per_s'):,.0f}" if rs else "-"
    def lat(rs, keys):
        return " / ".join(f"{med(rs, k):.0f}" for k in keys) if rs else "-"
    ratio = (f"{med(ours, 'entries_per_s') / med(theirs, 'entries_per_s'):.2f}x"
             if ours and theirs else "-")
    raw = (f"{med(ours, 'vs_raw_disk'):.2f}x" if ours and med(ours, 'vs_raw_disk') > 0 else "-")
    size = f"{key[2] // 1024} KiB" if key[2] >= 1024 else f"{key[2]} B"
    print(f"| {names.get(key[0], key[0])} | {key[1]} | {size} | {fmt(ours)} | {fmt(theirs)} | "
          f"{ratio} | {lat(ours, ('p50_us', 'p99_us', 'max_us'))} | "
          f"{lat(theirs, ('p50_us', 'p99_us'))} | {raw} | {max(len(ours), len(theirs))} |")
EOF
