#pragma once
// protect / unprotect: make a service wait for PortGuard at boot (DependOnService), recorded so
// that exactly what PortGuard added is removed again (docs/service.md). Used by the protect
// commands, uninstall, and the guard's Group Policy "protect at boot" (through
// RunOptions::protect_at_boot, which the run command wires).
#include <string>
#include <vector>

namespace portguard {
class RegistryStore;
}

namespace portguard::win32 {

class DataLayout;

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
