#include "portguard/core/windows_version.hpp"

namespace portguard {

namespace {
std::string product_name(const WindowsVersion& v) {
  const auto pick = [&](const char* server, const char* client) { return std::string(v.server ? server : client); };
  if (v.major == 5 && v.minor == 0) return "Windows 2000";
  if (v.major == 5 && v.minor == 1) return "Windows XP";
  if (v.major == 5 && v.minor == 2) return pick("Windows Server 2003", "Windows XP x64");
  if (v.major == 6 && v.minor == 0) return pick("Windows Server 2008", "Windows Vista");
  if (v.major == 6 && v.minor == 1) return pick("Windows Server 2008 R2", "Windows 7");
  if (v.major == 6 && v.minor == 2) return pick("Windows Server 2012", "Windows 8");
  if (v.major == 6 && v.minor == 3) return pick("Windows Server 2012 R2", "Windows 8.1");
  if (v.major == 10 && v.minor == 0) {
    if (v.server) {
      // Server releases share 10.0 and differ by build number.
      if (v.build >= 26100) return "Windows Server 2025";
      if (v.build >= 20348) return "Windows Server 2022";
      if (v.build >= 17763) return "Windows Server 2019";
      if (v.build >= 14393) return "Windows Server 2016";
      return "Windows Server";
    }
    return v.build >= 22000 ? "Windows 11" : "Windows 10";
  }
  return v.server ? "Windows Server" : "Windows";
}
} // namespace

std::string WindowsVersion::describe() const {
  return product_name(*this) + " (" + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build) + ")";
}

} // namespace portguard
