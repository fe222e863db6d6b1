#!/usr/bin/env bash
# Starts, stops or shows a 3-node raftlog-kv cluster on 127.0.0.1 (ports
# 8001-8003), one process per node, each with its DiskStorage under $KV_DIR.
#
#   scripts/cluster.sh start     # builds raftlog-kv if needed, starts 3 nodes
#   scripts/cluster.sh status    # each node's raft status
#   scripts/cluster.sh stop      # SIGTERM to every node (the data stay)
#   scripts/cluster.sh clean     # stop, then delete $KV_DIR
#
# Then: $BUILD_DIR/kv/raftlog-kv put hello world; ... get hello; ... members
# Environment: BUILD_DIR (default build), KV_DIR (default /tmp/raftlog-kv-cluster).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
dir=${KV_DIR:-/tmp/raftlog-kv-cluster}
bin=$build/kv/raftlog-kv
peers=1=127.0.0.1:8001,2=127.0.0.1:8002,3=127.0.0.1:8003
endpoints=127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003

running() { [ -f "$dir/node$1.pid" ] && kill -0 "$(cat "$dir/node$1.pid")" 2>/dev/null; }

start() {
  if [ ! -x "$bin" ]; then
    if [ ! -f "$build/CMakeCache.txt" ]; then
      echo "cluster: no build in $build; run scripts/setup.sh first (or set BUILD_DIR)" >&2
      exit 1
    fi
    echo "cluster: building raftlog-kv"
    cmake --build "$build" --target raftlog_kv_server -j"${JOBS:-2}" >/dev/null
  fi
  mkdir -p "$dir"
  for id in 1 2 3; do
    if running "$id"; then
      echo "node $id already running (pid $(cat "$dir/node$id.pid"))"
      continue
    fi
    "$bin" serve --id "$id" --peers "$peers" --data-dir "$dir/node$id" \
      >>"$dir/node$id.log" 2>&1 &
    echo $! >"$dir/node$id.pid"
    echo "node $id: pid $!, 127.0.0.1:800$id, data $dir/node$id, log $dir/node$id.log"
  done
  # Wait for an elected leader (up to 10 s).
  for _ in $(seq 1 50); do
    if "$bin" members --endpoints "$endpoints" --timeout-ms 500 2>/dev/null | grep -q '"leader":[1-9]'; then
      echo "cluster: ready; try: $bin put hello world && $bin get hello"
      return 0
    fi
    sleep 0.2
  done
  echo "cluster: no leader after 10 s; see $dir/node*.log" >&2
  exit 1
}

stop() {
  for id in 1 2 3; do
    if running "$id"; then kill "$(cat "$dir/node$id.pid")"; fi
  done
  # Wait for them to exit (they close their logs), up to 10 s each.
  for id in 1 2 3; do
    for _ in $(seq 1 100); do running "$id" || break; sleep 0.1; done
    if running "$id"; then kill -9 "$(cat "$dir/node$id.pid")"; fi
    if [ -f "$dir/node$id.pid" ]; then echo "node $id: stopped"; fi
    rm -f "$dir/node$id.pid"
  done
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) "$bin" status --endpoints "$endpoints" ;;
  clean) stop; rm -rf "$dir"; echo "cluster: removed $dir" ;;
  *) echo "usage: $0 start|status|stop|clean" >&2; exit 2 ;;
esac
