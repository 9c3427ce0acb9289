// Win32SystemProbe under Wine with real calls: services created with the SCM API (one named IAS)
// are discovered with their state, PID and registry settings; a port another process holds is
// reported in use; registry-configured ports are found; the persistent-reservation API is absent
// under Wine and reported so.
#include "portguard/core/assess.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/registry_value.hpp"
#include "portguard/adapters/persistent_reservations.hpp"
#include "portguard/adapters/registry_store.hpp"
#include "portguard/adapters/system_probe.hpp"
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <catch2/catch.hpp>

#include <windows.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <tuple>
#include <thread>

using namespace portguard;
using namespace portguard::win32;

namespace {

std::wstring sleeper_path() {
  wchar_t self[MAX_PATH];
  const DWORD n = ::GetModuleFileNameW(nullptr, self, MAX_PATH);
  std::wstring path(self, n);
  return path.substr(0, path.find_last_of(L"\\/") + 1) + L"pg-sleeper.exe";
}

/// Creates a service running pg-sleeper; deletes it (stopping it first) at scope exit.
struct TestService {
  std::wstring name;
  unique_schandle scm;
  unique_schandle service;

  TestService(const std::wstring& n, DWORD start_type, const wchar_t* display) : name(n) {
    scm.reset(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ALL_ACCESS));
    REQUIRE(scm);
    const std::wstring command = L"\"" + sleeper_path() + L"\" service";
    service.reset(::CreateServiceW(scm.get(), name.c_str(), display, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, start_type,
                                   SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr, nullptr, nullptr, nullptr));
    REQUIRE(service);
  }
  ~TestService() {
    SERVICE_STATUS status{};
    ::ControlService(service.get(), SERVICE_CONTROL_STOP, &status);
    ::DeleteService(service.get());
  }
  DWORD start() {
    REQUIRE(::StartServiceW(service.get(), 0, nullptr));
    SERVICE_STATUS_PROCESS ssp{};
    // Up to 60 s: a loaded 2-core machine can take seconds to start a Wine process.
    for (int i = 0; i < 1200; ++i) {
      DWORD needed = 0;
      REQUIRE(::QueryServiceStatusEx(service.get(), SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&ssp), sizeof ssp, &needed));
      if (ssp.dwCurrentState == SERVICE_RUNNING) return ssp.dwProcessId;
      ::Sleep(50);
    }
    FAIL("service did not reach RUNNING");
    return 0;
  }
};

const ServiceInfo* find(const std::vector<ServiceInfo>& services, std::string_view name) {
  const auto it = std::find_if(services.begin(), services.end(), [&](const ServiceInfo& s) { return s.name == name; });
  return it == services.end() ? nullptr : &*it;
}

/// A child process holding a port until the returned handle is closed/terminated.
struct PortHolder {
  PROCESS_INFORMATION pi{};
  unique_handle_t process, thread;
  PortHolder(const wchar_t* protocol, int port) {
    std::wstring command = L"\"" + sleeper_path() + L"\" hold " + protocol + L" " + std::to_wstring(port);
    STARTUPINFOW si{};
    si.cb = sizeof si;
    REQUIRE(::CreateProcessW(nullptr, command.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi));
    process.reset(pi.hProcess);
    thread.reset(pi.hThread);
  }
  ~PortHolder() { ::TerminateProcess(process.get(), 0); ::WaitForSingleObject(process.get(), 5000); }
};

bool wait_in_use(Protocol p, Port port) {
  // Up to 30 s (the holder is a new Wine process; see TestService::start).
  for (int i = 0; i < 1200; ++i) {
    if (exclusive_bind_fails(p, port)) return true;
    ::Sleep(25);
  }
  return false;
}

} // namespace

TEST_CASE("discovery sees services created with the SCM API, their state, PID and registry settings") {
  TestService ias(L"IAS", SERVICE_DEMAND_START, L"Network Policy Server");
  TestService idle(L"PGIdle", SERVICE_AUTO_START, L"PortGuard idle test service");
  // Dependencies and group are read from the registry (QueryServiceConfigW's are empty on Wine).
  Win32RegistryStore registry;
  registry.write_multi_string("HKLM\\SYSTEM\\CurrentControlSet\\Services\\PGIdle", "DependOnService", {"IAS", "RpcSs"});
  registry.write_raw("HKLM\\SYSTEM\\CurrentControlSet\\Services\\PGIdle", "Group", {REG_SZ, encode_multi_sz({"NetworkProvider"})});
  const DWORD pid = ias.start();
  REQUIRE(pid != 0);

  const auto services = installed_services(registry, ServiceDetail::full);
  const ServiceInfo* s = find(services, "IAS");
  REQUIRE(s != nullptr);
  CHECK(s->display_name == "Network Policy Server");
  CHECK(s->state == ServiceState::running);
  CHECK(s->pid == pid);
  CHECK(s->start_type == StartType::manual);
  CHECK_THAT(s->image_path, Catch::Contains("pg-sleeper.exe"));

  const ServiceInfo* i = find(services, "PGIdle");
  REQUIRE(i != nullptr);
  CHECK(i->state == ServiceState::stopped);
  CHECK(i->pid == 0);
  CHECK(i->start_type == StartType::automatic);
  CHECK(i->depend_on == std::vector<std::string>{"IAS", "RpcSs"});
  CHECK(i->group == "NetworkProvider");

  // A capture carries the same services; the registry settings only when asked for (snapshot,
  // discover), since checks and guard passes do not use them and pay ~1 ms per service for them.
  Win32PersistentReservationApi reservations(registry);
  Win32SystemProbe probe(registry, reservations);
  const HostSnapshot full = probe.capture({}, ServiceDetail::full);
  REQUIRE(full.find_service("pgidle") != nullptr);
  CHECK(full.find_service("pgidle")->group == "NetworkProvider");
  CHECK(full.find_service("pgidle")->start_type == StartType::automatic);

  const HostSnapshot snap = probe.capture({}, ServiceDetail::state);
  REQUIRE(snap.find_service("ias") != nullptr);
  CHECK(snap.find_service("ias")->pid == pid);
  CHECK(snap.find_service("ias")->state == ServiceState::running);
  REQUIRE(snap.find_service("pgidle") != nullptr);
  CHECK(snap.find_service("pgidle")->start_type == StartType::unknown);
  CHECK(snap.find_service("pgidle")->group.empty());
  CHECK(snap.services.size() == full.services.size());
  CHECK(snap.boot_time_unix.has_value());
  CHECK_FALSE(snap.hostname.empty());
}

TEST_CASE("a port another process holds is reported in use, its owner unknown when Windows does not say") {
  constexpr Port udp_port = 41645;
  constexpr Port tcp_port = 41646;
  Win32RegistryStore registry;
  Win32PersistentReservationApi reservations(registry);
  Win32SystemProbe probe(registry, reservations);
  CHECK_FALSE(probe.port_in_use(Protocol::udp, udp_port));
  CHECK_FALSE(probe.port_in_use(Protocol::tcp, tcp_port));

  PortHolder udp(L"udp", udp_port);
  PortHolder tcp(L"tcp", tcp_port);
  REQUIRE(wait_in_use(Protocol::udp, udp_port));
  REQUIRE(wait_in_use(Protocol::tcp, tcp_port));
  CHECK(probe.port_in_use(Protocol::udp, udp_port));
  CHECK(probe.port_in_use(Protocol::tcp, tcp_port));

  const HostSnapshot snap = probe.capture({}, ServiceDetail::state);
  for (auto [protocol, port] : {std::pair{Protocol::udp, udp_port}, std::pair{Protocol::tcp, tcp_port}}) {
    INFO(to_string(protocol) << " " << port);
    const auto it = std::find_if(snap.ports_in_use.begin(), snap.ports_in_use.end(),
                                 [&](const PortInUse& u) { return u.protocol == protocol && u.port == port; });
    REQUIRE(it != snap.ports_in_use.end());
    // Wine reports owner PID 0 for every row; real Windows names the process.
    if (it->pid == 0) {
      CHECK(it->describe_holder() == "an unknown process");
      CHECK(describe_holders(registry, protocol, PortRange::single(port)) == "an unknown process on port " + std::to_string(port));
    } else {
      CHECK(it->process == "pg-sleeper.exe");
    }
  }
}

TEST_CASE("registry-configured ports are found, '*' instance keys expanded and mapped to their service") {
  Win32RegistryStore registry;
  TestService sql(L"MSSQL$SQLEXPRESS", SERVICE_DEMAND_START, L"SQL Server (SQLEXPRESS)");
  const std::string sql_root = "HKLM\\SOFTWARE\\Microsoft\\Microsoft SQL Server";
  registry.write_raw(sql_root + "\\MSSQL15.SQLEXPRESS\\MSSQLServer\\SuperSocketNetLib\\Tcp\\IPAll", "TcpPort",
                     {REG_SZ, encode_multi_sz({"1533"})});
  registry.write_raw(sql_root + "\\MSSQL15.OTHER\\MSSQLServer\\SuperSocketNetLib\\Tcp\\IPAll", "TcpPort", {REG_SZ, encode_multi_sz({""})});
  const std::string wds = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\WDSServer\\Parameters";
  registry.write_raw(wds, "UdpStartPort", {REG_DWORD, {0x41, 0xfa, 0, 0}});   // 64065
  registry.write_raw(wds, "UdpEndPort", {REG_DWORD, {0x45, 0xfa, 0, 0}});     // 64069

  const std::vector<ConfiguredPortQuery> queries = {
      {"MSSQL*", sql_root + "\\*\\MSSQLServer\\SuperSocketNetLib\\Tcp\\IPAll", "TcpPort", Protocol::tcp, ""},
      {"WDSServer", wds, "UdpStartPort", Protocol::udp, "UdpEndPort"},
      {"TermService", "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp", "PortNumber", Protocol::tcp, ""},
  };
  const auto services = installed_services(registry, ServiceDetail::full);
  const auto found = configured_ports(queries, registry, services);
  REQUIRE(found.size() == 2);   // the empty TcpPort (dynamic) and the absent RDP key are skipped
  CHECK(found[0].service == "MSSQL$SQLEXPRESS");
  CHECK(found[0].protocol == Protocol::tcp);
  CHECK(found[0].ports == PortRange::single(1533));
  CHECK(found[0].source == sql_root + "\\MSSQL15.SQLEXPRESS\\MSSQLServer\\SuperSocketNetLib\\Tcp\\IPAll\\TcpPort");
  CHECK(found[1].service == "WDSServer");
  CHECK(found[1].ports == PortRange::make(64065, 64069));
}

TEST_CASE("the mechanisms' values and the dynamic range are in the snapshot") {
  Win32RegistryStore registry;
  registry.write_multi_string(std::string(registry_paths::tcpip_parameters), registry_paths::reserved_ports_value, {"1645-1646", ""});
  Win32PersistentReservationApi reservations(registry);
  Win32SystemProbe probe(registry, reservations);
  const HostSnapshot snap = probe.capture({}, ServiceDetail::state);
  CHECK(snap.reserved_ports.present);
  CHECK(snap.reserved_ports.strings == std::vector<std::string>{"1645-1646", ""});
  CHECK_FALSE(snap.dns_socket_pool_excluded.present);
  const auto udp = snap.dynamic_range(Protocol::udp);
  REQUIRE(udp.has_value());
  CHECK(udp->assumed);   // neither MaxUserPort nor a readable setting in a fresh prefix
  if (snap.version.major >= 6) {
    CHECK(udp->range == PortRange::make(49152, 65535));
  } else {
    CHECK(udp->range == PortRange::make(1025, 5000));
  }
}

TEST_CASE("persistent reservations are absent under Wine: not available, not in the snapshot, no crash") {
  Win32RegistryStore registry;
  Win32PersistentReservationApi api(registry);
  if (api.available()) {
    WARN("the persistent reservation API exists here (real Windows?): the fallback path is not exercised");
    return;
  }
  CHECK_THROWS_WITH(api.create(Protocol::udp, 1645, 2), Catch::Contains("unavailable on this host"));
  CHECK_THROWS_WITH(api.list(Protocol::tcp, {}), Catch::Contains("unavailable on this host"));
  Win32SystemProbe probe(registry, api);
  CHECK_FALSE(probe.capture({}, ServiceDetail::state).persistent_reservations.has_value());
}

TEST_CASE("RtlGetVersion gives a plausible version") {
  const WindowsVersion v = real_windows_version();
  CHECK(v.major >= 5);
  CHECK(v.build > 0);
}

// Issue 16: the exclusive-bind probe and the excluded-range sources, with the real calls.
TEST_CASE("the exclusive-bind probe tells a free port from a held one, and releases what it binds") {
  constexpr Port udp_port = 41647;
  constexpr Port tcp_port = 41648;
  Win32RegistryStore registry;
  Win32PersistentReservationApi reservations(registry);
  Win32SystemProbe probe(registry, reservations);
  CHECK(probe.try_exclusive_bind(Protocol::udp, udp_port) == BindOutcome::bound);
  CHECK(probe.try_exclusive_bind(Protocol::tcp, tcp_port) == BindOutcome::bound);
  // Released at once: a second bind succeeds too.
  CHECK(probe.try_exclusive_bind(Protocol::tcp, tcp_port) == BindOutcome::bound);

  PortHolder udp(L"udp", udp_port);
  PortHolder tcp(L"tcp", tcp_port);
  REQUIRE(wait_in_use(Protocol::udp, udp_port));
  REQUIRE(wait_in_use(Protocol::tcp, tcp_port));
  const BindOutcome u = probe.try_exclusive_bind(Protocol::udp, udp_port);
  const BindOutcome t = probe.try_exclusive_bind(Protocol::tcp, tcp_port);
  INFO("udp: " << to_string(u) << ", tcp: " << to_string(t));
  CHECK(u != BindOutcome::bound);
  CHECK(t != BindOutcome::bound);
  // Whatever error the holder provokes (WSAEACCES for an exclusive TCP holder), a port the
  // connection tables list is "in use", never an exclusion.
  const HostSnapshot snap = probe.capture({}, ServiceDetail::state);
  for (auto [protocol, port, outcome] : {std::tuple{Protocol::udp, udp_port, u}, std::tuple{Protocol::tcp, tcp_port, t}}) {
    const bool listed = std::any_of(snap.ports_in_use.begin(), snap.ports_in_use.end(),
                                    [&](const PortInUse& r) { return r.protocol == protocol && r.port == port; });
    CHECK(listed);
    CHECK(classify_bind(outcome, listed) == PortBlock::in_use);
  }
}

TEST_CASE("administered exclusions are read from the NSI store; the ledger marks PortGuard's own") {
  Win32RegistryStore registry;
  Win32PersistentReservationApi reservations(registry);
  Win32SystemProbe plain(registry, reservations);
  const HostSnapshot before = plain.capture({}, ServiceDetail::state);
  if (before.version.major < 6) {
    CHECK_FALSE(before.excluded_ranges.has_value());   // Windows 2003 has no excluded ranges
    return;
  }
  REQUIRE(before.excluded_ranges.has_value());
  CHECK(before.excluded_ranges->empty());   // Wine has no NSI store: nothing, and no error

  // What netsh ... store=persistent leaves behind (the values an admin's and PortGuard's blocks make).
  const RawRegistryValue range_type{reg_type::binary, {0x12, 0x00, 0xff, 0xff}};
  registry.write_raw(std::string(registry_paths::nsi_tcp_exclusions), "a2c20a00", range_type);   // 41666, 10 ports
  registry.write_raw(std::string(registry_paths::nsi_udp_exclusions), "a2bc0100", range_type);   // 41660, 1 port
  const auto dir = std::filesystem::temp_directory_path() / "pg-probe-ledger";
  std::filesystem::remove_all(dir);
  ReservationLedger ledger(dir / "created-reservations.json");
  ledger.add({Protocol::udp, 41660, 1, 7});
  Win32SystemProbe probe(registry, reservations, &ledger);
  const RequirementFunction none([](const HostSnapshot&) { return Requirements{}; });
  const Assessment a = assess(probe, none, {}, ServiceDetail::state);
  REQUIRE(a.host.excluded_ranges.has_value());
  const auto tcp = a.host.exclusions_covering(Protocol::tcp, 41670);
  REQUIRE(tcp.size() == 2);   // IPv4 and IPv6
  CHECK(tcp[0].range == PortRange::make(41666, 41675));
  CHECK(tcp[0].holder == ExclusionHolder::administrator);
  CHECK(tcp[0].source == "Nsi registry (store=persistent)");
  const auto udp = a.host.exclusions_covering(Protocol::udp, 41660);
  REQUIRE(udp.size() == 2);
  CHECK(udp[0].holder == ExclusionHolder::portguard);
  std::filesystem::remove_all(dir);
}
