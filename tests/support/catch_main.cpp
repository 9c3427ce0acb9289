// The one Catch2 main of every test executable. Catch2 v2 (Debian 12) is a single header whose
// main is instantiated here; with Catch2 v3 (vcpkg) Catch2::Catch2WithMain provides it instead.
// Moving fully to v3 touches this file and cmake/PortGuardDependencies.cmake only.
#ifndef PORTGUARD_CATCH2_V3
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
