#pragma once
// The small interfaces through which the portable core talks to the operating system. The Win32
// implementations live in service/win32/; tests use the fakes in tests/support/fakes.hpp.
#include "portguard/core/snapshot.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace portguard {

namespace registry_paths {
// Full paths as Windows admins write them; adapters map the "HKLM\" root.
inline constexpr std::string_view tcpip_parameters = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters";
inline constexpr std::string_view dns_parameters = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\DNS\\Parameters";
inline constexpr std::string_view reserved_ports_value = "ReservedPorts";
inline constexpr std::string_view socket_pool_excluded_value = "SocketPoolExcludedPortRanges";
inline constexpr std::string_view services_root = "HKLM\\SYSTEM\\CurrentControlSet\\Services";
// Where Windows keeps the administered (store=persistent) excluded port ranges, one key per
// protocol for IPv4 and IPv6 together. Undocumented: read only, never written (writes go through
// the persistent reservation API). See read_administered_exclusions().
inline constexpr std::string_view nsi_tcp_exclusions =
    "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Nsi\\{eb004a03-9b1a-11d4-9123-0050047759bc}\\29";
inline constexpr std::string_view nsi_udp_exclusions =
    "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Nsi\\{eb004a02-9b1a-11d4-9123-0050047759bc}\\5";
} // namespace registry_paths

/// Registry access. Paths are full ("HKLM\\SYSTEM\\..."). Reads of a missing key or value return
/// "not present" (std::optional / MultiStringValue::present); every other failure throws.
class RegistryStore {
public:
  virtual ~RegistryStore() = default;
  virtual MultiStringValue read_multi_string(std::string_view key, std::string_view value) = 0;
  /// Writes REG_MULTI_SZ, creating the key when missing.
  virtual void write_multi_string(std::string_view key, std::string_view value, const std::vector<std::string>& strings) = 0;
  virtual void delete_value(std::string_view key, std::string_view value) = 0;
  virtual std::optional<std::uint32_t> read_dword(std::string_view key, std::string_view value) = 0;
  virtual std::optional<std::string> read_string(std::string_view key, std::string_view value) = 0;
  virtual std::vector<std::string> subkeys(std::string_view key) = 0;
  /// The names of the values of `key`; nullopt when the key does not exist.
  virtual std::optional<std::vector<std::string>> value_names(std::string_view key) = 0;
};

/// Persistent port reservations (iphlpapi, Vista/2008+). Ports are in host byte order here.
class PersistentReservationApi {
public:
  virtual ~PersistentReservationApi() = default;
  virtual bool available() const = 0;
  /// The reservations of `protocol`. Windows documents no way to enumerate them, so an adapter that
  /// cannot may return only those it knows (the blocks PortGuard created) plus each of `candidates`
  /// that exists with exactly those bounds. The caller names the candidates on every call (the
  /// ranges its pass needs): no look-up depends on what an earlier pass asked for.
  virtual std::vector<PersistentReservation> list(Protocol protocol, std::span<const PortRange> candidates) = 0;
  /// Returns the reservation token. Throws PortsInUseError when a port of the block is in use.
  virtual std::uint64_t create(Protocol protocol, Port start, std::uint16_t count) = 0;
  virtual void remove(Protocol protocol, Port start, std::uint16_t count) = 0;
};

/// The dynamic port range through WMI (issue 16): root\StandardCimv2 MSFT_NetUDPSetting /
/// MSFT_NetTCPSetting, DynamicPortRangeStartPort and DynamicPortRangeNumberOfPorts, Windows 8 /
/// Server 2012 and later. Wine has no MSFT_Net*Setting classes: the logic is tested through a fake,
/// the real calls only on real Windows (docs/testing.md).
class DynamicRangeWmi {
public:
  virtual ~DynamicRangeWmi() = default;
  /// The range as WMI reports it now, uncached (TCP: the envelope of every setting template);
  /// nullopt when WMI cannot answer.
  virtual std::optional<PortRange> read(Protocol protocol) = 0;
  /// Sets the range on every instance of the protocol's class. Throws Error naming the WMI call and
  /// the instance when one cannot be written.
  virtual void write(Protocol protocol, PortRange range) = 0;
};

/// A port of the requested block is bound right now (ERROR_SHARING_VIOLATION on Windows).
class PortsInUseError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What discovery should look up besides the fixed parts of a snapshot: the registry values that
/// configure a service's port (SQL Server TcpPort, RDP PortNumber, WDS UdpPortPolicy ...).
struct ConfiguredPortQuery {
  std::string service;        // service the port belongs to; may contain '*' for instance patterns
  std::string key;            // registry key; may contain one '*' matching any subkey (instances)
  std::string value;
  Protocol protocol = Protocol::tcp;
  /// Optional: a second value holding the end of a port range (WDS UdpStartPort..UdpEndPort);
  /// empty: `value` alone holds the port.
  std::string end_value;
};

/// How much a capture reads about each installed service. Planning needs only the name, state and
/// process of each; start type, group, dependencies and image path are for people reading a
/// snapshot, and cost several registry reads per service (about 1 ms each under Wine, so a third
/// of a second on a 300-service host) on the boot path and in every guard pass.
enum class ServiceDetail : std::uint8_t {
  state,   // name, display name, state, PID; start_type "unknown", group/dependencies/image empty
  full,    // everything in ServiceInfo: for snapshots and `discover`
};

/// What one exclusive bind (SO_EXCLUSIVEADDRUSE, all IPv4 addresses, released at once) answered.
/// Read with the connection tables: WSAEACCES with a row for the port is an exclusive holder (TCP);
/// without one it is an excluded range the system holds (HNS/WinNAT) — see classify_bind().
enum class BindOutcome : std::uint8_t {
  bound,            // the port was free; the socket is closed again
  address_in_use,   // WSAEADDRINUSE 10048
  access_denied,    // WSAEACCES 10013
  not_probed,       // nothing can be bound here (a snapshot file)
};
std::string_view to_string(BindOutcome) noexcept;  // "bound", "address-in-use", "access-denied", "not-probed"

/// Reads the live host. One call produces one consistent snapshot.
class SystemProbe {
public:
  virtual ~SystemProbe() = default;
  virtual HostSnapshot capture(const std::vector<ConfiguredPortQuery>& configured_ports, ServiceDetail detail) = 0;
  /// True when binding the port exclusively fails with "in use" (WSAEADDRINUSE or WSAEACCES).
  virtual bool port_in_use(Protocol protocol, Port port) = 0;
  /// One exclusive bind, telling WSAEACCES from WSAEADDRINUSE. The default answers from
  /// port_in_use() alone (a probe that cannot tell them apart never reports an exclusion).
  virtual BindOutcome try_exclusive_bind(Protocol protocol, Port port) {
    return port_in_use(protocol, port) ? BindOutcome::address_in_use : BindOutcome::bound;
  }
  /// The host's persistent reservations, looked up for `candidates` (see
  /// PersistentReservationApi::list). nullopt: capture() already lists every reservation there is
  /// (a snapshot file, a fake that enumerates) or the API is unavailable; keep the capture's list.
  virtual std::optional<std::vector<PersistentReservation>> look_up_reservations(std::span<const PortRange> candidates) {
    (void)candidates;
    return std::nullopt;
  }
  /// The persistent reservations PortGuard created (its ledger); the assessment marks those
  /// blocks as PortGuard's in HostSnapshot::excluded_ranges. Empty when unknown.
  virtual std::vector<PersistentReservation> created_by_portguard() { return {}; }
};

/// An alert for monitoring (the Windows Event Log in the service). IDs are documented in
/// docs/events.md; `inserts` fill the message text's %1, %2, ...
struct Event {
  std::uint32_t id = 0;
  enum class Level : std::uint8_t { information, warning, error } level = Level::information;
  std::vector<std::string> inserts;
};

class EventSink {
public:
  virtual ~EventSink() = default;
  virtual void report(const Event& event) = 0;
};

class Clock {
public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() = 0;
  virtual std::chrono::steady_clock::time_point steady_now() = 0;
};

} // namespace portguard
