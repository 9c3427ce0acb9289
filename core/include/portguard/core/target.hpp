#pragma once
// The reservation mechanisms PortGuard manages, described independently of how they are applied.
#include "portguard/core/port_range.hpp"
#include "portguard/core/windows_version.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace portguard {

enum class Target : std::uint8_t {
  reserved_ports,          // Tcpip\Parameters\ReservedPorts, REG_MULTI_SZ, TCP+UDP, Windows 2000..2003
  dns_socket_pool,         // DNS\Parameters\SocketPoolExcludedPortRanges, REG_MULTI_SZ, UDP, 2008 R2+
  persistent_reservation,  // iphlpapi CreatePersistent{Udp,Tcp}PortReservation, Vista/2008+
};

/// When a change to a target starts protecting ports.
enum class TakesEffect : std::uint8_t { next_boot, dns_restart, immediately };

struct TargetInfo {
  Target target;
  std::string_view name;          // policy / CLI spelling: "reserved-ports", "dns-socket-pool", "persistent-reservation"
  std::string_view description;   // one line for humans
  TakesEffect takes_effect;
  bool udp;                       // protects UDP
  bool tcp;                       // protects TCP
};

std::span<const TargetInfo> all_targets() noexcept;
const TargetInfo& info(Target target) noexcept;
std::optional<Target> parse_target(std::string_view name) noexcept;
std::string_view to_string(Target target) noexcept;
std::string_view to_string(TakesEffect effect) noexcept;  // "next boot", "DNS service restart", "immediately"

/// Whether Windows itself honours the mechanism on this version (KB 812873: ReservedPorts is not
/// implemented on Vista/2008 and later; SocketPoolExcludedPortRanges exists from 2008 R2).
bool is_effective(Target target, const WindowsVersion& version) noexcept;

} // namespace portguard
