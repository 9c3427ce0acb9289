#pragma once
// SystemProbe on a live Windows host: version (RtlGetVersion), services (SCM + registry), the
// mechanisms' current values, dynamic port ranges, ports in use with their holders, and the ports
// services are configured to use in the registry.
#include "portguard/core/backup_store.hpp"
#include "portguard/core/call_trace.hpp"
#include "portguard/core/ports.hpp"

#include <vector>

namespace portguard::win32 {

class Win32SystemProbe : public SystemProbe {
public:
  /// `registry` and `reservations` are the adapters the snapshot reads the mechanisms through;
  /// `ledger` (may be null) names the blocks PortGuard created; `trace` (may be null) is where each
  /// call that can block is marked, for the guard's watchdog.
  Win32SystemProbe(RegistryStore& registry, PersistentReservationApi& reservations, const ReservationLedger* ledger = nullptr,
                   CallTrace* trace = nullptr);

  HostSnapshot capture(const std::vector<ConfiguredPortQuery>& configured_ports, ServiceDetail detail) override;
  bool port_in_use(Protocol protocol, Port port) override;
  BindOutcome try_exclusive_bind(Protocol protocol, Port port) override;
  /// The ledger's blocks; empty when there is no ledger or it cannot be read (then no block counts
  /// as PortGuard's, so none is ever deleted).
  std::vector<PersistentReservation> created_by_portguard() override;
  /// The blocks PortGuard created (ledger) and the candidates, looked up one by one.
  std::optional<std::vector<PersistentReservation>> look_up_reservations(std::span<const PortRange> candidates) override;

private:
  RegistryStore& registry_;
  PersistentReservationApi& reservations_;
  const ReservationLedger* ledger_;
  CallTrace* trace_;
};

/// WMI root\StandardCimv2 MSFT_NetUDPSetting / MSFT_NetTCPSetting (Windows 8 / 2012+; not under
/// Wine, which has no such classes). Real-Windows-only: docs/testing.md.
class Win32DynamicRangeWmi : public DynamicRangeWmi {
public:
  std::optional<PortRange> read(Protocol protocol) override;
  void write(Protocol protocol, PortRange range) override;
};

/// The version Windows really runs: RtlGetVersion, which compatibility shims do not lie to.
WindowsVersion real_windows_version();
/// Installed Win32 services with state and PID (one SCM enumeration) and, for ServiceDetail::full,
/// start type, group, dependencies and image path (registry: QueryServiceConfigW's dependencies are
/// empty on some hosts, e.g. Wine).
std::vector<ServiceInfo> installed_services(RegistryStore& registry, ServiceDetail detail);
/// Bound UDP and TCP ports (IPv4 and IPv6) with owner PID, image name and hosting service.
/// PID 0 means the owner is unknown (Wine always reports 0).
std::vector<PortInUse> bound_ports(const std::vector<ServiceInfo>& services);
/// Where an administrator records the dynamic range of a Vista..2008 R2 host (or any host whose WMI
/// cannot answer): REG_SZ values DynamicPortRangeUdp / DynamicPortRangeTcp, "start-end", as shown
/// by `netsh int ipv4 show dynamicport udp`.
inline constexpr std::string_view dynamic_range_override_key = "HKLM\\SOFTWARE\\PortGuard\\Parameters";
/// Dynamic (ephemeral) port ranges per protocol for this version; see docs/architecture.md.
std::vector<DynamicPortRange> dynamic_port_ranges(const WindowsVersion& version, RegistryStore& registry);
/// Registry-configured ports ('*' in a key matches any subkey; the service name is resolved
/// against the installed services).
std::vector<ConfiguredPort> configured_ports(const std::vector<ConfiguredPortQuery>& queries, RegistryStore& registry,
                                             const std::vector<ServiceInfo>& services);
/// True when an exclusive bind (SO_EXCLUSIVEADDRUSE) of the port on all IPv4 addresses fails with
/// WSAEADDRINUSE or WSAEACCES.
bool exclusive_bind_fails(Protocol protocol, Port port);
/// One exclusive bind (SO_EXCLUSIVEADDRUSE) of the port on all IPv4 addresses, closed at once:
/// bound, WSAEADDRINUSE or WSAEACCES; any other error throws Win32Error.
BindOutcome exclusive_bind(Protocol protocol, Port port);
/// "dns.exe (PID 1816)", ... for every holder of a port in the range; "an unknown process" if none known.
std::string describe_holders(RegistryStore& registry, Protocol protocol, PortRange range);

} // namespace portguard::win32
