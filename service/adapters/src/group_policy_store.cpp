#include "portguard/adapters/group_policy_store.hpp"

#include "portguard/adapters/registry_store.hpp"

namespace portguard::win32 {

std::optional<std::vector<config::PolicyRegistryValue>> Win32PolicyKeys::values(std::string_view key) {
  const auto names = registry_.value_names(key);
  if (!names) return std::nullopt;
  std::vector<config::PolicyRegistryValue> out;
  for (const auto& name : *names) {
    // A value deleted between the enumeration and the read is simply gone (gpupdate rewrites lists).
    if (auto raw = registry_.read_raw(key, name)) out.push_back({std::string(key), name, std::move(*raw)});
  }
  return out;
}

config::GroupPolicy read_machine_group_policy(Win32RegistryStore& registry) {
  Win32PolicyKeys keys(registry);
  return config::read_group_policy(keys);
}

} // namespace portguard::win32
