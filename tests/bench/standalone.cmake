# Builds tests/bench in a tree whose tests/CMakeLists.txt does not list it:
#   cmake -S . -B build-bench -G Ninja \
#     -DCMAKE_PROJECT_wxgate_INCLUDE=$PWD/tests/bench/standalone.cmake
# project() includes this file; the include of tests/bench/CMakeLists.txt is
# deferred to the end of the top-level CMakeLists.txt, once wxgate_api_proto
# and the imported targets exist. A no-op when tests/CMakeLists.txt already
# added the directory.
function(wxgate_bench_standalone)
  if(NOT TARGET wxgate-bench-plain-server)
    include(${CMAKE_SOURCE_DIR}/tests/bench/CMakeLists.txt)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL wxgate_bench_standalone)
