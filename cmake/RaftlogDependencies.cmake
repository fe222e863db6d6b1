# Finds the system libraries raftlog links against and defines the imported
# targets raftlog_dep::lmdb, raftlog_dep::xxhash and raftlog_dep::zstd.
#
# Used both by the source tree and by the installed raftlogConfig.cmake, so a
# consumer project finds exactly what the library was built with. Each missing
# library stops configuration with the Debian package that provides it.

include_guard(GLOBAL)
find_package(PkgConfig QUIET)

function(raftlog_require_pkg target module header debian_package)
  if(TARGET raftlog_dep::${target})
    return()
  endif()
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(RAFTLOG_PC_${target} QUIET IMPORTED_TARGET GLOBAL ${module})
  endif()
  if(RAFTLOG_PC_${target}_FOUND)
    add_library(raftlog_dep::${target} INTERFACE IMPORTED GLOBAL)
    target_link_libraries(raftlog_dep::${target} INTERFACE PkgConfig::RAFTLOG_PC_${target})
    return()
  endif()
  # pkg-config is optional: fall back to a plain header + library search.
  find_path(RAFTLOG_${target}_INCLUDE_DIR ${header})
  find_library(RAFTLOG_${target}_LIBRARY NAMES ${module} ${target})
  if(NOT RAFTLOG_${target}_INCLUDE_DIR OR NOT RAFTLOG_${target}_LIBRARY)
    message(FATAL_ERROR
      "raftlog: the ${target} library was not found (header ${header}). "
      "Install the Debian package '${debian_package}' "
      "(sudo apt-get install ${debian_package}) or run scripts/setup.sh.")
  endif()
  add_library(raftlog_dep::${target} INTERFACE IMPORTED GLOBAL)
  target_include_directories(raftlog_dep::${target} INTERFACE ${RAFTLOG_${target}_INCLUDE_DIR})
  target_link_libraries(raftlog_dep::${target} INTERFACE ${RAFTLOG_${target}_LIBRARY})
endfunction()

raftlog_require_pkg(lmdb lmdb lmdb.h liblmdb-dev)
raftlog_require_pkg(xxhash libxxhash xxhash.h libxxhash-dev)
raftlog_require_pkg(zstd libzstd zstd.h libzstd-dev)

find_package(Threads REQUIRED)
