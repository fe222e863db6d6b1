#!/usr/bin/env bash
# Sets up, builds with warnings as errors, and runs the whole default test
# suite (everything but the "soak" label). This is the README's test command
# and what CI runs (.ci/run).
#
#   scripts/test.sh                 the default run
#   scripts/test.sh -L soak         extra ctest arguments are passed through
set -euo pipefail
cd "$(dirname "$0")/.."

export BUILD_DIR=${BUILD_DIR:-build}
export RAFTLOG_CMAKE_ARGS="-DRAFTLOG_WERROR=ON ${RAFTLOG_CMAKE_ARGS:-}"
scripts/setup.sh

if [ $# -eq 0 ]; then set -- -LE soak; fi
ctest --test-dir "$BUILD_DIR" --output-on-failure --parallel "$(nproc)" "$@"
