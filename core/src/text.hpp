#pragma once
// Small text helpers shared by the core's sources (not part of the public API).
#include <string_view>

namespace portguard::detail {

/// ASCII case-insensitive equality: Windows service key names compare this way.
bool iequals_ascii(std::string_view a, std::string_view b) noexcept;

} // namespace portguard::detail
