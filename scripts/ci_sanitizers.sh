#!/usr/bin/env bash
# CI step: the tests under sanitizers.
#  1. ASan + UBSan: builds the libraries, tests and tools (not the
#     benchmarks) and runs the whole default test suite, as scripts/test.sh
#     does but without the "build" label (packaging checks that rebuild the
#     project; the normal run has them), the "soak" label, and ASAN_EXCLUDE
#     (tests that measure RSS).
#  2. TSan: builds the tests (not the tool) and runs every test whose name
#     says Concurren* (readers during appends, truncations, compactions and
#     snapshot pruning; concurrent FaultFileSystem and Logger use), then the
#     whole suites of TSAN_FULL_SUITES (default: engine, io, snapshot, raft
#     and kv: background preparation and syncing, readers that must not wait
#     for fdatasync, the raft core on DiskStorage, the kv service's threads
#     under the fault harness).
# Prints the time of each phase; exits non-zero on any failure.
#
#   scripts/ci_sanitizers.sh
#   ASAN_BUILD_DIR=a TSAN_BUILD_DIR=t JOBS=2 scripts/ci_sanitizers.sh
#   SKIP_ASAN=1 / SKIP_TSAN=1 scripts/ci_sanitizers.sh   one half only
set -euo pipefail
cd "$(dirname "$0")/.."

ASAN_DIR=${ASAN_BUILD_DIR:-build-ci-asan}
TSAN_DIR=${TSAN_BUILD_DIR:-build-ci-tsan}
JOBS=${JOBS:-$(nproc)}
TSAN_SUITES=${TSAN_SUITES:-"engine io snapshot raft"}
TSAN_FULL_SUITES=${TSAN_FULL_SUITES:-"engine io snapshot raft kv"}
# Tests that measure memory (RSS) and so cannot hold under ASan's shadow
# memory and quarantine; a regular expression for ctest -E.
ASAN_EXCLUDE=${ASAN_EXCLUDE:-"^DumpMemoryTest\\."}

start=$(date +%s)
phase_start=$start
phase() {
  local now
  now=$(date +%s)
  printf 'ci_sanitizers: %-40s %4ds\n' "$1" $((now - phase_start))
  phase_start=$now
}

# Debug builds (assertions on) with line tables only (-g1: enough for the
# sanitizers' stack traces) at a low optimization level: building dominates
# this step, and -O2 -g takes 3 to 5 times longer to compile (measured on
# tests/raft/raft_test.cc: 114 s at -O2 -g, 58 s at -O1 -g1, 22 s at -O0 -g1).
# Warnings are the normal build's business (-Werror there).
configure() {  # configure <dir> <sanitizers> <optimization> <extra cmake args...>
  local dir=$1 sanitize=$2 opt=$3
  shift 3
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="$opt -g1" \
    -DRAFTLOG_SANITIZE="$sanitize" -DRAFTLOG_BUILD_BENCHMARKS=OFF -DRAFTLOG_INSTALL=OFF "$@" \
    >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
}

if [ -z "${SKIP_ASAN:-}" ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  configure "$ASAN_DIR" address,undefined -O0
  cmake --build "$ASAN_DIR" --parallel "$JOBS"
  phase "ASan+UBSan build"
  ctest --test-dir "$ASAN_DIR" --output-on-failure --parallel "$JOBS" -LE 'soak|build' \
    -E "$ASAN_EXCLUDE"
  phase "ASan+UBSan tests"
fi

if [ -z "${SKIP_TSAN:-}" ]; then
  # halt_on_error: a data race fails the test that has it.
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
  # -O1: TSan slows unoptimized code down the most.
  configure "$TSAN_DIR" thread -O1 -DRAFTLOG_BUILD_TOOLS=OFF
  cmake --build "$TSAN_DIR" --parallel "$JOBS"
  phase "TSan build"
  for s in $TSAN_SUITES; do
    # A suite without such tests runs none, which gtest does not count as
    # a failure.
    "$TSAN_DIR/tests/${s}_tests" --gtest_filter='*Concurren*' --gtest_brief=1
  done
  phase "TSan: Concurren* tests"
  labels=$(echo "$TSAN_FULL_SUITES" | sed 's/ \+/|/g')
  ctest --test-dir "$TSAN_DIR" --output-on-failure --parallel "$JOBS" -L "^($labels)\$" -LE soak
  phase "TSan: full suites ($TSAN_FULL_SUITES)"
fi
printf 'ci_sanitizers: %-40s %4ds\n' "total" $(($(date +%s) - start))
