#pragma once
// How PortGuard is registered with the Service Control Manager, and how other services are made to
// wait for it (docs/service.md).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace portguard {
class RegistryStore;
}

namespace portguard::win32 {

class DataLayout;
class Win32RegistryStore;

inline constexpr wchar_t service_name[] = L"PortGuard";
/// The load-order group: NetworkProvider starts before every ungrouped auto-start service (DNS,
/// IAS...) and is the least intrusive Win32 group that does (docs/service.md). The MSI uses it too.
inline constexpr wchar_t service_group[] = L"NetworkProvider";

/// Restart after 60 s, three times; reset the failure count after a day; also on a non-crash
/// failure (STOPPED with an exit code). Best effort where the SCM does not store it (Wine).
/// Throws Win32Error when the service cannot be opened or the actions are refused.
void configure_recovery_actions();

struct InstallOptions {
  std::filesystem::path binary;       // portguard.exe; default: this executable
  std::wstring group = service_group;
  bool start = false;
};
/// CreateServiceW (auto start, LocalSystem, own process, group), description, recovery actions,
/// the Event Log source, DataDir recorded and the data folder secured (as the MSI does).
/// Throws Win32Error.
void install_service(Win32RegistryStore& registry, const InstallOptions& options);
/// Stops the service (waits up to 30 s), removes every DependOnService entry `protect` added,
/// deletes the service and the event source. Missing pieces are not errors. Returns whether the
/// PortGuard service was installed.
bool uninstall_service(Win32RegistryStore& registry, const DataLayout& layout, std::vector<std::string>* log = nullptr);

/// Whether `group` is listed in HKLM\SYSTEM\CurrentControlSet\Control\ServiceGroupOrder\List
/// (nullopt when the value cannot be read).
std::optional<bool> group_in_service_group_order(RegistryStore& registry, const std::wstring& group);

// --- protect / unprotect: make a service wait for PortGuard -------------------------------------

struct ProtectRecord {
  std::string service;                      // service key name as the user typed it
  bool created_value = false;               // DependOnService did not exist before protect
  std::vector<std::string> previous;        // DependOnService before protect (the backup)
};

/// The record lives in layout.protect_records_file(); only what is recorded is removed.
std::vector<ProtectRecord> load_protect_records(const DataLayout& layout);
/// Whether `protect` recorded `service` (case-insensitive), i.e. `unprotect` would undo it.
bool is_recorded(const std::string& service, const DataLayout& layout);

/// Appends PortGuard to `service`'s DependOnService (read, append, write back) and records it.
/// Returns false (and records nothing) when PortGuard is already listed, i.e. not added by us.
/// Throws InputError when the service does not exist or PortGuard is not installed.
bool protect_service(RegistryStore& registry, const std::string& service, const DataLayout& layout);
/// What depending on PortGuard means for `service`, from its start type: one sentence for the
/// output of `protect` (the trade-off of docs/service.md).
std::string dependency_tradeoff(RegistryStore& registry, const std::string& service);
/// Removes exactly what protect added. Returns false when nothing was recorded for `service`.
bool unprotect_service(RegistryStore& registry, const std::string& service, const DataLayout& layout);

} // namespace portguard::win32
