#include "portguard/core/port_list_codec.hpp"

#include <catch2/catch.hpp>

using namespace portguard;

namespace {
PortRange R(long a, long b) { return PortRange::make(a, b); }
using Strings = std::vector<std::string>;
} // namespace

TEST_CASE("codec: the forms an admin types are understood") {
  const auto list = parse_port_list({"1645-1646", "1812-1812", "53", " 161 - 162 ", "\t3389\t", "0123-0124"});
  CHECK(list.unrecognised.empty());
  CHECK(list.blank_entries == 0);
  CHECK(list.ports == PortSet{R(1645, 1646), R(1812, 1812), R(53, 53), R(161, 162), R(3389, 3389), R(123, 124)});
  REQUIRE(list.entries.size() == 6);
  CHECK(list.entries[0].problem.empty());
  CHECK(list.entries[1].problem.empty());
  CHECK_THAT(list.entries[2].problem, Catch::Contains("single port"));
  CHECK(list.entries[3].raw == " 161 - 162 ");   // verbatim
  CHECK(list.entries[3].range == R(161, 162));
}

TEST_CASE("codec: reversed bounds are understood with a remark") {
  const auto list = parse_port_list({"1646-1645"});
  REQUIRE(list.entries.size() == 1);
  CHECK(list.entries[0].range == R(1645, 1646));
  CHECK_THAT(list.entries[0].problem, Catch::Contains("reversed"));
  CHECK(list.ports == PortSet{R(1645, 1646)});
}

TEST_CASE("codec: duplicates and overlaps are merged and remarked") {
  const auto list = parse_port_list({"1645-1646", "1645-1646", "1646-1650", "1700-1700", "1701-1701"});
  CHECK(list.ports == PortSet{R(1645, 1650), R(1700, 1701)});
  CHECK_THAT(list.entries[1].problem, Catch::Contains("duplicate"));
  CHECK_THAT(list.entries[2].problem, Catch::Contains("overlaps"));
  CHECK(list.entries[3].problem.empty());  // adjacent is not an overlap, but is merged on format
  CHECK(format_port_list(list.ports) == Strings{"1645-1650", "1700-1701"});
}

TEST_CASE("codec: empty strings are counted, not kept") {
  const auto list = parse_port_list({"", "1645-1646", "   ", "\t"});
  CHECK(list.blank_entries == 3);
  CHECK(list.unrecognised.empty());
  CHECK(list.entries.size() == 4);
  CHECK(list.ports == PortSet{R(1645, 1646)});
  CHECK(format_port_list(list.ports, list.unrecognised) == Strings{"1645-1646"});
}

TEST_CASE("codec: out-of-range numbers and garbage are kept verbatim as unrecognised") {
  const Strings garbage{"0-10",  "0",      "65536",     "1-70000",       "99999999999999999999-1", "abc",
                        "-5",    "1645-",  "1645--1646", "1645-1646-1647", "1645,1646",  "1645 1646",
                        "+1645", "0x50",   "1645-1646a", std::string("16\0" "45", 5), "１６４５"};
  Strings input = garbage;
  input.push_back("1812-1813");
  const auto list = parse_port_list(input);
  CHECK(list.unrecognised == garbage);  // every one of them, in order, untouched
  CHECK(list.ports == PortSet{R(1812, 1813)});
  for (std::size_t i = 0; i < garbage.size(); ++i) {
    INFO(garbage[i]);
    CHECK_FALSE(list.entries[i].range.has_value());
    CHECK_FALSE(list.entries[i].problem.empty());
  }
  CHECK_THAT(list.entries[0].problem, Catch::Contains("port 0"));
  CHECK_THAT(list.entries[2].problem, Catch::Contains("65536 is outside 1-65535"));
  // Formatting puts canonical ranges first and the unrecognised entries after them, verbatim.
  Strings expected{"1812-1813"};
  expected.insert(expected.end(), garbage.begin(), garbage.end());
  CHECK(format_port_list(list.ports, list.unrecognised) == expected);
}

TEST_CASE("codec: an empty value and the extremes") {
  CHECK(parse_port_list({}).ports.empty());
  CHECK(format_port_list(PortSet{}).empty());
  const auto all = parse_port_list({"1-65535"});
  CHECK(all.ports.count() == 65535);
  CHECK(format_port_list(all.ports) == Strings{"1-65535"});
}

TEST_CASE("codec: format merges adjacent single ports (KB 812873) and sorts") {
  Strings singles;
  for (int p = 2000; p >= 1000; --p) singles.push_back(std::to_string(p) + "-" + std::to_string(p));
  singles.push_back("53-53");
  const auto list = parse_port_list(singles);
  CHECK(format_port_list(list.ports) == Strings{"53-53", "1000-2000"});
}
