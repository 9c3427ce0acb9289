#pragma once
// The Group Policy keys (HKLM\SOFTWARE\Policies\PortGuard, written by the Group Policy client from
// installer/admx/PortGuard.admx) read from the real registry. Parsing, validation and the merge
// with the policy file are portable (portguard/config/group_policy.hpp).
#include "portguard/config/group_policy.hpp"

namespace portguard::win32 {

class Win32RegistryStore;

/// PolicyKeyReader over the 64-bit registry view: RegEnumValueW for the names, each value read
/// byte-exactly (Win32RegistryStore::read_raw).
class Win32PolicyKeys : public config::PolicyKeyReader {
public:
  explicit Win32PolicyKeys(Win32RegistryStore& registry) : registry_(registry) {}
  std::optional<std::vector<config::PolicyRegistryValue>> values(std::string_view key) override;

private:
  Win32RegistryStore& registry_;
};

/// read_group_policy over Win32PolicyKeys: what every command and the guard merge into the policy.
/// Throws GroupPolicyError for bad values, Error when the keys cannot be read.
config::GroupPolicy read_machine_group_policy(Win32RegistryStore& registry);

} // namespace portguard::win32
