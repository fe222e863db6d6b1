# raftlog_library(<name> [SOURCES ...] [PUBLIC_DEPS ...] [PRIVATE_DEPS ...] [HEADER_DIRS ...]
#                 [NO_HEADERS])
#
# Defines the library raftlog_<name> with the alias raftlog::<name>, compiled
# with the project's warnings. Its public headers (raftlog/<dir>/*.h, never
# those under internal/) are installed under include/raftlog/<dir>/
# for each HEADER_DIRS entry (default: <name>; none with NO_HEADERS, for
# targets whose headers another target installs), so a consumer writes the
# same include paths as the source tree: #include <raftlog/raft/storage.h>.
#
# Shared (BUILD_SHARED_LIBS=ON): the library links with the version script
# RAFTLOG_VERSION_SCRIPT (cmake/raftlog.map.in), so it exports the raftlog::
# namespace and nothing else; its sources under internal/ compile with hidden
# visibility and inline functions are hidden everywhere, so the module's
# internals are not exported either. It carries
# the version and an soname of <major>.<minor> while the major version is 0
# (every 0.x release may break the ABI), <major> from 1.0 on.

include_guard(GLOBAL)

function(raftlog_library name)
  cmake_parse_arguments(ARG "NO_HEADERS" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS;HEADER_DIRS" ${ARGN})
  set(target raftlog_${name})
  add_library(${target} ${ARG_SOURCES})
  add_library(raftlog::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} POSITION_INDEPENDENT_CODE ON)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "SHARED_LIBRARY")
    set_target_properties(${target} PROPERTIES
      VERSION ${PROJECT_VERSION} SOVERSION ${RAFTLOG_ABI_VERSION}
      LINK_DEPENDS ${RAFTLOG_VERSION_SCRIPT})
    target_link_options(${target} PRIVATE
      "LINKER:--version-script=${RAFTLOG_VERSION_SCRIPT}" "LINKER:--no-undefined")
    # Inline functions (and the members a class gets implicitly) are compiled
    # into each user; exporting the copies would only export internals.
    target_compile_options(${target} PRIVATE -fvisibility-inlines-hidden)
    foreach(src IN LISTS ARG_SOURCES)
      if(src MATCHES "/internal/")
        set_property(SOURCE ${src} APPEND PROPERTY COMPILE_OPTIONS -fvisibility=hidden)
      endif()
    endforeach()
  endif()
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS}
                        $<BUILD_INTERFACE:raftlog_compile_options>)
  if(RAFTLOG_INSTALL)
    install(TARGETS ${target} EXPORT raftlogTargets
            ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
            LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
    if(NOT ARG_HEADER_DIRS AND NOT ARG_NO_HEADERS)
      set(ARG_HEADER_DIRS ${name})
    endif()
    foreach(dir IN LISTS ARG_HEADER_DIRS)
      install(DIRECTORY ${PROJECT_SOURCE_DIR}/raftlog/${dir}/
              DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/raftlog/${dir}
              FILES_MATCHING PATTERN "*.h"
              PATTERN internal EXCLUDE)
    endforeach()
  endif()
endfunction()

# Sources of a module folder: every .cc below it, minus the EXCLUDE list.
function(raftlog_glob_sources out dir)
  cmake_parse_arguments(ARG "" "" "EXCLUDE" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  foreach(ex IN LISTS ARG_EXCLUDE)
    list(FILTER srcs EXCLUDE REGEX ".*/${ex}$")
  endforeach()
  set(${out} ${srcs} PARENT_SCOPE)
endfunction()
