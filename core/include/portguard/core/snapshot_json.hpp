#pragma once
#include "portguard/core/snapshot.hpp"

#include <string>
#include <string_view>

namespace portguard {

inline constexpr int snapshot_format_version = 1;

/// Serialises a snapshot as the documented JSON format (docs/snapshot.md), pretty-printed.
std::string to_json(const HostSnapshot& snapshot);

/// Reads the documented JSON format. Throws SnapshotError naming `source` (a file name) and the
/// JSON path of the offending member; unknown members are errors, not ignored.
HostSnapshot snapshot_from_json(std::string_view text, const std::string& source = "<snapshot>");

} // namespace portguard
