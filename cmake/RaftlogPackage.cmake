# The installed package: find_package(raftlog <version>) files, raftlog.pc for
# pkg-config, <raftlog/version.h>, and the Debian package (cpack -G DEB).
#
# Layout under the prefix (docs/architecture.md, "The installed package"):
#   include/raftlog/<module>/*.h, include/raftlog/version.h
#   <libdir>/libraftlog_<module>.{a,so*}
#   <libdir>/cmake/raftlog/raftlog{Config,ConfigVersion,Targets*}.cmake,
#                         RaftlogDependencies.cmake
#   <libdir>/pkgconfig/raftlog.pc
#   bin/raftlog (when the tool is built)

include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

set(RAFTLOG_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/raftlog)

install(TARGETS raftlog_raftlog raftlog_version EXPORT raftlogTargets)
install(FILES ${PROJECT_BINARY_DIR}/include/raftlog/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/raftlog)
install(EXPORT raftlogTargets NAMESPACE raftlog:: DESTINATION ${RAFTLOG_CMAKE_DIR})

# Static libraries need the system libraries (lmdb, xxhash, zstd) at the
# consumer's link; shared ones carry them, so their package needs only Threads.
set(RAFTLOG_STATIC_LIBS ON)
if(BUILD_SHARED_LIBS)
  set(RAFTLOG_STATIC_LIBS OFF)
endif()
configure_package_config_file(cmake/raftlogConfig.cmake.in
  ${PROJECT_BINARY_DIR}/raftlogConfig.cmake INSTALL_DESTINATION ${RAFTLOG_CMAKE_DIR})
# Every 0.x release may break the API, so 0.x accepts a request for the same
# minor version only (find_package(raftlog 0.1) takes 0.1.y, refuses 0.2); from
# 1.0 on, the same major version.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(compatibility SameMinorVersion)
else()
  set(compatibility SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/raftlogConfigVersion.cmake
  COMPATIBILITY ${compatibility})
install(FILES ${PROJECT_BINARY_DIR}/raftlogConfig.cmake
              ${PROJECT_BINARY_DIR}/raftlogConfigVersion.cmake
              cmake/RaftlogDependencies.cmake
        DESTINATION ${RAFTLOG_CMAKE_DIR})

# raftlog.pc: the libraries in link order (each before those it uses).
set(RAFTLOG_PC_LIBS "-lraftlog_raft_storage -lraftlog_engine -lraftlog_snapshot -lraftlog_io -lraftlog_format -lraftlog_raft -lraftlog_status")
set(RAFTLOG_PC_REQUIRES "lmdb, libxxhash, libzstd")
if(BUILD_SHARED_LIBS)
  set(RAFTLOG_PC_REQUIRES_FIELD "Requires.private")
else()
  # `pkg-config --libs raftlog` must be enough to link the static libraries.
  set(RAFTLOG_PC_REQUIRES_FIELD "Requires")
endif()
set(pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH RAFTLOG_PC_PREFIX_FROM_PCDIR /prefix/${pc_dir} /prefix)
string(REGEX REPLACE "/$" "" RAFTLOG_PC_PREFIX_FROM_PCDIR "${RAFTLOG_PC_PREFIX_FROM_PCDIR}")
configure_file(cmake/raftlog.pc.in ${PROJECT_BINARY_DIR}/raftlog.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/raftlog.pc DESTINATION ${pc_dir})

# `cpack -G DEB` in the build directory: one package with the libraries, the
# headers, the CMake and pkg-config files and the raftlog tool.
if(RAFTLOG_IS_TOP_LEVEL)
  set(CPACK_PACKAGE_NAME raftlog)
  set(CPACK_PACKAGE_VENDOR raftlog)
  set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
  set(CPACK_PACKAGE_CONTACT "raftlog maintainers <raftlog@localhost>")
  set(CPACK_GENERATOR DEB)
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
  set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
  if(BUILD_SHARED_LIBS)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libstdc++6, liblmdb0, libxxhash0, libzstd1")
  else()
    # The static libraries are linked into the consumer with their
    # dependencies, whose development packages the CMake files look for.
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "liblmdb-dev, libxxhash-dev, libzstd-dev, pkg-config")
  endif()
  include(CPack)
endif()
