#pragma once
// Registering PortGuard with the Service Control Manager as install-service does and the MSI
// does (docs/service.md), and removing it again.
#include "portguard/adapters/scm.hpp"

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

} // namespace portguard::win32
