#include "portguard/commands/win32_host.hpp"

#include "portguard/adapters/group_policy_store.hpp"
#include "portguard/adapters/paths.hpp"
#include "portguard/adapters/policy_acl.hpp"
#include "portguard/adapters/system_probe.hpp"
#include "portguard/adapters/win32_error.hpp"

namespace portguard::win32 {

std::string Win32Host::default_policy_file() { return narrow(layout().policy_file().wstring()); }

std::string Win32Host::services_file() { return narrow(win32::services_file().wstring()); }

std::string Win32Host::policy_writers(const std::filesystem::path& policy_file) { return policy_write_problems(policy_file); }

std::optional<config::GroupPolicy> Win32Host::machine_group_policy() { return read_machine_group_policy(registry_); }

Assessment Win32Host::assess(const config::Policy& policy, ServiceDetail detail) { return win32::assess(live_host(), policy, detail); }

BindOutcome Win32Host::try_exclusive_bind(Protocol protocol, Port port) { return exclusive_bind(protocol, port); }

const DataLayout& Win32Host::layout() {
  if (!layout_) layout_ = DataLayout::installed(registry_);
  return *layout_;
}

LiveHost& Win32Host::live_host() {
  if (!live_) live_ = std::make_unique<LiveHost>(registry_, layout());
  return *live_;
}

Win32Host& win32_host(cli::Io io) { return static_cast<Win32Host&>(io.host); }

} // namespace portguard::win32
