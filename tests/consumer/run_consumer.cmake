# Runs by `cmake -P`: builds and runs tests/consumer against raftlog.
#   MODE=find_package      install BINARY_DIR into a prefix, then find_package it
#   MODE=add_subdirectory  add the source tree SOURCE_DIR as a subdirectory
cmake_minimum_required(VERSION 3.22)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "consumer test (${MODE}): command failed (${rc}): ${cmd}")
  endif()
endfunction()

set(build ${WORK_DIR}/${MODE}-build)
file(REMOVE_RECURSE ${build})
set(args -S ${SOURCE_DIR}/tests/consumer -B ${build} -DCMAKE_CXX_COMPILER=${CXX}
         -DCMAKE_BUILD_TYPE=Release -DRAFTLOG_CONSUMER_MODE=${MODE})

if(MODE STREQUAL "find_package")
  set(prefix ${WORK_DIR}/prefix)
  file(REMOVE_RECURSE ${prefix})
  run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
  run(${CMAKE_COMMAND} ${args} -DCMAKE_PREFIX_PATH=${prefix})
else()
  run(${CMAKE_COMMAND} ${args} -DRAFTLOG_SOURCE_DIR=${SOURCE_DIR})
endif()
run(${CMAKE_COMMAND} --build ${build} --parallel 2)
run(${build}/consumer)
