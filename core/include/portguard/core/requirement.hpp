#pragma once
#include "portguard/core/port_range.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portguard {

/// Why a port is needed: every reserved range can be traced back to one or more of these.
struct Provenance {
  enum class Kind : std::uint8_t { policy, catalog, registry, gpo };   // gpo: Group Policy (HKLM\SOFTWARE\Policies\PortGuard)
  Kind kind = Kind::policy;
  std::string source;   // "C:\\ProgramData\\PortGuard\\policy.toml:12", "catalog:IAS", "HKLM\\...\\IPAll\\TcpPort",
                        // "HKLM\\SOFTWARE\\Policies\\PortGuard\\Reservations"
  std::string reason;   // "RADIUS legacy auth/accounting"

  friend bool operator==(const Provenance&, const Provenance&) = default;
};

std::string_view to_string(Provenance::Kind kind) noexcept;     // "policy" / "catalog" / "registry" / "gpo"
std::optional<Provenance::Kind> parse_provenance_kind(std::string_view text) noexcept;

/// A range of ports of one protocol that one Windows service needs to be able to bind.
struct Requirement {
  Protocol protocol = Protocol::udp;
  PortRange ports = PortRange::single(1);
  std::string service;            // Windows service key name that binds these ports ("IAS"); may be empty
  Provenance provenance;

  friend bool operator==(const Requirement&, const Requirement&) = default;
};

using Requirements = std::vector<Requirement>;

/// "IAS (catalog: RADIUS legacy auth/accounting)", "policy (policy policy.toml:12: backup agent)",
/// "IAS (gpo: HKLM\\SOFTWARE\\Policies\\PortGuard\\Reservations: Group Policy entry '1812-1813/udp/IAS')":
/// who needs the ports and why, as plan renderings and events show it.
std::string describe(const Requirement& requirement);

/// How many distinct port ranges the requirements need once merged (TCP and UDP requirements of the
/// same ports are one range, as in ReservedPorts). Event 1002 and `check`'s OK summary both count
/// with it, so they never disagree about "N required port ranges".
std::size_t distinct_port_ranges(const Requirements& requirements);

} // namespace portguard
