#pragma once
// HostSnapshot: one Windows host as the guard sees it. Captured live by the Win32 SystemProbe, or
// read from JSON (docs/snapshot.md) so a host can be captured on Windows and planned anywhere.
#include "portguard/core/port_range.hpp"
#include "portguard/core/windows_version.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace portguard {

enum class StartType : std::uint8_t { boot, system, automatic, delayed_automatic, manual, disabled, unknown };
enum class ServiceState : std::uint8_t { stopped, start_pending, stop_pending, running, continue_pending, pause_pending, paused, unknown };

std::string_view to_string(StartType) noexcept;
std::string_view to_string(ServiceState) noexcept;
std::optional<StartType> parse_start_type(std::string_view) noexcept;
std::optional<ServiceState> parse_service_state(std::string_view) noexcept;

struct ServiceInfo {
  std::string name;                      // service key name, e.g. "IAS"
  std::string display_name;
  StartType start_type = StartType::unknown;
  ServiceState state = ServiceState::unknown;
  std::uint32_t pid = 0;                 // 0 when not running
  std::string group;                     // load-order group, may be empty
  std::vector<std::string> depend_on;    // DependOnService, read from the registry
  std::string image_path;

  friend bool operator==(const ServiceInfo&, const ServiceInfo&) = default;
};

/// A REG_MULTI_SZ value as found. `present == false`: the value does not exist.
/// `type_problem` is set when the value exists with another type (e.g. REG_SZ): then `strings`
/// holds whatever could be recovered, and the guard must not overwrite it without a backup.
struct MultiStringValue {
  bool present = false;
  std::vector<std::string> strings;      // UTF-8, verbatim, including empty strings
  std::string type_problem;              // "value has type REG_SZ, expected REG_MULTI_SZ"

  friend bool operator==(const MultiStringValue&, const MultiStringValue&) = default;
};

struct PersistentReservation {
  Protocol protocol = Protocol::udp;
  Port start = 0;                        // host byte order (the API wants network order: adapters convert)
  std::uint16_t count = 0;
  std::uint64_t token = 0;               // may change across reboots: look it up again, never persist it

  friend bool operator==(const PersistentReservation&, const PersistentReservation&) = default;
};

struct DynamicPortRange {
  Protocol protocol = Protocol::udp;
  IpVersion ip = IpVersion::v4;
  PortRange range = PortRange::make(49152, 65535);
  bool assumed = false;                  // true: not read from the host, the version's documented default
  std::string source;                    // "MaxUserPort", "MSFT_NetUDPSetting", "default for Windows 6.1"

  friend bool operator==(const DynamicPortRange&, const DynamicPortRange&) = default;
};

/// Who holds an excluded port range (what `netsh int ipv4 show excludedportrange` lists).
/// Administered ranges are made with store=persistent (netsh, or CreatePersistent*PortReservation)
/// by an administrator or a tool; they only steer automatic (port 0) allocation, the service that
/// needs the port can still bind it. Ranges the system holds at run time (HNS/WinNAT for Hyper-V,
/// WSL and Docker Desktop) block explicit binds too (WSAEACCES 10013) and are made again each time
/// that component starts.
enum class ExclusionHolder : std::uint8_t {
  portguard,       // administered; PortGuard created it for the policy (recorded in its ledger)
  administrator,   // administered by someone else (an admin, an installer, a script)
  system,          // held by the system at run time (HNS/WinNAT)
};
std::string_view to_string(ExclusionHolder) noexcept;          // "portguard" / "administrator" / "system"
std::optional<ExclusionHolder> parse_exclusion_holder(std::string_view) noexcept;

/// One excluded port range of one protocol and IP version.
struct ExcludedRange {
  Protocol protocol = Protocol::tcp;
  IpVersion ip = IpVersion::v4;
  PortRange range = PortRange::single(1);
  ExclusionHolder holder = ExclusionHolder::administrator;
  /// How it was seen, "; "-joined when several sources saw it: "persistent reservation look-up",
  /// "Nsi registry (store=persistent)", "exclusive-bind probe: WSAEACCES 10013, no owner", "netsh".
  std::string source;

  bool administered() const noexcept { return holder != ExclusionHolder::system; }
  /// "administered, created by PortGuard (its ledger)", "administered by someone else",
  /// "held by the system at run time (HNS/WinNAT)".
  std::string_view describe_holder() const noexcept;

  friend bool operator==(const ExcludedRange&, const ExcludedRange&) = default;
};

/// A local port bound right now.
struct PortInUse {
  Protocol protocol = Protocol::udp;
  Port port = 0;
  std::uint32_t pid = 0;                 // 0: owner unknown (e.g. under Wine, or not permitted)
  std::string process;                   // image name, e.g. "dns.exe"; empty when unknown
  std::string service;                   // service key name hosting the process, empty when unknown

  /// "dns.exe (PID 1816)", "DNS service (dns.exe, PID 1816)" or "an unknown process".
  std::string describe_holder() const;
  /// Whether the holder's process hosts `service`: the probe writes every service a shared process
  /// hosts ("kdc,KeyIso,Netlogon,NTDS,SamSs"). Case-insensitive; false for an empty name.
  bool hosts(std::string_view service) const noexcept;
  /// Whether the holder is System (PID 4) binding for a service whose ports the kernel binds on
  /// its behalf: SMB and NetBT for the file-sharing services, HTTP.sys URLs for WinRM and IIS.
  bool kernel_listener_of(std::string_view service) const noexcept;

  friend bool operator==(const PortInUse&, const PortInUse&) = default;
};

/// A port a service is configured to use, found in its registry configuration.
struct ConfiguredPort {
  std::string service;                   // "MSSQL$SQLEXPRESS"
  Protocol protocol = Protocol::tcp;
  PortRange ports = PortRange::single(1433);
  std::string source;                    // full registry path of the value

  friend bool operator==(const ConfiguredPort&, const ConfiguredPort&) = default;
};

struct HostSnapshot {
  std::string hostname;
  std::string captured_at;               // ISO 8601 UTC, informational
  WindowsVersion version;
  std::vector<ServiceInfo> services;

  MultiStringValue reserved_ports;           // Tcpip\Parameters\ReservedPorts
  MultiStringValue dns_socket_pool_excluded; // DNS\Parameters\SocketPoolExcludedPortRanges
  /// nullopt: the persistent reservation API is not available on this host.
  std::optional<std::vector<PersistentReservation>> persistent_reservations;

  std::vector<DynamicPortRange> dynamic_ranges;
  /// Every excluded port range the capture could see (docs/snapshot.md says which sources see
  /// what). nullopt: not captured (snapshots written before the member existed, Windows 2003);
  /// empty: looked, none found.
  std::optional<std::vector<ExcludedRange>> excluded_ranges;
  std::vector<PortInUse> ports_in_use;
  std::vector<ConfiguredPort> configured_ports;

  std::optional<std::uint64_t> boot_time_unix;       // when the host last booted
  std::optional<std::uint64_t> dns_start_time_unix;  // when the DNS service last started

  const ServiceInfo* find_service(std::string_view name) const noexcept;  // case-insensitive
  /// The dynamic range for protocol (IPv4 preferred); nullopt when the snapshot has none.
  std::optional<DynamicPortRange> dynamic_range(Protocol protocol) const;
  /// The excluded ranges of `protocol` containing `port`, any IP version, in snapshot order.
  std::vector<ExcludedRange> exclusions_covering(Protocol protocol, Port port) const;
  /// The holder with its service named from the service table when exactly one service runs in
  /// its process (and the capture did not name one).
  PortInUse named_holder(PortInUse holder) const;

  friend bool operator==(const HostSnapshot&, const HostSnapshot&) = default;
};

} // namespace portguard
