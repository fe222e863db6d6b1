#!/usr/bin/env bash
# The installed package, checked the way a user meets it (ctest label
# "package"; tests/CMakeLists.txt registers each step):
#
#   package_test.sh static BUILD_DIR   install BUILD_DIR (a static build) into a
#                                      temporary prefix and check the prefix
#   package_test.sh shared-build       configure and build the libraries and
#                                      the tool shared (BUILD_SHARED_LIBS=ON)
#   package_test.sh shared             install that build and check the prefix,
#                                      plus the shared libraries' exports
#   package_test.sh deb                cpack -G DEB that build, check that apt
#                                      would install it (its dependencies
#                                      resolve; a simulation), extract it with
#                                      dpkg-deb -x and check the tree
#
# Checking a prefix: the files a user needs are there and no internal/ or
# test-harness header is; `raftlog --version` names the version; a CMake
# project with find_package(raftlog 0.1 REQUIRED) builds and runs (the
# umbrella target and a module target); so does a pkg-config build; and
# find_package refuses a too-new version. The consumer programs open a
# DiskStorage in a temporary directory, append, read back and reopen.
#
# Environment: SOURCE_DIR (the source tree), WORK_DIR (scratch, recreated per
# step), CXX (the compiler), CMAKE_COMMAND / CPACK_COMMAND, and optionally
# LAUNCHER (a compiler launcher such as ccache) and JOBS.
set -euo pipefail

mode=${1:?usage: package_test.sh static BUILD_DIR | shared-build | shared | deb}
: "${SOURCE_DIR:?}" "${WORK_DIR:?}" "${CXX:?}"
CMAKE_COMMAND=${CMAKE_COMMAND:-cmake}
CPACK_COMMAND=${CPACK_COMMAND:-cpack}
JOBS=${JOBS:-2}
consumer_src="$SOURCE_DIR/tests/package/consumer"
shared_build="$WORK_DIR/shared-build"

fail() { echo "package test ($mode): FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

launcher_args=()
if [ -n "${LAUNCHER:-}" ]; then
  launcher_args=(-DCMAKE_CXX_COMPILER_LAUNCHER="$LAUNCHER")
fi

# check_prefix PREFIX KIND: KIND is static or shared.
check_prefix() {
  local prefix=$1 kind=$2 work=$WORK_DIR/$mode
  local version
  version=$(sed -n 's/^project(raftlog VERSION \([0-9.]*\).*/\1/p' "$SOURCE_DIR/CMakeLists.txt")
  [ -n "$version" ] || fail "cannot read the version from CMakeLists.txt"

  step "the installed tree ($prefix)"
  local libdir
  libdir=$(dirname "$(find "$prefix" -name raftlog.pc -path '*/pkgconfig/*' | head -n 1)")
  libdir=${libdir%/pkgconfig}
  [ -d "$libdir" ] || fail "no pkgconfig/raftlog.pc under $prefix"
  for f in include/raftlog/version.h include/raftlog/engine/disk_storage.h \
           include/raftlog/raft/rawnode.h include/raftlog/format/status.h bin/raftlog; do
    [ -e "$prefix/$f" ] || fail "$f is not installed"
  done
  for f in raftlogConfig.cmake raftlogConfigVersion.cmake raftlogTargets.cmake; do
    [ -e "$libdir/cmake/raftlog/$f" ] || fail "<libdir>/cmake/raftlog/$f is not installed"
  done
  if [ "$kind" = shared ]; then
    [ -e "$libdir/libraftlog_raft_storage.so" ] || fail "libraftlog_raft_storage.so is not installed"
    if find "$libdir" -name 'libraftlog_*.a' | grep -q .; then fail "a shared install holds .a files"; fi
  else
    [ -e "$libdir/libraftlog_raft_storage.a" ] || fail "libraftlog_raft_storage.a is not installed"
  fi
  local bad
  bad=$(cd "$prefix" && find . \( -path '*/internal' -o -path '*/internal/*' -o -path '*rafttest*' \
          -o -path '*testutil*' -o -path '*/tests/*' -o -name '*_test.h' \) -print)
  [ -z "$bad" ] || fail "internal or test-harness files are installed: $bad"
  local headers
  headers=$(find "$prefix/include" -name '*.h' | wc -l)
  echo "   $headers headers, libraries in $libdir"

  step "raftlog --version"
  local out
  out=$("$prefix/bin/raftlog" --version) || fail "raftlog --version exited non-zero"
  [ "$out" = "raftlog $version" ] || fail "raftlog --version printed '$out', not 'raftlog $version'"

  step "find_package(raftlog 0.1 REQUIRED): build and run"
  rm -rf "$work/cmake"
  "$CMAKE_COMMAND" -S "$consumer_src" -B "$work/cmake" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" "${launcher_args[@]}" >"$work/cmake.log" 2>&1 \
    || { cat "$work/cmake.log"; fail "the consumer did not configure"; }
  grep -q "found raftlog $version in $libdir/cmake/raftlog" "$work/cmake.log" \
    || { cat "$work/cmake.log"; fail "find_package did not find the package under test"; }
  "$CMAKE_COMMAND" --build "$work/cmake" --parallel "$JOBS" || fail "the consumer did not build"
  "$work/cmake/consumer_umbrella" || fail "consumer_umbrella (raftlog::raftlog)"
  "$work/cmake/consumer_module" || fail "consumer_module (raftlog::raft_storage)"

  step "find_package refuses a too-new version"
  local v
  for v in 0.2 1.0; do
    rm -rf "$work/too-new"
    if "$CMAKE_COMMAND" -S "$consumer_src" -B "$work/too-new" -DCMAKE_CXX_COMPILER="$CXX" \
         -DCMAKE_PREFIX_PATH="$prefix" -DRAFTLOG_REQUEST=$v >"$work/too-new.log" 2>&1; then
      cat "$work/too-new.log"; fail "find_package(raftlog $v) accepted $version"
    fi
    grep -q "$version" "$work/too-new.log" && grep -q "raftlogConfigVersion.cmake\|version" "$work/too-new.log" \
      || { cat "$work/too-new.log"; fail "find_package(raftlog $v) failed without naming the versions"; }
  done

  step "pkg-config --cflags --libs raftlog: build and run"
  export PKG_CONFIG_PATH="$libdir/pkgconfig"
  local pc_version
  pc_version=$(pkg-config --modversion raftlog) || fail "pkg-config does not know raftlog"
  [ "$pc_version" = "$version" ] || fail "raftlog.pc says $pc_version, not $version"
  # shellcheck disable=SC2046
  "$CXX" -std=c++20 -O1 -o "$work/consumer_pc" "$consumer_src/main.cc" \
    -DRAFTLOG_EXPECTED_VERSION="\"$pc_version\"" \
    $(pkg-config --cflags --libs raftlog) || fail "the pkg-config build failed"
  LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/consumer_pc" \
    || fail "consumer_pc (pkg-config)"
}

# check_exports LIBDIR: each shared library exports the raftlog:: namespace
# and nothing else, and not the modules' internal namespaces.
check_exports() {
  local libdir=$1 lib syms bad count
  step "exported symbols (nm -D --defined-only)"
  for lib in "$libdir"/libraftlog_*.so; do
    syms=$(nm -D --defined-only -C "$lib" | cut -d' ' -f3-)
    count=$(grep -c . <<<"$syms" || true)
    # The version node (RAFTLOG_x.y) is an absolute symbol of its own.
    bad=$(grep -vE '^(RAFTLOG_[0-9.]+$|raftlog::|(typeinfo|typeinfo name|vtable|VTT|guard variable) for raftlog::|(non-)?virtual thunk to raftlog::)' <<<"$syms" || true)
    [ -z "$bad" ] || fail "$(basename "$lib") exports symbols outside raftlog::: $(head -n 5 <<<"$bad")"
    # The symbol's own name, before its parameter list, must not be in a
    # module's internal namespace (a public member may take internal types).
    bad=$(sed 's/(.*//' <<<"$syms" | grep -E 'raftlog::[a-z_:]*[a-z]::internal::' || true)
    [ -z "$bad" ] || fail "$(basename "$lib") exports module internals: $(head -n 5 <<<"$bad")"
    echo "   $(basename "$lib"): $count symbols, all raftlog::"
  done
  local soname
  soname=$(objdump -p "$libdir/libraftlog_raft_storage.so" | awk '/SONAME/ {print $2}')
  [[ "$soname" =~ ^libraftlog_raft_storage\.so\.[0-9]+(\.[0-9]+)?$ ]] \
    || fail "libraftlog_raft_storage.so has the soname '$soname'"
}

case "$mode" in
  static)
    build=${2:?usage: package_test.sh static BUILD_DIR}
    rm -rf "${WORK_DIR:?}/static"
    mkdir -p "$WORK_DIR/static"
    step "cmake --install $build"
    "$CMAKE_COMMAND" --install "$build" --prefix "$WORK_DIR/static/prefix" >/dev/null
    check_prefix "$WORK_DIR/static/prefix" static
    ;;
  shared-build)
    rm -rf "$shared_build"
    step "configure and build with BUILD_SHARED_LIBS=ON"
    "$CMAKE_COMMAND" -S "$SOURCE_DIR" -B "$shared_build" -DCMAKE_CXX_COMPILER="$CXX" \
      -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DRAFTLOG_BUILD_TESTS=OFF \
      -DRAFTLOG_BUILD_BENCHMARKS=OFF -DRAFTLOG_BUILD_KV=OFF -DRAFTLOG_BUILD_TOOLS=ON \
      -DRAFTLOG_WERROR=ON "${launcher_args[@]}" >/dev/null
    "$CMAKE_COMMAND" --build "$shared_build" --parallel "$JOBS"
    ;;
  shared)
    [ -f "$shared_build/CMakeCache.txt" ] || fail "no shared build (package_test.sh shared-build)"
    rm -rf "${WORK_DIR:?}/shared"
    mkdir -p "$WORK_DIR/shared"
    step "cmake --install (shared)"
    "$CMAKE_COMMAND" --install "$shared_build" --prefix "$WORK_DIR/shared/prefix" >/dev/null
    check_prefix "$WORK_DIR/shared/prefix" shared
    check_exports "$(dirname "$(find "$WORK_DIR/shared/prefix" -name 'libraftlog_raft_storage.so')")"
    ;;
  deb)
    [ -f "$shared_build/CMakeCache.txt" ] || fail "no shared build (package_test.sh shared-build)"
    rm -rf "${WORK_DIR:?}/deb"
    mkdir -p "$WORK_DIR/deb"
    step "cpack -G DEB"
    (cd "$shared_build" && "$CPACK_COMMAND" -G DEB -B "$WORK_DIR/deb/out") >"$WORK_DIR/deb/cpack.log" 2>&1 \
      || { cat "$WORK_DIR/deb/cpack.log"; fail "cpack -G DEB failed"; }
    deb=$(find "$WORK_DIR/deb/out" -maxdepth 1 -name 'raftlog_*.deb' | head -n 1)
    [ -n "$deb" ] || fail "cpack made no raftlog_*.deb"
    echo "   $(basename "$deb")"
    dpkg-deb -f "$deb" Package Version Depends
    # That it installs: apt resolves its Depends against this machine's
    # packages and would unpack it (a simulation, which changes nothing).
    step "apt-get install --simulate"
    if command -v apt-get >/dev/null; then
      apt-get install --simulate --no-install-recommends "$deb" >"$WORK_DIR/deb/apt.log" 2>&1 \
        || { cat "$WORK_DIR/deb/apt.log"; fail "apt-get would not install $(basename "$deb")"; }
      grep -q '^Inst raftlog ' "$WORK_DIR/deb/apt.log" \
        || { cat "$WORK_DIR/deb/apt.log"; fail "apt-get's simulation does not install raftlog"; }
    else
      echo "   (no apt-get here: skipped)"
    fi
    dpkg-deb -x "$deb" "$WORK_DIR/deb/root"
    check_prefix "$WORK_DIR/deb/root/usr" shared
    ;;
  *)
    fail "unknown step '$mode'"
    ;;
esac
echo "package test ($mode): ok"
