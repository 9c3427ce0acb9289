#pragma once
// Shared by the sources of Win32SystemProbe (system_probe.cpp, port_tables.cpp, os_info.cpp,
// dynamic_ranges.cpp, wmi_dynamic_range.cpp); not for other callers.
#include "portguard/core/ports.hpp"

#include <windows.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace portguard::win32 {

using ProcessNames = std::map<DWORD, std::string>;

/// Image names by PID: one Toolhelp snapshot (a few ms under Wine), shared by a capture's users.
ProcessNames process_names();
/// bound_ports (system_probe.hpp) with the process list the capture already took.
std::vector<PortInUse> bound_ports(const std::vector<ServiceInfo>& services, const ProcessNames& names);

/// When the process started (Unix seconds); nullopt when it cannot be opened.
std::optional<std::uint64_t> process_start_unix(DWORD pid);
/// Seconds since boot: GetTickCount64 where it exists (Vista+), else GetTickCount.
std::uint64_t uptime_seconds();
/// When the Service Control Manager (services.exe) started; nullopt when it is not in `names`.
std::optional<std::uint64_t> scm_start_unix(const ProcessNames& names);

/// The WMI dynamic range of the protocol, answered from a one-minute cache.
std::optional<PortRange> cached_wmi_dynamic_range(Protocol protocol);

} // namespace portguard::win32
