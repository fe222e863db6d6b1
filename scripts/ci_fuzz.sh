#!/usr/bin/env bash
# CI step: fuzzing. Builds the libFuzzer targets of fuzz/ with
# clang, ASan and UBSan (tests, tools and benchmarks off; thread-safety
# warnings are errors), replays each checked-in corpus, then fuzzes each target for FUZZ_SECONDS, FUZZ_JOBS
# targets at a time, starting from its corpus. New inputs go to a scratch
# copy in the build directory, never into the source tree (to keep some,
# minimize them into fuzz/corpus/<target> by hand: docs/reliability.md).
# A crash leaves its input in $BUILD_DIR/artifacts and fails the step.
# Prints the executions per target and the time of each phase.
#
#   scripts/ci_fuzz.sh                      30 s per target
#   FUZZ_SECONDS=600 scripts/ci_fuzz.sh     longer
#   FUZZ_BUILD_DIR=b JOBS=2 FUZZ_JOBS=2 scripts/ci_fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${FUZZ_BUILD_DIR:-build-ci-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
JOBS=${JOBS:-$(nproc)}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
CC_BIN=${FUZZ_CC:-clang}
CXX_BIN=${FUZZ_CXX:-clang++}

start=$(date +%s)
phase_start=$start
phase() {
  local now
  now=$(date +%s)
  printf 'ci_fuzz: %-34s %4ds\n' "$1" $((now - phase_start))
  phase_start=$now
}

if ! command -v "$CXX_BIN" >/dev/null; then
  echo "ci_fuzz: $CXX_BIN not found (Debian: clang libclang-rt-dev; scripts/setup.sh installs them)"
  exit 1
fi
# The only clang build of CI, so it also holds the libraries to clang's
# thread-safety analysis (CMakeLists.txt turns it on for clang): a
# warning fails the step. Every library of raftlog/ is built here.
CC=$CC_BIN CXX=$CXX_BIN cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-Werror=thread-safety" -DRAFTLOG_BUILD_FUZZERS=ON -DRAFTLOG_SANITIZE=address,undefined \
  -DRAFTLOG_BUILD_TESTS=OFF -DRAFTLOG_BUILD_TOOLS=OFF -DRAFTLOG_BUILD_BENCHMARKS=OFF \
  -DRAFTLOG_BUILD_KV=OFF \
  -DRAFTLOG_INSTALL=OFF >"$BUILD_DIR.configure.log" 2>&1 ||
  { cat "$BUILD_DIR.configure.log"; exit 1; }
cmake --build "$BUILD_DIR" --parallel "$JOBS"
phase "build"

targets=()
for f in "$BUILD_DIR"/fuzz/fuzz_*; do
  [ -x "$f" ] && targets+=("$(basename "$f" | sed 's/^fuzz_//')")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "ci_fuzz: no fuzz targets were built"
  exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$BUILD_DIR/artifacts"

# The corpora as regression tests: every input once.
for t in "${targets[@]}"; do
  "$BUILD_DIR/fuzz/fuzz_$t" -runs=0 "fuzz/corpus/$t" >"$BUILD_DIR/replay-$t.log" 2>&1 ||
    { echo "ci_fuzz: replaying fuzz/corpus/$t failed:"; tail -40 "$BUILD_DIR/replay-$t.log"; exit 1; }
done
phase "replay the corpora"

# Fuzzing, FUZZ_JOBS targets at a time.
run_one() {
  local t=$1 work="$BUILD_DIR/work/$1"
  rm -rf "$work"
  mkdir -p "$work"
  # -max_len: room for a segment body (segment_recovery, verify replace it).
  "$BUILD_DIR/fuzz/fuzz_$t" "$work" "fuzz/corpus/$t" -max_total_time="$FUZZ_SECONDS" \
    -max_len=70000 -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$BUILD_DIR/artifacts/$t-" >"$BUILD_DIR/fuzz-$t.log" 2>&1
}
failed=()
pids=()
names=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  names+=("$t")
  if [ ${#pids[@]} -ge "$FUZZ_JOBS" ]; then
    wait "${pids[0]}" || failed+=("${names[0]}")
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for k in "${!pids[@]}"; do
  wait "${pids[$k]}" || failed+=("${names[$k]}")
done
phase "fuzz ${#targets[@]} targets x ${FUZZ_SECONDS}s"

total=0
for t in "${targets[@]}"; do
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD_DIR/fuzz-$t.log" |
    grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$BUILD_DIR/fuzz-$t.log" | tail -1 | grep -o '[0-9]*')
  printf 'ci_fuzz: %-18s %10s executions, coverage %s\n' "$t" "${execs:-?}" "${cov:-?}"
  total=$((total + ${execs:-0}))
done
echo "ci_fuzz: $total executions in all"
if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "ci_fuzz: fuzz_$t FAILED (input in $BUILD_DIR/artifacts/$t-*):"
    grep -v '^raftlog: ' "$BUILD_DIR/fuzz-$t.log" | tail -60
  done
  exit 1
fi
printf 'ci_fuzz: %-34s %4ds\n' "total" $(($(date +%s) - start))
