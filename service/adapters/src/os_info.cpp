// What the probe reads about the running Windows: its real version, process start times, uptime,
// and when the Service Control Manager started (the boot time PortGuard reports).
#include "portguard/adapters/system_probe.hpp"
#include "system_probe_internal.hpp"

#include "portguard/core/error.hpp"
#include "portguard/core/text.hpp"
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

namespace portguard::win32 {

std::optional<std::uint64_t> process_start_unix(DWORD pid) {
  if (pid == 0) return std::nullopt;
  // The limited right (Vista+) is all Windows 8.1+ grants on services.exe, a protected process;
  // 2003 knows only the full one.
  constexpr DWORD query_limited_information = 0x1000;   // PROCESS_QUERY_LIMITED_INFORMATION
  unique_handle_t process(::OpenProcess(query_limited_information, FALSE, pid));
  if (!process) process.reset(::OpenProcess(PROCESS_QUERY_INFORMATION, FALSE, pid));
  if (!process) return std::nullopt;
  FILETIME created{}, exited{}, kernel{}, user{};
  if (!::GetProcessTimes(process.get(), &created, &exited, &kernel, &user)) return std::nullopt;
  const std::uint64_t ticks = (std::uint64_t{created.dwHighDateTime} << 32) | created.dwLowDateTime;
  constexpr std::uint64_t epoch_diff = 116444736000000000ULL;   // 1601 -> 1970 in 100 ns
  if (ticks < epoch_diff) return std::nullopt;
  return (ticks - epoch_diff) / 10000000ULL;
}

/// Seconds since boot: GetTickCount64 where it exists (Vista+), else GetTickCount, which wraps after
/// 49.7 days (only a fallback: scm_start_unix answers on every version).
std::uint64_t uptime_seconds() {
  using TickCount64Fn = ULONGLONG(WINAPI*)();
  static const auto tick_count64 = reinterpret_cast<TickCount64Fn>(
      reinterpret_cast<void*>(::GetProcAddress(::GetModuleHandleW(L"kernel32.dll"), "GetTickCount64")));
  return (tick_count64 != nullptr ? tick_count64() : ::GetTickCount()) / 1000;
}

/// When the Service Control Manager (services.exe) started: the start of this boot as far as
/// services are concerned. Preferred over now - GetTickCount64(), which under Wine is the Linux
/// host's uptime and does not change when a prefix restarts; on Windows both agree within seconds.
std::optional<std::uint64_t> scm_start_unix(const ProcessNames& names) {
  for (const auto& [pid, name] : names) {
    if (iequals_ascii(name, "services.exe")) return process_start_unix(pid);
  }
  return std::nullopt;
}

WindowsVersion real_windows_version() {
  using RtlGetVersionFn = LONG(WINAPI*)(OSVERSIONINFOEXW*);
  WindowsVersion v;
  OSVERSIONINFOEXW info{};
  info.dwOSVersionInfoSize = sizeof info;
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  auto fn = ntdll ? reinterpret_cast<RtlGetVersionFn>(reinterpret_cast<void*>(::GetProcAddress(ntdll, "RtlGetVersion"))) : nullptr;
  if (fn == nullptr || fn(&info) != 0) throw Error("RtlGetVersion is not available: cannot tell which Windows version this is");
  v.major = info.dwMajorVersion;
  v.minor = info.dwMinorVersion;
  v.build = info.dwBuildNumber;
  v.server = info.wProductType != VER_NT_WORKSTATION;
  return v;
}

} // namespace portguard::win32
