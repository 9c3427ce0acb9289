#include "portguard/adapters/live_host.hpp"


#include <ostream>

namespace portguard::win32 {

LiveHost::LiveHost(Win32RegistryStore& registry, DataLayout layout, CallTrace* trace)
    : layout_(std::move(layout)),
      registry_(registry),
      ledger_(layout_.ledger_file()),
      reservations_(registry_, &ledger_),
      probe_(registry_, reservations_, &ledger_, trace),
      backups_(layout_.backups_dir(), clock_),
      applier_(registry_, reservations_, backups_, &ledger_) {
  applier_.set_dynamic_range_wmi(&dynamic_range_wmi_);
}

PolicyChoice choose_policy(const std::string& file, const std::string& services_file, bool optional) {
  std::error_code ec;
  if (optional && !std::filesystem::exists(file, ec)) {
    PolicyChoice c;
    c.policy.source = "<no policy: built-in catalog>";
    c.policy.catalog = config::builtin_catalog();
    return c;
  }
  return PolicyChoice{config::load_policy(file, services_file), true};
}

Assessment assess(LiveHost& live, const config::Policy& policy, ServiceDetail detail) {
  return portguard::assess(live.probe(), config::PolicyRequirements(policy), policy.plan, detail);
}

} // namespace portguard::win32
