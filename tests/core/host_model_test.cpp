// WindowsVersion, targets, snapshot helpers and the string spellings of the core's enums.
#include "portguard/core/plan.hpp"
#include "portguard/core/requirement.hpp"
#include "portguard/core/snapshot.hpp"
#include "portguard/core/target.hpp"

#include <catch2/catch.hpp>

using namespace portguard;

namespace {
WindowsVersion win(std::uint32_t major, std::uint32_t minor, std::uint32_t build, bool server = true) {
  return WindowsVersion{major, minor, build, server};
}
} // namespace

TEST_CASE("WindowsVersion::describe names the product and the exact version") {
  CHECK(win(5, 2, 3790).describe() == "Windows Server 2003 (5.2.3790)");
  CHECK(win(5, 2, 3790, false).describe() == "Windows XP x64 (5.2.3790)");
  CHECK(win(5, 1, 2600, false).describe() == "Windows XP (5.1.2600)");
  CHECK(win(5, 0, 2195).describe() == "Windows 2000 (5.0.2195)");
  CHECK(win(6, 0, 6002).describe() == "Windows Server 2008 (6.0.6002)");
  CHECK(win(6, 1, 7601).describe() == "Windows Server 2008 R2 (6.1.7601)");
  CHECK(win(6, 1, 7601, false).describe() == "Windows 7 (6.1.7601)");
  CHECK(win(6, 3, 9600).describe() == "Windows Server 2012 R2 (6.3.9600)");
  CHECK(win(10, 0, 14393).describe() == "Windows Server 2016 (10.0.14393)");
  CHECK(win(10, 0, 17763).describe() == "Windows Server 2019 (10.0.17763)");
  CHECK(win(10, 0, 20348).describe() == "Windows Server 2022 (10.0.20348)");
  CHECK(win(10, 0, 26100).describe() == "Windows Server 2025 (10.0.26100)");
  CHECK(win(10, 0, 19045, false).describe() == "Windows 10 (10.0.19045)");
  CHECK(win(10, 0, 22631, false).describe() == "Windows 11 (10.0.22631)");
  CHECK(win(11, 0, 1).describe() == "Windows Server (11.0.1)");
  CHECK(win(5, 2, 3790) < win(6, 0, 0));
  CHECK(win(10, 0, 14393) < win(10, 0, 20348));
}

TEST_CASE("is_effective follows the mechanisms' Windows versions") {
  // ReservedPorts: 2000..2003 only (KB 812873).
  CHECK(is_effective(Target::reserved_ports, win(5, 0, 2195)));
  CHECK(is_effective(Target::reserved_ports, win(5, 2, 3790)));
  CHECK_FALSE(is_effective(Target::reserved_ports, win(6, 0, 6001)));
  CHECK_FALSE(is_effective(Target::reserved_ports, win(10, 0, 20348)));
  // Persistent reservations: Vista/2008 (6.0) and later.
  CHECK_FALSE(is_effective(Target::persistent_reservation, win(5, 2, 3790)));
  CHECK(is_effective(Target::persistent_reservation, win(6, 0, 6001)));
  CHECK(is_effective(Target::persistent_reservation, win(10, 0, 20348)));
  // DNS socket pool exclusions: 2008 R2 (6.1) and later.
  CHECK_FALSE(is_effective(Target::dns_socket_pool, win(6, 0, 6002)));
  CHECK(is_effective(Target::dns_socket_pool, win(6, 1, 7600)));
  CHECK(is_effective(Target::dns_socket_pool, win(10, 0, 14393)));
}

TEST_CASE("targets: names, descriptions, protocols and when they take effect") {
  REQUIRE(all_targets().size() == 3);
  for (const auto& t : all_targets()) {
    CHECK(parse_target(t.name) == t.target);
    CHECK(to_string(t.target) == t.name);
    CHECK(&info(t.target) == &t);
    CHECK_FALSE(t.description.empty());
  }
  CHECK(parse_target("reserved-ports") == Target::reserved_ports);
  CHECK(parse_target("dns-socket-pool") == Target::dns_socket_pool);
  CHECK(parse_target("persistent-reservation") == Target::persistent_reservation);
  CHECK_FALSE(parse_target("ReservedPorts").has_value());
  CHECK(info(Target::dns_socket_pool).udp);
  CHECK_FALSE(info(Target::dns_socket_pool).tcp);
  CHECK(info(Target::reserved_ports).takes_effect == TakesEffect::next_boot);
  CHECK(info(Target::dns_socket_pool).takes_effect == TakesEffect::dns_restart);
  CHECK(info(Target::persistent_reservation).takes_effect == TakesEffect::immediately);
  CHECK(to_string(TakesEffect::next_boot) == "next boot");
  CHECK(to_string(TakesEffect::dns_restart) == "DNS service restart");
}

TEST_CASE("enum spellings round-trip and reject unknown words") {
  for (auto t : {StartType::boot, StartType::system, StartType::automatic, StartType::delayed_automatic, StartType::manual,
                 StartType::disabled, StartType::unknown})
    CHECK(parse_start_type(to_string(t)) == t);
  CHECK(to_string(StartType::delayed_automatic) == "delayed-automatic");
  CHECK_FALSE(parse_start_type("auto").has_value());
  for (auto s : {ServiceState::stopped, ServiceState::start_pending, ServiceState::stop_pending, ServiceState::running,
                 ServiceState::continue_pending, ServiceState::pause_pending, ServiceState::paused, ServiceState::unknown})
    CHECK(parse_service_state(to_string(s)) == s);
  CHECK_FALSE(parse_service_state("RUNNING").has_value());
  for (auto m : {Mode::merge, Mode::exact}) CHECK(parse_mode(to_string(m)) == m);
  CHECK_FALSE(parse_mode("replace").has_value());
  for (auto s : {Severity::info, Severity::warning, Severity::error}) CHECK(parse_severity(to_string(s)) == s);
  CHECK_FALSE(parse_severity("fatal").has_value());
  for (auto k : {Provenance::Kind::policy, Provenance::Kind::catalog, Provenance::Kind::registry, Provenance::Kind::gpo})
    CHECK(parse_provenance_kind(to_string(k)) == k);
  CHECK_FALSE(parse_provenance_kind("guess").has_value());
}

TEST_CASE("PortInUse::describe_holder says who holds a port") {
  PortInUse u{Protocol::udp, 1645, 1816, "dns.exe", "DNS"};
  CHECK(u.describe_holder() == "DNS service (dns.exe, PID 1816)");
  u.service.clear();
  CHECK(u.describe_holder() == "dns.exe (PID 1816)");
  u.pid = 0;
  CHECK(u.describe_holder() == "dns.exe");
  u.process.clear();
  CHECK(u.describe_holder() == "an unknown process");
  u.pid = 42;
  CHECK(u.describe_holder() == "the process with PID 42");
  u.service = "IAS";
  CHECK(u.describe_holder() == "IAS service (PID 42)");
}

TEST_CASE("HostSnapshot finds services case-insensitively and picks the IPv4 dynamic range") {
  HostSnapshot s;
  s.services.push_back(ServiceInfo{"IAS", "Network Policy Server", StartType::automatic, ServiceState::running, 900, {}, {}, {}});
  CHECK(s.find_service("ias") != nullptr);
  CHECK(s.find_service("IAS")->pid == 900);
  CHECK(s.find_service("DNS") == nullptr);

  CHECK_FALSE(s.dynamic_range(Protocol::udp).has_value());
  s.dynamic_ranges.push_back({Protocol::udp, IpVersion::v6, PortRange::make(40000, 50000), false, "v6"});
  CHECK(s.dynamic_range(Protocol::udp)->source == "v6");  // only one: used
  s.dynamic_ranges.push_back({Protocol::udp, IpVersion::v4, PortRange::make(1025, 60000), false, "v4"});
  CHECK(s.dynamic_range(Protocol::udp)->range == PortRange::make(1025, 60000));
  CHECK_FALSE(s.dynamic_range(Protocol::tcp).has_value());
}

TEST_CASE("describe(Requirement) explains who needs a port and why") {
  Requirement r{Protocol::udp, PortRange::make(1645, 1646), "IAS", {Provenance::Kind::catalog, "catalog:IAS", "RADIUS legacy auth/accounting"}};
  CHECK(describe(r) == "IAS (catalog: RADIUS legacy auth/accounting)");
  r.provenance = {Provenance::Kind::policy, "policy.toml:12", "backup agent"};
  r.service.clear();
  CHECK(describe(r) == "policy (policy policy.toml:12: backup agent)");
  r.provenance = {Provenance::Kind::registry, "HKLM\\X\\TcpPort", "SQL Server instance port"};
  r.service = "MSSQL$X";
  CHECK(describe(r) == "MSSQL$X (registry HKLM\\X\\TcpPort: SQL Server instance port)");
}
