// The same host in prefixes switched to different Windows versions (cmake/wine-run --winver) picks
// different effective targets and dynamic ranges. Built twice: PG_EXPECT_WINVER = 2003 or 10.
#include "portguard/adapters/persistent_reservations.hpp"
#include "portguard/adapters/registry_store.hpp"
#include "portguard/adapters/system_probe.hpp"

#include "portguard/core/plan.hpp"
#include "portguard/core/target.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include "portguard/adapters/unique_handle.hpp"

#include <windows.h>

using namespace portguard;
using namespace portguard::win32;

namespace {
/// A DNS+IAS server: both services installed (never started; only their presence matters here).
struct InstalledService {
  unique_schandle scm{::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ALL_ACCESS)};
  unique_schandle service;
  explicit InstalledService(const wchar_t* name) {
    REQUIRE(scm);
    service.reset(::CreateServiceW(scm.get(), name, name, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                   SERVICE_ERROR_NORMAL, L"C:\\windows\\system32\\dns.exe", nullptr, nullptr, nullptr, nullptr, nullptr));
    REQUIRE(service);
  }
  ~InstalledService() { ::DeleteService(service.get()); }
};
} // namespace

TEST_CASE("the Windows version of the prefix decides which targets are effective") {
  InstalledService dns_service(L"DNS"), ias_service(L"IAS");
  Win32RegistryStore registry;
  Win32PersistentReservationApi reservations(registry);
  Win32SystemProbe probe(registry, reservations);
  const HostSnapshot host = probe.capture({}, ServiceDetail::state);
  const Provenance why{Provenance::Kind::policy, "test", "RADIUS"};
  // RADIUS lies inside 2003's dynamic range (1025-5000); on Windows 10 a port inside 49152-65535
  // stands for it, since only ports inside the range go into DNS's exclusions (docs/policy.md).
  const Requirements req{{Protocol::udp, PortRange::make(1645, 1646), "IAS", why},
                         {Protocol::udp, PortRange::make(50000, 50000), "IAS", why}};
  const ReservationPlan p = plan(host, req, PlanSettings{});
  const TargetPlan* rp = p.find(Target::reserved_ports);
  const TargetPlan* dns = p.find(Target::dns_socket_pool);
  const auto udp = host.dynamic_range(Protocol::udp);
  REQUIRE(udp.has_value());
#if PG_EXPECT_WINVER == 2003
  CHECK(host.version.major == 5);
  CHECK(host.version.minor == 2);
  CHECK(is_effective(Target::reserved_ports, host.version));
  CHECK_FALSE(is_effective(Target::dns_socket_pool, host.version));
  REQUIRE(rp != nullptr);
  CHECK(rp->effective);
  CHECK(rp->has_changes());   // RADIUS goes into ReservedPorts
  CHECK((dns == nullptr || !dns->has_changes()));
  CHECK(udp->range == PortRange::make(1025, 5000));   // 1025..MaxUserPort default
#else
  CHECK(host.version.major == 10);
  CHECK_FALSE(is_effective(Target::reserved_ports, host.version));
  CHECK(is_effective(Target::dns_socket_pool, host.version));
  CHECK((rp == nullptr || !rp->has_changes()));       // ReservedPorts is not honoured any more
  REQUIRE(dns != nullptr);
  CHECK(dns->effective);
  CHECK(dns->has_changes());
  CHECK(udp->range == PortRange::make(49152, 65535));
#endif
  CHECK(udp->assumed);
}

TEST_CASE("MaxUserPort sets the dynamic range on Windows 2003 only") {
  Win32RegistryStore registry;
  registry.write_raw(std::string(registry_paths::tcpip_parameters), "MaxUserPort", {reg_type::dword, {0x60, 0xea, 0, 0}});   // 60000
  const auto ranges = dynamic_port_ranges(real_windows_version(), registry);
  REQUIRE_FALSE(ranges.empty());
#if PG_EXPECT_WINVER == 2003
  CHECK(ranges.front().range == PortRange::make(1025, 60000));
  CHECK_FALSE(ranges.front().assumed);
  CHECK(ranges.front().source == "MaxUserPort");
#else
  CHECK(ranges.front().range == PortRange::make(49152, 65535));
  CHECK(ranges.front().assumed);
#endif
}

TEST_CASE("an administrator's dynamic range override is used where the range cannot be read") {
  Win32RegistryStore registry;
  const std::string key(dynamic_range_override_key);
  registry.write_raw(key, "DynamicPortRangeUdp", {reg_type::sz, encode_multi_sz({"1025-60000"})});
  registry.write_raw(key, "DynamicPortRangeTcp", {reg_type::sz, encode_multi_sz({"garbage"})});
  const auto ranges = dynamic_port_ranges(real_windows_version(), registry);
  auto find = [&](Protocol p) {
    return *std::find_if(ranges.begin(), ranges.end(), [&](const DynamicPortRange& d) { return d.protocol == p && d.ip == IpVersion::v4; });
  };
#if PG_EXPECT_WINVER == 2003
  // 2003: MaxUserPort rules (set by the previous test case in this prefix), never the override.
  CHECK(find(Protocol::udp).source == "MaxUserPort");
  CHECK_THAT(find(Protocol::udp).source, !Catch::Contains("override"));
#else
  const DynamicPortRange udp = find(Protocol::udp);
  if (udp.source == "MSFT_NetUDPSetting") {
    WARN("WMI answered (real Windows?): the override is not needed and not used");
  } else {
    CHECK(udp.range == PortRange::make(1025, 60000));
    CHECK_FALSE(udp.assumed);
    CHECK_THAT(udp.source, Catch::Contains("administrator override") && Catch::Contains("DynamicPortRangeUdp"));
    // A value that is not one range is ignored: the default stays, marked assumed.
    CHECK(find(Protocol::tcp).range == PortRange::make(49152, 65535));
    CHECK(find(Protocol::tcp).assumed);
  }
#endif
}
