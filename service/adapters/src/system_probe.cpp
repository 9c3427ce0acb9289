#include "portguard/adapters/system_probe.hpp"
#include "system_probe_internal.hpp"

#include "portguard/core/backup_store.hpp"
#include "portguard/core/exclusions.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <chrono>

namespace portguard::win32 {

Win32SystemProbe::Win32SystemProbe(RegistryStore& registry, PersistentReservationApi& reservations, const ReservationLedger* ledger,
                                   CallTrace* trace)
    : registry_(registry), reservations_(reservations), ledger_(ledger), trace_(trace) {}

HostSnapshot Win32SystemProbe::capture(const std::vector<ConfiguredPortQuery>& queries, ServiceDetail detail) {
  using Step = CallTrace::Step;
  HostSnapshot s;
  {
    const Step step(trace_, "GetComputerNameExW");
    wchar_t host[256];
    DWORD host_len = 256;
    if (::GetComputerNameExW(ComputerNameDnsHostname, host, &host_len)) s.hostname = narrow(std::wstring_view(host, host_len));
  }
  s.captured_at = iso8601_utc(std::chrono::system_clock::now());
  s.version = real_windows_version();
  {
    const Step step(trace_, "the SCM's service list (EnumServicesStatusExW) and the services' registry keys");
    s.services = installed_services(registry_, detail);
  }
  {
    const Step step(trace_, "reading ReservedPorts and SocketPoolExcludedPortRanges");
    s.reserved_ports = registry_.read_multi_string(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value);
    s.dns_socket_pool_excluded = registry_.read_multi_string(registry_paths::dns_parameters, registry_paths::socket_pool_excluded_value);
  }
  if (reservations_.available()) {
    s.persistent_reservations = look_up_reservations({});
  }
  {
    const Step step(trace_, "reading the dynamic port ranges (registry, WMI)");
    s.dynamic_ranges = dynamic_port_ranges(s.version, registry_);
  }
  // Excluded ranges exist from Vista/2008 on. What can be read without netsh: the administered
  // ones in the NSI store; the persistent reservation look-ups and the exclusive-bind probe of
  // required ports are added by the assessment (core/assess.cpp). Ranges HNS/WinNAT hold are not
  // stored anywhere readable: only the probe sees them, port by port.
  if (s.version.major >= 6) {
    const Step step(trace_, "reading the administered excluded ranges (NSI registry store)");
    s.excluded_ranges = read_administered_exclusions(registry_);
  }
  ProcessNames names;
  {
    const Step step(trace_, "the process list (CreateToolhelp32Snapshot)");
    names = process_names();
  }
  {
    const Step step(trace_, "the UDP and TCP tables (GetExtendedUdpTable, GetExtendedTcpTable)");
    s.ports_in_use = bound_ports(s.services, names);
  }
  {
    const Step step(trace_, "reading the services' configured ports (registry)");
    s.configured_ports = configured_ports(queries, registry_, s.services);
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const Step step(trace_, "the boot and DNS start times (process times)");
  s.boot_time_unix = scm_start_unix(names).value_or(static_cast<std::uint64_t>(now) - uptime_seconds());
  if (const ServiceInfo* dns = s.find_service("DNS"); dns != nullptr && dns->state == ServiceState::running) {
    s.dns_start_time_unix = process_start_unix(dns->pid);
  }
  return s;
}

bool Win32SystemProbe::port_in_use(Protocol protocol, Port port) {
  const CallTrace::Step step(trace_, "an exclusive bind (socket, bind)");
  return exclusive_bind_fails(protocol, port);
}

BindOutcome Win32SystemProbe::try_exclusive_bind(Protocol protocol, Port port) {
  const CallTrace::Step step(trace_, "an exclusive bind (socket, bind)");
  return exclusive_bind(protocol, port);
}

std::vector<PersistentReservation> Win32SystemProbe::created_by_portguard() {
  if (ledger_ == nullptr) return {};
  try {
    return ledger_->load();
  } catch (const std::exception&) {
    return {};   // a broken ledger: no block is known to be PortGuard's, so none is deleted
  }
}

std::optional<std::vector<PersistentReservation>> Win32SystemProbe::look_up_reservations(std::span<const PortRange> candidates) {
  if (!reservations_.available()) return std::nullopt;
  const CallTrace::Step step(trace_, "the persistent reservation look-ups (LookupPersistentUdpPortReservation, ...Tcp...)");
  std::vector<PersistentReservation> all = reservations_.list(Protocol::udp, candidates);
  for (auto& r : reservations_.list(Protocol::tcp, candidates)) all.push_back(r);
  return all;
}

} // namespace portguard::win32
