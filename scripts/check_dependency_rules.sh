#!/usr/bin/env bash
# Checks the layering of docs/architecture.md §1 on the sources: which of our headers
# each folder may include. Prints every violation; exits 1 if there is any.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
fail=0

# check <description> <files...> -- <allowed include regex>
check() {
  local what=$1 allowed=$2
  shift 2
  local f line
  for f in "$@"; do
    [ -f "$f" ] || continue
    while IFS= read -r line; do
      inc=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/' <<<"$line")
      if ! grep -qE "^($allowed)$" <<<"$inc"; then
        echo "$f: $what may not include \"$inc\""
        fail=1
      fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
  done
}

files() { find "$@" -type f \( -name '*.h' -o -name '*.cc' \) 2>/dev/null | sort; }

check "format/ (needs none of ours)" 'raftlog/format/[a-z0-9_/]+\.h' $(files raftlog/format)
check "raft/ (only format/status.h, format/result.h, format/bytes.h)" \
  'raftlog/raft/[a-z0-9_/]+\.h|raftlog/format/status\.h|raftlog/format/result\.h|raftlog/format/bytes\.h|raftlog/port/[a-z0-9_]+\.h' $(files raftlog/raft)
check "io/ (the file-system seam: Status only)" \
  'raftlog/io/[a-z0-9_/]+\.h|raftlog/format/status\.h|raftlog/format/result\.h|raftlog/port/[a-z0-9_]+\.h' $(files raftlog/io)
check "snapshot/ (builds on format/ and io/)" \
  'raftlog/snapshot/[a-z0-9_/]+\.h|raftlog/format/[a-z0-9_]+\.h|raftlog/io/[a-z0-9_]+\.h|raftlog/port/[a-z0-9_]+\.h' $(files raftlog/snapshot)
check "engine/'s core (never raft/ or snapshot/)" \
  'raftlog/engine/[a-z0-9_/]+\.h|raftlog/format/[a-z0-9_]+\.h|raftlog/io/[a-z0-9_]+\.h|raftlog/port/[a-z0-9_]+\.h' \
  $(files raftlog/engine | grep -Ev '^raftlog/engine/(disk_storage|disk_storage_repair|log_writer)\.')
check "engine/disk_storage and log_writer (the adapter)" \
  'raftlog/engine/[a-z0-9_/]+\.h|raftlog/snapshot/[a-z0-9_]+\.h|raftlog/raft/storage\.h|raftlog/raft/types\.h|raftlog/format/[a-z0-9_]+\.h|raftlog/io/[a-z0-9_]+\.h|raftlog/port/[a-z0-9_]+\.h' \
  $(files raftlog/engine | grep -E '^raftlog/engine/(disk_storage|disk_storage_repair|log_writer)\.')
public='raftlog/version\.h|raftlog/(format|io|snapshot|engine|raft)/([a-z0-9_]+)\.h|raftlog/raft/(quorum|tracker|confchange)/[a-z0-9_]+\.h|raftlog/port/[a-z0-9_]+\.h|tools/[a-z0-9_]+\.h|bench/[a-z0-9_]+\.h'
check "tools/ (public headers only)" "$public" $(files tools)
check "bench/ (public headers only)" "$public" $(files bench)
check "kv/ (public headers only)" "$public|kv/[a-z0-9_]+\.h" $(files kv)

if [ "$fail" -ne 0 ]; then
  echo "dependency rules: violations found (see docs/architecture.md §1)"
  exit 1
fi
echo "dependency rules: ok"
