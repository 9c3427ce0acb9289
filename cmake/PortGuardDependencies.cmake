# Third-party dependencies, exposed as a handful of namespaced targets so the rest of the build
# never cares where they came from:
#   portguard::program_options  Boost.Program_options (compiled)
#   portguard::spdlog           spdlog + fmt (MinGW: spdlog compiled once, service/host/src/spdlog_impl.cpp)
#   portguard::tomlplusplus     toml++
#   portguard::json             nlohmann-json
#   portguard::catch2           Catch2 (the only place that knows it is v2 today)
#
# Native Linux and MSVC/vcpkg: find_package. MinGW cross builds: Debian's header-only libraries are
# exposed through a generated include directory that contains only those libraries (never
# /usr/include itself), and Boost.Program_options comes from the cache scripts/setup builds.

if(CMAKE_CROSSCOMPILING AND MINGW)
  set(PORTGUARD_DEPS "$ENV{PORTGUARD_DEPS}")
  if(NOT PORTGUARD_DEPS)
    set(PORTGUARD_DEPS /var/cache/portguard)
  endif()
  set(PORTGUARD_HOST_INCLUDE /usr/include CACHE PATH "Where Debian's header-only libraries live")
  set(_deps_include "${CMAKE_BINARY_DIR}/deps-include")
  file(MAKE_DIRECTORY "${_deps_include}")
  foreach(_lib spdlog fmt toml++ catch2 nlohmann boost)
    if(NOT EXISTS "${PORTGUARD_HOST_INCLUDE}/${_lib}")
      message(FATAL_ERROR "${PORTGUARD_HOST_INCLUDE}/${_lib} is missing: run scripts/setup as root")
    endif()
    file(CREATE_LINK "${PORTGUARD_HOST_INCLUDE}/${_lib}" "${_deps_include}/${_lib}" SYMBOLIC)
  endforeach()

  file(GLOB _boost_dirs "${PORTGUARD_DEPS}/mingw-boost-*/lib/libboost_program_options.a")
  list(SORT _boost_dirs)
  list(GET _boost_dirs -1 _boost_po_lib)
  if(NOT _boost_po_lib OR NOT EXISTS "${_boost_po_lib}")
    message(FATAL_ERROR "MinGW Boost.Program_options not found under ${PORTGUARD_DEPS}: run scripts/setup as root")
  endif()

  add_library(portguard_dep_headers INTERFACE)
  target_include_directories(portguard_dep_headers SYSTEM INTERFACE "${_deps_include}")

  add_library(portguard::program_options INTERFACE IMPORTED GLOBAL)
  target_link_libraries(portguard::program_options INTERFACE portguard_dep_headers "${_boost_po_lib}")
  target_compile_definitions(portguard::program_options INTERFACE BOOST_ALL_NO_LIB BOOST_PROGRAM_OPTIONS_STATIC_LINK)

  add_library(portguard::spdlog INTERFACE IMPORTED GLOBAL)
  target_link_libraries(portguard::spdlog INTERFACE portguard_dep_headers)
  # Compiled-library mode: the implementation is built once, in service/host/src/spdlog_impl.cpp
  # (header-only mode compiled all of it again in every file that logs).
  target_compile_definitions(portguard::spdlog INTERFACE SPDLOG_COMPILED_LIB SPDLOG_DISABLE_DEFAULT_LOGGER SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)

  add_library(portguard::tomlplusplus INTERFACE IMPORTED GLOBAL)
  target_link_libraries(portguard::tomlplusplus INTERFACE portguard_dep_headers)

  add_library(portguard::json INTERFACE IMPORTED GLOBAL)
  target_link_libraries(portguard::json INTERFACE portguard_dep_headers)

  add_library(portguard::catch2 INTERFACE IMPORTED GLOBAL)
  target_link_libraries(portguard::catch2 INTERFACE portguard_dep_headers)
else()
  find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
  find_package(spdlog REQUIRED)
  find_package(fmt REQUIRED)
  find_package(nlohmann_json 3.10 REQUIRED)
  find_package(tomlplusplus QUIET)
  if(NOT tomlplusplus_FOUND)
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
  endif()

  add_library(portguard::program_options INTERFACE IMPORTED GLOBAL)
  target_link_libraries(portguard::program_options INTERFACE Boost::program_options)

  add_library(portguard::spdlog INTERFACE IMPORTED GLOBAL)
  if(TARGET spdlog::spdlog_header_only)
    target_link_libraries(portguard::spdlog INTERFACE spdlog::spdlog_header_only fmt::fmt-header-only)
  else()
    target_link_libraries(portguard::spdlog INTERFACE spdlog::spdlog)
  endif()

  add_library(portguard::tomlplusplus INTERFACE IMPORTED GLOBAL)
  if(TARGET tomlplusplus::tomlplusplus)
    target_link_libraries(portguard::tomlplusplus INTERFACE tomlplusplus::tomlplusplus)
  else()
    target_link_libraries(portguard::tomlplusplus INTERFACE PkgConfig::TOMLPP)
  endif()

  add_library(portguard::json INTERFACE IMPORTED GLOBAL)
  target_link_libraries(portguard::json INTERFACE nlohmann_json::nlohmann_json)

  if(PORTGUARD_BUILD_TESTS)
    find_package(Catch2 REQUIRED)
    add_library(portguard::catch2 INTERFACE IMPORTED GLOBAL)
    if(Catch2_VERSION VERSION_GREATER_EQUAL 3)
      # vcpkg ships Catch2 v3: tests keep writing <catch2/catch.hpp> (v2 spelling); a generated
      # forwarding header maps it to v3, and v3's own main replaces tests/support/catch_main.cpp's.
      set(_compat "${CMAKE_BINARY_DIR}/catch2-v3-compat")
      file(WRITE "${_compat}/catch2/catch.hpp" "#pragma once\n#include <catch2/catch_all.hpp>\nusing Catch::Approx;\n")
      target_include_directories(portguard::catch2 SYSTEM INTERFACE "${_compat}")
      target_link_libraries(portguard::catch2 INTERFACE Catch2::Catch2WithMain)
      target_compile_definitions(portguard::catch2 INTERFACE PORTGUARD_CATCH2_V3)
    else()
      target_link_libraries(portguard::catch2 INTERFACE Catch2::Catch2)
    endif()
  endif()
endif()
