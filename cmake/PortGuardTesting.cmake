# CTest timeouts are backstops against a hung test, not performance limits (benchmarks measure
# speed). The TIMEOUT a test declares is its time on an idle machine with room to spare; under
# Wine it is multiplied by PORTGUARD_WINE_TIMEOUT_SCALE (default 3) because a loaded 2-core machine
# runs Wine process starts several times slower, and a slow pass is not a failure.
set(PORTGUARD_WINE_TIMEOUT_SCALE 3 CACHE STRING "Multiplier of the declared timeouts of Wine tests")
function(portguard_scale_timeout var)
  if(CMAKE_CROSSCOMPILING AND WIN32)
    math(EXPR scaled "${${var}} * ${PORTGUARD_WINE_TIMEOUT_SCALE}")
    set(${var} ${scaled} PARENT_SCOPE)
  endif()
endfunction()

# portguard_fast_compile(<target>): compiles a test or test tool for build speed, not run speed.
# Test code only drives the product: the libraries it links keep the preset's optimisation, and the
# suites' time goes to Wine and the scenarios, not to test code. GCC compiles a Catch2 test file at
# -O0 in half the CPU time of -O2 (plan_test.cpp: 14 s against 29 s), and the CI's budget is
# mostly compile time (docs/testing.md, "CI time"). The last -O on the command line wins.
function(portguard_fast_compile target)
  target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU,Clang>:-O0>)
endfunction()

# portguard_add_test(<name> SOURCES <files...> [LIBS <targets...>] [LABELS <labels...>]
#                    [WINE_ARGS <wine-run options...>] [TIMEOUT <s>] [PROPERTIES <k v ...>])
#
# Builds one Catch2 test executable and registers it with CTest. In a Windows cross build the
# executable runs under Wine through CMAKE_CROSSCOMPILING_EMULATOR (cmake/wine-run), each test in
# a throwaway prefix of its own cloned from the build's template prefix.
function(portguard_add_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "TIMEOUT" "SOURCES;LIBS;LABELS;WINE_ARGS;PROPERTIES")
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE portguard_test_main ${arg_LIBS})
  portguard_set_warnings(${name})
  portguard_fast_compile(${name})
  if(CMAKE_CROSSCOMPILING AND WIN32)
    # A dedicated emulator per test lets a test ask for its own prefix options (e.g. --winver).
    set_target_properties(${name} PROPERTIES CROSSCOMPILING_EMULATOR
      "${PROJECT_SOURCE_DIR}/cmake/wine-run;--template;${PORTGUARD_WINE_TEMPLATE};${arg_WINE_ARGS}")
    list(APPEND arg_LABELS wine)
  endif()
  if(CMAKE_CROSSCOMPILING AND WIN32)
    # In a network namespace of its own (cmake/netns-run), through the same emulator.
    add_test(NAME ${name} COMMAND ${PORTGUARD_NETNS_RUN} "${PROJECT_SOURCE_DIR}/cmake/wine-run"
             --template "${PORTGUARD_WINE_TEMPLATE}" ${arg_WINE_ARGS} "$<TARGET_FILE:${name}>")
  else()
    add_test(NAME ${name} COMMAND ${name})
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  portguard_scale_timeout(arg_TIMEOUT)
  set_tests_properties(${name} PROPERTIES TIMEOUT ${arg_TIMEOUT} LABELS "${arg_LABELS}")
  if(arg_PROPERTIES)
    set_tests_properties(${name} PROPERTIES ${arg_PROPERTIES})
  endif()
  if(CMAKE_CROSSCOMPILING AND WIN32)
    set_property(TEST ${name} APPEND PROPERTY FIXTURES_REQUIRED wine_template)
  endif()
endfunction()

# portguard_add_script_test(<name> COMMAND <cmd...> [LABELS ...] [TIMEOUT s] [PROPERTIES ...])
# A shell-driven scenario (installer, service, end to end) that manages its own prefixes through
# cmake/wine-run. Failed Wine launches of its tools are noted in <build>/wine-launch-failures.log
# (tests/support/wine_crashes.sh), which scripts/soak counts.
function(portguard_add_script_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "TIMEOUT" "COMMAND;LABELS;PROPERTIES")
  if(CMAKE_CROSSCOMPILING AND WIN32)
    add_test(NAME ${name} COMMAND ${PORTGUARD_NETNS_RUN} ${arg_COMMAND})
  else()
    add_test(NAME ${name} COMMAND ${arg_COMMAND})
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  portguard_scale_timeout(arg_TIMEOUT)
  set_tests_properties(${name} PROPERTIES TIMEOUT ${arg_TIMEOUT} LABELS "${arg_LABELS}"
    ENVIRONMENT "PORTGUARD_WINE_TEMPLATE=${PORTGUARD_WINE_TEMPLATE};PORTGUARD_SOURCE_DIR=${PROJECT_SOURCE_DIR};PORTGUARD_BINARY_DIR=${PROJECT_BINARY_DIR};WINE_LAUNCH_FAILURES_LOG=${PROJECT_BINARY_DIR}/wine-launch-failures.log")
  if(CMAKE_CROSSCOMPILING AND WIN32)
    set_property(TEST ${name} APPEND PROPERTY FIXTURES_REQUIRED wine_template)
    # The scripts' SCM and registry tool (tests/support/scm_helper.cpp).
    set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT "PORTGUARD_SCM_HELPER=$<TARGET_FILE:pg-scm>")
  endif()
  if(arg_PROPERTIES)
    set_tests_properties(${name} PROPERTIES ${arg_PROPERTIES})
  endif()
endfunction()

if(CMAKE_CROSSCOMPILING AND WIN32)
  set(PORTGUARD_WINE_TEMPLATE "${PROJECT_BINARY_DIR}/wine/template")
endif()

# Wine sockets are host sockets. Every Wine test runs through cmake/netns-run, which gives it a
# network namespace of its own when it can (root, unshare, ip): then no two tests can collide on a
# port, nor see each other's sockets. Whether it can is decided here, once, for the whole tree:
#  - isolated: netns-run gets --require, so a test run later without root fails at once with a
#    message saying why, instead of colliding with another test on a port;
#  - not isolated (configured without root): the tests that bind the RADIUS ports or fixed high
#    ports are kept apart by RESOURCE_LOCK radius_ports (portguard_lock_bound_ports).
set(PORTGUARD_NETNS_RUN "${PROJECT_SOURCE_DIR}/cmake/netns-run")
set(PORTGUARD_WINE_TESTS_ISOLATED OFF)
if(CMAKE_CROSSCOMPILING AND WIN32)
  execute_process(COMMAND id -u OUTPUT_VARIABLE _pg_uid OUTPUT_STRIP_TRAILING_WHITESPACE)
  find_program(PORTGUARD_UNSHARE unshare)
  find_program(PORTGUARD_IP ip)
  if(_pg_uid STREQUAL "0" AND PORTGUARD_UNSHARE AND PORTGUARD_IP)
    set(PORTGUARD_WINE_TESTS_ISOLATED ON)
    list(APPEND PORTGUARD_NETNS_RUN --require)
  endif()
  message(STATUS "Wine tests in network namespaces of their own: ${PORTGUARD_WINE_TESTS_ISOLATED}")
endif()

# portguard_lock_bound_ports(<test>...): the tests bind the RADIUS ports (1645/1646/1812/1813) or
# fixed high ports on loopback; without a namespace each, they must not run beside each other.
function(portguard_lock_bound_ports)
  if(NOT PORTGUARD_WINE_TESTS_ISOLATED)
    set_tests_properties(${ARGN} PROPERTIES RESOURCE_LOCK radius_ports)
  endif()
endfunction()
