// The example snapshots shipped in examples/ (embedded at build time, so the test runs the same
// natively and under Wine) planned with the requirements the catalog gives their services.
#include "example_snapshots.hpp"
#include "plan_support.hpp"

#include "portguard/core/plan.hpp"
#include "portguard/core/snapshot_json.hpp"

#include <catch2/catch.hpp>

using namespace portguard;
using namespace portguard::testing;
using Strings = std::vector<std::string>;

namespace {

/// What the catalog demands for the services these hosts run (kept in step with config/catalog.toml
/// by hand: the core's tests must not depend on the policy module).
Requirements catalog_for(const HostSnapshot& host) {
  Requirements out;
  auto add = [&](std::string service, Protocol p, long a, long b, std::string reason) {
    if (host.find_service(service) != nullptr) out.push_back(req(p, a, b, std::move(service), std::move(reason)));
  };
  add("IAS", Protocol::udp, 1645, 1646, "RADIUS legacy auth/accounting");
  add("IAS", Protocol::udp, 1812, 1813, "RADIUS auth/accounting");
  add("SNMP", Protocol::udp, 161, 161, "SNMP agent");
  add("W32Time", Protocol::udp, 123, 123, "NTP");
  for (const auto& c : host.configured_ports)
    out.push_back(Requirement{c.protocol, c.ports, c.service, {Provenance::Kind::registry, c.source, "configured port"}});
  return out;
}

HostSnapshot load(std::string_view text, const char* name) { return snapshot_from_json(text, name); }

std::vector<const Finding*> all(const ReservationPlan& p, std::string_view code) {
  std::vector<const Finding*> out;
  for (const auto& f : p.findings)
    if (f.code == code) out.push_back(&f);
  return out;
}

} // namespace

TEST_CASE("example: Windows Server 2003 DNS+IAS with drifted ReservedPorts") {
  const auto host = load(examples::win2003_dns_ias, "win2003-dns-ias.json");
  CHECK(host.version.describe() == "Windows Server 2003 (5.2.3790)");
  CHECK(to_json(host) == to_json(snapshot_from_json(to_json(host))));
  const auto p = plan(host, catalog_for(host), {});

  REQUIRE(p.targets.size() == 1);
  const auto& t = p.targets[0];
  CHECK(t.target == Target::reserved_ports);
  // The drift: 1646 is missing; the admin's SQL entry and the garbage stay. SNMP's 161 and NTP's
  // 123 are below 1025, which no Windows version hands out at random: not reserved.
  CHECK(t.desired == Strings{"1433-1434", "1645-1646", "1812-1813", "RADIUS 1646"});
  CHECK(t.unrecognised == Strings{"RADIUS 1646"});
  CHECK(p.has_changes());
  CHECK_FALSE(p.blocked());
  CHECK(all(p, "blank-entries").size() == 1);
  CHECK(all(p, "unrecognised-entry").size() == 1);

  // The incident: DNS holds RADIUS 1646, inside the 1025-5000 dynamic range.
  const auto conflicts = all(p, "conflict");
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0]->holder->port == 1646);
  CHECK_THAT(conflicts[0]->message, Catch::Contains("DNS service (dns.exe, PID 1816)"));
  CHECK(all(p, "in-use-by-owner").size() == 4);  // IAS (by PID) on 1645, 1812, 1813; SNMP on 161
  const auto risks = all(p, "at-risk");
  REQUIRE(risks.size() == 3);  // only the RADIUS ports lie in 1025-5000
  CHECK(risks[0]->range == PortRange::single(1645));  // reserved already
  CHECK(risks[0]->severity == Severity::info);
  CHECK(risks[1]->range == PortRange::single(1646));  // not reserved
  CHECK(risks[1]->severity == Severity::warning);
  CHECK(risks[2]->range == PortRange::make(1812, 1813));
  CHECK(risks[2]->severity == Severity::info);
  CHECK_THAT(render_text(p), Catch::Contains("+ 1646-1646/udp  IAS (catalog: RADIUS legacy auth/accounting)"));
}

TEST_CASE("example: Windows Server 2016 DNS+NPS whose dynamic range was widened to 1025-60000") {
  const auto host = load(examples::win2016_dns_nps_widened, "win2016-dns-nps-widened.json");
  CHECK(host.dynamic_range(Protocol::udp)->range == PortRange::make(1025, 60000));
  const auto p = plan(host, catalog_for(host), {});

  CHECK(p.find(Target::reserved_ports) == nullptr);
  REQUIRE(p.find(Target::dns_socket_pool) != nullptr);
  CHECK(p.find(Target::dns_socket_pool)->desired == Strings{"1645-1646", "1812-1813"});
  // NPS holds 1645, 1646 and 1812 and DNS holds 1813 right now: Windows refuses a reservation over
  // a bound port, so the UDP blocks wait for a pass where the ports are free (deferred), and SQL
  // Server's TCP 1433 (inside the widened TCP range too) is held by SQL Server: also deferred.
  CHECK(p.find(Target::persistent_reservation, Protocol::udp)->desired.empty());
  CHECK(all(p, "deferred").size() == 2);
  CHECK(p.find(Target::persistent_reservation, Protocol::tcp)->desired.empty());
  // Every required port now lies in the dynamic range and none is reserved.
  const auto risks = all(p, "at-risk");
  REQUIRE(risks.size() == 3);
  for (const auto* f : risks) CHECK(f->severity == Severity::warning);
  const auto conflicts = all(p, "conflict");
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0]->holder->port == 1813);
  CHECK(conflicts[0]->holder->service == "DNS");
  CHECK(all(p, "in-use-by-owner").size() == 4);  // IAS x3, SQL Server
  // The leftover ReservedPorts value protects nothing on this version.
  REQUIRE(all(p, "not-effective").size() == 1);
  CHECK(all(p, "not-effective")[0]->severity == Severity::info);
  CHECK_FALSE(p.blocked());
  CHECK_THAT(render_text(p), Catch::Contains("info deferred: Persistent TCP reservation of 1433 deferred"));
}

TEST_CASE("example: Windows Server 2022 host with nothing at risk") {
  const auto host = load(examples::win2022_quiet, "win2022-quiet.json");
  const auto p = plan(host, catalog_for(host), {});
  CHECK_FALSE(p.has_changes());
  CHECK_FALSE(p.blocked());
  CHECK(all(p, "at-risk").empty());
  CHECK(all(p, "conflict").empty());
  CHECK(all(p, "in-use-by-owner").size() == 4);
  for (const auto& f : p.findings) CHECK(f.severity == Severity::info);
  CHECK_THAT(render_text(p), Catch::Contains("Result: nothing to change."));
}
