#include "win32/live_host.hpp"

#include "win32/paths.hpp"

#include <ostream>

namespace portguard::win32 {

LiveHost::LiveHost()
    : data_dir(win32::data_dir()),
      ledger(reservation_ledger_file()),
      reservations(&ledger),
      probe(registry, reservations, &ledger),
      backups(backups_dir(), clock),
      applier(registry, reservations, backups, &ledger) {
  applier.set_dynamic_range_wmi(&dynamic_range_wmi);
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
  return portguard::assess(live.probe, config::PolicyRequirements(policy), policy.plan, detail);
}

Assessment assess_for_plan(const config::Policy& policy) {
  LiveHost live;
  return assess(live, policy, ServiceDetail::state);
}

} // namespace portguard::win32
