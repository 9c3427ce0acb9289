#pragma once
#include <compare>
#include <cstdint>
#include <string>

namespace portguard {

/// The Windows version a host really runs (RtlGetVersion, not the compatibility-shimmed one).
struct WindowsVersion {
  std::uint32_t major = 10;
  std::uint32_t minor = 0;
  std::uint32_t build = 0;
  bool server = true;

  /// "Windows Server 2003 (5.2.3790)" and the like; for messages only.
  std::string describe() const;

  friend auto operator<=>(const WindowsVersion& a, const WindowsVersion& b) {
    if (auto c = a.major <=> b.major; c != 0) return c;
    if (auto c = a.minor <=> b.minor; c != 0) return c;
    return a.build <=> b.build;
  }
  friend bool operator==(const WindowsVersion& a, const WindowsVersion& b) {
    return a.major == b.major && a.minor == b.minor && a.build == b.build;
  }
};

} // namespace portguard
