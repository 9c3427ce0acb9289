// The one Catch2 main of every test executable (Catch2 v2 single header from Debian; moving to v3
// touches this file and cmake/PortGuardDependencies.cmake only).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
