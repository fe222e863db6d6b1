#!/usr/bin/env bash
# The etcd raft peer of the raft cluster benchmark (bench/etcd/README.md):
# installs Debian's Go toolchain and etcd 3.4 sources if missing (apt-get,
# non-interactive), builds bench/etcd offline against them (GOPATH mode)
# into $BUILD_DIR/etcd, and runs the cases named on the command line, or
# all 18, printing one JSON line per case and repetition on stdout.
#
#   scripts/etcd_peer.sh                          every case once
#   scripts/etcd_peer.sh wal_sync/3/1024 'memory/*/128'
#                                                 cases: storage/nodes/entry_bytes
#                                                 (shell patterns match the list)
#   REPS=3 scripts/etcd_peer.sh > results.jsonl   repetitions, interleaved: every
#                                                 case once, then again
#   scripts/etcd_peer.sh --list                   the case names
#   scripts/etcd_peer.sh --build-only             install and build only
#   scripts/etcd_peer.sh --test                   the Go tests of bench/etcd
#
# Environment: BUILD_DIR (build), REPS (1), BENCH_SECONDS (10, measured time
# per case), WARMUP (3: seconds at most, the warm-up ends at the leader's
# first compaction), WINDOW (256), RAFTLOG_BENCH_DIR (/tmp; the WAL
# directories go there, on a real disk, as the C++ benchmarks').
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
REPS=${REPS:-1}
BENCH_SECONDS=${BENCH_SECONDS:-10}
WARMUP=${WARMUP:-3}
WINDOW=${WINDOW:-256}

mode=run
case "${1:-}" in
  --list | --build-only | --test) mode=${1#--}; shift ;;
esac

all=()
for storage in memory wal_sync wal_nosync; do
  for nodes in 1 3; do
    for bytes in 128 1024 16384; do all+=("$storage/$nodes/$bytes"); done
  done
done
if [ "$mode" = list ]; then
  printf '%s\n' "${all[@]}"
  exit 0
fi

cases=()
if [ $# -eq 0 ] || [ "$*" = "all" ]; then
  cases=("${all[@]}")
else
  for pattern in "$@"; do
    found=0
    for c in "${all[@]}"; do
      # shellcheck disable=SC2053  # a pattern on purpose
      if [[ $c == $pattern ]]; then cases+=("$c"); found=1; fi
    done
    if [ $found -eq 0 ]; then
      echo "etcd_peer: no case matches '$pattern' (storage/nodes/entry_bytes; --list)" >&2
      exit 2
    fi
  done
fi

# Debian 12: Go 1.19 and etcd 3.4.23's sources (go.etcd.io/etcd/raft, wal)
# with their dependencies under /usr/share/gocode.
PACKAGES=(golang-go golang-etcd-server-dev)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "etcd_peer: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi

# Offline, in GOPATH mode: the imports resolve to Debian's sources only
# (an empty first GOPATH entry, for anything go wants to write there).
out=$(mkdir -p "$BUILD_DIR/etcd" && cd "$BUILD_DIR/etcd" && pwd)
mkdir -p "$out/gopath"
export GO111MODULE=off GOFLAGS='' GOPROXY=off
export GOPATH="$out/gopath:/usr/share/gocode"
export GOCACHE=${GOCACHE:-$out/gocache}
bin="$out/etcd_raft_bench"

if [ "$mode" = test ]; then
  cd bench/etcd
  exec go test -count=1 -v .
fi
(cd bench/etcd && go vet . && go build -o "$bin" .)
echo "etcd_peer: built $bin" >&2
if [ "$mode" = build-only ]; then exit 0; fi

for ((rep = 1; rep <= REPS; rep++)); do
  for c in "${cases[@]}"; do
    IFS=/ read -r storage nodes bytes <<<"$c"
    echo "etcd_peer: rep $rep/$REPS $c" >&2
    "$bin" -storage "$storage" -nodes "$nodes" -entry-bytes "$bytes" -window "$WINDOW" \
      -seconds "$BENCH_SECONDS" -warmup "$WARMUP"
  done
done
