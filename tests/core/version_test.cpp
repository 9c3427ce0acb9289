#include "portguard/core/version.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <string>

TEST_CASE("version is the semantic version CMake was configured with") {
  const std::string v(portguard::version());
  CHECK(std::regex_match(v, std::regex(R"(\d+\.\d+\.\d+)")));
}
