#include "portguard/core/error.hpp"
#include "portguard/core/port_range.hpp"

#include <catch2/catch.hpp>

using namespace portguard;

namespace {
PortRange R(long a, long b) { return PortRange::make(a, b); }
PortRange P(Port p) { return PortRange::single(p); }
} // namespace

TEST_CASE("PortRange validates 1..65535 and ordered bounds") {
  CHECK(R(1, 65535).size() == 65535);
  CHECK(R(1645, 1646).to_string() == "1645-1646");
  CHECK(P(4000).to_string() == "4000-4000");  // KB 812873's canonical single-port form
  CHECK_THROWS_AS(R(0, 5), InputError);
  CHECK_THROWS_AS(R(5, 65536), InputError);
  CHECK_THROWS_AS(R(-1, 5), InputError);
  CHECK_THROWS_WITH(R(1646, 1645), Catch::Contains("reversed"));
  CHECK_THROWS_WITH(R(0, 0), Catch::Contains("port 0"));
  CHECK(R(10, 20).contains(10));
  CHECK(R(10, 20).contains(20));
  CHECK_FALSE(R(10, 20).contains(21));
  CHECK(R(10, 20).overlaps(R(20, 30)));
  CHECK_FALSE(R(10, 20).overlaps(R(21, 30)));
  CHECK(R(1, 2) < R(1, 3));
  CHECK(R(1, 9) < R(2, 3));
}

TEST_CASE("Protocol and IP version spellings round-trip") {
  for (Protocol p : {Protocol::udp, Protocol::tcp}) CHECK(parse_protocol(to_string(p)) == p);
  CHECK(parse_protocol("UDP") == Protocol::udp);
  CHECK_FALSE(parse_protocol("both").has_value());
  CHECK_FALSE(parse_protocol("").has_value());
  for (IpVersion v : {IpVersion::v4, IpVersion::v6}) CHECK(parse_ip_version(to_string(v)) == v);
  CHECK(parse_ip_version("IPv6") == IpVersion::v6);
  CHECK_FALSE(parse_ip_version("v5").has_value());
}

TEST_CASE("PortSet keeps sorted, disjoint, non-adjacent ranges") {
  PortSet s;
  s.insert(P(1646));
  s.insert(P(1645));  // adjacent: merged (KB 812873)
  CHECK(s.ranges() == std::vector<PortRange>{R(1645, 1646)});
  s.insert(R(1812, 1813));
  s.insert(R(1700, 1811));  // bridges up to 1812
  CHECK(s.ranges() == std::vector<PortRange>{R(1645, 1646), R(1700, 1813)});
  s.insert(R(1, 65535));
  CHECK(s.ranges() == std::vector<PortRange>{R(1, 65535)});
  CHECK(s.count() == 65535);

  PortSet t{R(50, 60), R(10, 20), R(21, 22), R(15, 16), R(100, 100)};
  CHECK(t.ranges() == std::vector<PortRange>{R(10, 22), R(50, 60), R(100, 100)});
  CHECK(t.to_string() == "10-22,50-60,100");
}

TEST_CASE("PortSet erase splits and trims ranges") {
  PortSet s{R(10, 20), R(30, 40)};
  s.erase(P(15));
  CHECK(s.ranges() == std::vector<PortRange>{R(10, 14), R(16, 20), R(30, 40)});
  s.erase(R(18, 35));
  CHECK(s.ranges() == std::vector<PortRange>{R(10, 14), R(16, 17), R(36, 40)});
  s.erase(R(1, 9));  // nothing there
  CHECK(s.ranges() == std::vector<PortRange>{R(10, 14), R(16, 17), R(36, 40)});
  s.erase(R(1, 65535));
  CHECK(s.empty());
  PortSet edge{R(1, 65535)};
  edge.erase(P(1));
  edge.erase(P(65535));
  CHECK(edge.ranges() == std::vector<PortRange>{R(2, 65534)});
}

TEST_CASE("PortSet union, difference and intersection") {
  const PortSet a{R(10, 20), R(40, 50)};
  const PortSet b{R(15, 45), R(60, 60)};
  CHECK(a.united(b).ranges() == std::vector<PortRange>{R(10, 50), R(60, 60)});
  CHECK(a.minus(b).ranges() == std::vector<PortRange>{R(10, 14), R(46, 50)});
  CHECK(b.minus(a).ranges() == std::vector<PortRange>{R(21, 39), R(60, 60)});
  CHECK(a.intersected(b).ranges() == std::vector<PortRange>{R(15, 20), R(40, 45)});
  CHECK(a.minus(a).empty());
  CHECK(a.minus(PortSet{}) == a);
  CHECK(PortSet{}.united(a) == a);
  CHECK(a.intersected(PortSet{}).empty());
  PortSet c = a;
  c.insert(b);
  CHECK(c == a.united(b));
  c.erase(b);
  CHECK(c == a.minus(b));
  // Difference at the edges of the port space.
  CHECK(PortSet{R(1, 65535)}.minus(PortSet{R(2, 65534)}).ranges() == std::vector<PortRange>{P(1), P(65535)});
}

TEST_CASE("PortSet membership queries") {
  const PortSet s{R(10, 20), R(40, 50)};
  CHECK(s.contains(Port{10}));
  CHECK(s.contains(Port{50}));
  CHECK_FALSE(s.contains(Port{21}));
  CHECK_FALSE(s.contains(Port{1}));
  CHECK_FALSE(s.contains(Port{65535}));
  CHECK(s.contains(R(12, 18)));
  CHECK_FALSE(s.contains(R(15, 45)));  // spans a gap
  CHECK(s.intersects(R(15, 45)));
  CHECK(s.intersects(R(21, 40)));
  CHECK_FALSE(s.intersects(R(21, 39)));
  CHECK_FALSE(s.intersects(R(51, 65535)));
  CHECK(s.count() == 22);
  CHECK(PortSet{}.count() == 0);
  CHECK_FALSE(PortSet{}.contains(Port{1}));
}
