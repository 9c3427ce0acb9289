#include "portguard/core/target.hpp"

#include <array>

namespace portguard {

namespace {
constexpr std::array<TargetInfo, 3> targets{{
    {Target::reserved_ports, "reserved-ports",
     "Tcpip\\Parameters\\ReservedPorts: keeps TCP and UDP ports out of automatic allocation (Windows 2000-2003)",
     TakesEffect::next_boot, true, true},
    {Target::dns_socket_pool, "dns-socket-pool",
     "DNS\\Parameters\\SocketPoolExcludedPortRanges: keeps UDP ports out of the DNS server's socket pool (2008 R2 and later)",
     TakesEffect::dns_restart, true, false},
    {Target::persistent_reservation, "persistent-reservation",
     "persistent port reservations (iphlpapi): blocks excluded from automatic allocation, per protocol (Vista/2008 and later)",
     TakesEffect::immediately, true, true},
}};
} // namespace

std::span<const TargetInfo> all_targets() noexcept { return targets; }

const TargetInfo& info(Target target) noexcept {
  for (const auto& t : targets)
    if (t.target == target) return t;
  return targets[0];
}

std::optional<Target> parse_target(std::string_view name) noexcept {
  for (const auto& t : targets)
    if (t.name == name) return t.target;
  return std::nullopt;
}

std::string_view to_string(Target target) noexcept { return info(target).name; }

std::string_view to_string(TakesEffect effect) noexcept {
  switch (effect) {
    case TakesEffect::next_boot: return "next boot";
    case TakesEffect::dns_restart: return "DNS service restart";
    case TakesEffect::immediately: return "immediately";
  }
  return "?";
}

bool is_effective(Target target, const WindowsVersion& v) noexcept {
  const auto at_least = [&](std::uint32_t major, std::uint32_t minor) {
    return v.major > major || (v.major == major && v.minor >= minor);
  };
  switch (target) {
    // KB 812873: ReservedPorts is not implemented on Windows Vista / Server 2008 and later.
    case Target::reserved_ports: return !at_least(6, 0);
    // The DNS server gained SocketPoolExcludedPortRanges in Windows Server 2008 R2 (6.1).
    case Target::dns_socket_pool: return at_least(6, 1);
    // CreatePersistent{Udp,Tcp}PortReservation exist from Vista / Server 2008 (6.0).
    case Target::persistent_reservation: return at_least(6, 0);
  }
  return false;
}

} // namespace portguard
