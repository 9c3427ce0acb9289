#include "portguard/core/text.hpp"

#include <catch2/catch.hpp>

using namespace portguard;

TEST_CASE("join puts the separator between items only") {
  CHECK(join({}) == "");
  CHECK(join({"RADIUS"}) == "RADIUS");
  CHECK(join({"1645", "1646", "1812"}) == "1645, 1646, 1812");
  CHECK(join({"IAS", "SNMP"}, " and ") == "IAS and SNMP");
  CHECK(join({"a", "b"}, "") == "ab");
  // An empty item still gets its separators: the count of items stays visible.
  CHECK(join({"a", "", "b"}) == "a, , b");
  CHECK(join({"", "b"}, ";") == ";b");
}

TEST_CASE("lower_ascii lowers A-Z and leaves every other byte alone") {
  CHECK(lower_ascii("RasMan W32Time") == "rasman w32time");
  CHECK(lower_ascii("") == "");
  CHECK(lower_ascii("@[`{ 0-9_") == "@[`{ 0-9_");   // neighbours of 'A'-'Z' and 'a'-'z' are not letters
  CHECK(lower_ascii("\xC3\x89TAT") == "\xC3\x89tat");  // UTF-8 'É' is not touched, 'TAT' is
  CHECK(lower_ascii('Q') == 'q');
  CHECK(lower_ascii('\xC9') == '\xC9');   // Latin-1 'É': no locale-dependent lowering
}

TEST_CASE("iequals_ascii ignores ASCII case only") {
  CHECK(iequals_ascii("TCP", "tcp"));
  CHECK(iequals_ascii("services.EXE", "Services.exe"));
  CHECK(iequals_ascii("", ""));
  CHECK_FALSE(iequals_ascii("tcp", "tcp6"));
  CHECK_FALSE(iequals_ascii("udp", "tcp"));
  CHECK_FALSE(iequals_ascii("@", "`"));   // 0x40 and 0x60 differ by the case bit but are not letters
  CHECK_FALSE(iequals_ascii("[", "{"));
  CHECK(iequals_ascii("\xC3\xA9t\xC3\xA9", "\xC3\xA9T\xC3\xA9"));        // same non-ASCII bytes
  CHECK_FALSE(iequals_ascii("\xC3\x89T\xC3\x89", "\xC3\xA9t\xC3\xA9"));  // 'É' vs 'é': not ASCII case
}
