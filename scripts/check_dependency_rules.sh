#!/usr/bin/env bash
# Checks the layering of STYLE.md §6.1 on the sources: which of our headers
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

check "format/ (needs none of ours)" 'format/[a-z0-9_/]+\.h' $(files format)
check "raft/ (only format/status.h, format/result.h)" \
  'raft/[a-z0-9_/]+\.h|format/status\.h|format/result\.h|port/[a-z0-9_]+\.h' $(files raft)
check "io/ (the file-system seam: Status only)" \
  'io/[a-z0-9_/]+\.h|format/status\.h|format/result\.h|port/[a-z0-9_]+\.h' $(files io)
check "snapshot/ (builds on format/ and io/)" \
  'snapshot/[a-z0-9_/]+\.h|format/[a-z0-9_]+\.h|io/[a-z0-9_]+\.h|port/[a-z0-9_]+\.h' $(files snapshot)
check "engine/'s core (never raft/ or snapshot/)" \
  'engine/[a-z0-9_/]+\.h|format/[a-z0-9_]+\.h|io/[a-z0-9_]+\.h|port/[a-z0-9_]+\.h' \
  $(files engine | grep -v '^engine/raft_storage\.')
check "engine/raft_storage (the adapter)" \
  'engine/[a-z0-9_/]+\.h|snapshot/[a-z0-9_]+\.h|raft/storage\.h|raft/types\.h|format/[a-z0-9_]+\.h|io/[a-z0-9_]+\.h|port/[a-z0-9_]+\.h' \
  $(files engine | grep '^engine/raft_storage\.')
public='(format|io|snapshot|engine|raft)/([a-z0-9_]+)\.h|raft/(quorum|tracker|confchange)/[a-z0-9_]+\.h|port/[a-z0-9_]+\.h|tools/[a-z0-9_]+\.h|bench/[a-z0-9_]+\.h'
check "tools/ (public headers only)" "$public" $(files tools)
check "bench/ (public headers only)" "$public" $(files bench)

if [ "$fail" -ne 0 ]; then
  echo "dependency rules: violations found (see STYLE.md §6.1)"
  exit 1
fi
echo "dependency rules: ok"
