#pragma once
// Administered excluded port ranges as Windows stores them (netsh ... store=persistent and
// CreatePersistent*PortReservation both land there). Windows documents no API that lists them;
// the NSI store under HKLM\SYSTEM\CurrentControlSet\Control\Nsi is read-only here, and only as a
// source of the snapshot: every write goes through the documented persistent reservation API.
#include "portguard/core/ports.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace portguard {

/// The block a value name of the NSI exclusion keys stands for: 8 hex digits, the first 4 the
/// start port, the last 4 the number of ports byte-swapped ("cc570100" = 52311, 1 port).
/// nullopt for any other name (it is skipped, never guessed at).
std::optional<PortRange> parse_nsi_exclusion_name(std::string_view name) noexcept;

/// Every administered excluded range in the registry (registry_paths::nsi_tcp_exclusions and
/// nsi_udp_exclusions), listed for IPv4 and IPv6 (one NSI entry serves both), holder
/// ExclusionHolder::administrator (the assessment marks PortGuard's own from its ledger).
/// Empty when the keys do not exist (Windows before 2008 R2 with KB 2665809, Wine).
std::vector<ExcludedRange> read_administered_exclusions(RegistryStore& registry);

} // namespace portguard
