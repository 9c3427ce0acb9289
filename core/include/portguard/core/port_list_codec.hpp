#pragma once
// Codec for the registry string lists that hold port ranges: Tcpip\Parameters\ReservedPorts and
// DNS\Parameters\SocketPoolExcludedPortRanges (REG_MULTI_SZ, one "start-end" entry per string).
#include "portguard/core/port_range.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace portguard {

/// One entry of a port list exactly as it was found, and what it means.
struct PortListEntry {
  std::string raw;                    // verbatim, never altered
  std::optional<PortRange> range;     // set when the entry is understood
  std::string problem;                // why not understood, or a remark ("reversed bounds"), else empty
};

/// Everything a port list value contains. Nothing is ever dropped: entries that are not ranges
/// are kept verbatim in `unrecognised` and survive a format() round trip.
struct PortList {
  std::vector<PortListEntry> entries;     // in original order
  PortSet ports;                          // union of every understood entry
  std::vector<std::string> unrecognised;  // verbatim, original order
  std::size_t blank_entries = 0;          // empty or all-space strings: reported, not written back
};

/// Accepts what an admin may have typed: "1645-1646", "1645-1645", "1645", stray spaces, reversed
/// bounds (understood, with a remark), duplicates and overlaps. Out-of-range numbers and garbage
/// become unrecognised entries.
PortList parse_port_list(const std::vector<std::string>& values);

/// How much parse_port_list reports per entry.
enum class EntryDetail : std::uint8_t {
  full,   // `entries` filled, with problems and remarks (duplicates, overlaps, single ports ...)
  none,   // `entries` left empty: ports, unrecognised and blank_entries only (bulk callers, the planner)
};
PortList parse_port_list(const std::vector<std::string>& values, EntryDetail detail);

/// Canonical form: "start-end" for every range (single ports too), ascending, adjacent and
/// overlapping ranges merged (KB 812873), followed by the unrecognised entries verbatim.
std::vector<std::string> format_port_list(const PortSet& ports, const std::vector<std::string>& unrecognised = {});

} // namespace portguard
