#pragma once
// PortGuard's own entry in the Service Control Manager: its names, its recovery actions, and
// whether it is installed. Shared by the service host (recovery actions at every start) and the
// install code (docs/service.md).
#include <filesystem>
#include <string_view>

namespace portguard::win32 {

inline constexpr wchar_t service_name[] = L"PortGuard";
/// The load-order group: NetworkProvider starts before every ungrouped auto-start service (DNS,
/// IAS...) and is the least intrusive Win32 group that does (docs/service.md). The MSI uses it too.
inline constexpr wchar_t service_group[] = L"NetworkProvider";

/// Restart after 60 s, three times; reset the failure count after a day; also on a non-crash
/// failure (STOPPED with an exit code). Best effort where the SCM does not store it (Wine).
/// Throws Win32Error when the service cannot be opened or the actions are refused.
void configure_recovery_actions();

/// Whether the PortGuard service exists in the SCM. Throws Win32Error when the SCM cannot be opened.
bool portguard_installed();

/// This process's executable (GetModuleFileNameW). Throws Win32Error.
std::filesystem::path this_exe();


} // namespace portguard::win32
