// judge() (core/verdict.hpp): what `portguard check` says about a plan. Info never changes the
// verdict; drift, pending effects and warnings make WARNING; errors, blocking rails and a wanted
// mechanism that is unavailable make CRITICAL.
#include "plan_support.hpp"

#include "portguard/core/verdict.hpp"

#include <catch2/catch.hpp>

using namespace portguard;
using namespace portguard::testing;

TEST_CASE("verdict: a host holding what the policy needs is OK, whatever info findings say", "[verdict]") {
  auto host = host_2003();
  host.reserved_ports = multi({"1645-1646", "1812-1813", "oops"});       // unrecognised entry: info
  host.ports_in_use = {{Protocol::udp, 1645, 900, "svchost.exe", ""}};  // held by its owner: info
  const auto v = judge(plan(host, radius(), {}), {});
  CHECK(v.status == CheckStatus::ok);
  CHECK(v.managed == 1);
  CHECK(v.compliant == 1);
  CHECK(v.warning.empty());
  CHECK(v.critical.empty());
}

TEST_CASE("verdict: drift, a non-canonical value and a pending reboot are WARNING", "[verdict]") {
  auto host = host_2003();
  host.reserved_ports = multi({"1645-1646"});
  auto v = judge(plan(host, radius(), {}), {});
  CHECK(v.status == CheckStatus::warning);
  REQUIRE(v.warning.size() >= 1);
  CHECK(v.warning[0] == "drift on reserved-ports: missing 1812-1813");

  // KB 812873: adjacent single ports listed separately are not reliably reserved.
  host.reserved_ports = multi({"1645-1645", "1646-1646", "1812-1813"});
  v = judge(plan(host, radius(), {}), {});
  CHECK(v.status == CheckStatus::warning);
  CHECK_THAT(v.warning[0], Catch::Contains("drift on reserved-ports: the value must be rewritten"));

  host.reserved_ports = multi({"1645-1646", "1812-1813"});
  v = judge(plan(host, radius(), {}), {PendingEffect{Target::reserved_ports, TakesEffect::next_boot, 1, std::nullopt}});
  CHECK(v.status == CheckStatus::warning);
  CHECK(v.warning == std::vector<std::string>{"pending reboot: reserved-ports was changed and takes effect at the next boot"});
}

TEST_CASE("verdict: a conflict, a starving value and a missing mechanism are CRITICAL", "[verdict]") {
  auto host = host_2003();
  host.reserved_ports = multi({"1645-1646", "1812-1813"});
  host.ports_in_use = {{Protocol::udp, 1645, 1816, "dns.exe", ""}};
  auto v = judge(plan(host, radius(), {}), {});
  CHECK(v.status == CheckStatus::critical);
  CHECK(v.conflicts == 1);

  host.ports_in_use.clear();
  host.reserved_ports = multi({"1-65535"});
  v = judge(plan(host, radius(), {}), {});
  CHECK(v.status == CheckStatus::critical);
  CHECK_THAT(v.critical[0], Catch::StartsWith("[starves-dynamic-range]"));

  auto modern = host_2016();
  modern.persistent_reservations.reset();   // the API is missing on a version where it is the mechanism
  v = judge(plan(modern, radius(), {}), {});
  CHECK(v.status == CheckStatus::critical);
  CHECK_THAT(v.critical[0], Catch::StartsWith("[unavailable]"));
}
