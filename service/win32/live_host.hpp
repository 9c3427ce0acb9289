#pragma once
// What the ops commands (discover, snapshot, check, plan, repair, rollback) share: the live host
// behind the core's interfaces and the policy they run against. The assessment itself is the
// core's (portguard/core/assess.hpp), the same one the guard's pass runs.
#include "cli/command.hpp"
#include "portguard/config/policy.hpp"
#include "portguard/core/apply.hpp"
#include "portguard/core/assess.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/plan.hpp"
#include "portguard/core/system_clock.hpp"
#include "win32/persistent_reservations.hpp"
#include "win32/registry_store.hpp"
#include "win32/system_probe.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace portguard::win32 {

/// The Win32 adapters wired together, with files under %ProgramData%\PortGuard.
struct LiveHost {
  LiveHost();
  std::filesystem::path data_dir;
  SystemClock clock;
  Win32RegistryStore registry;
  ReservationLedger ledger;
  Win32PersistentReservationApi reservations;
  Win32SystemProbe probe;
  BackupStore backups;
  Win32DynamicRangeWmi dynamic_range_wmi;
  Applier applier;
};

/// The policy an ops command runs against.
struct PolicyChoice {
  config::Policy policy;
  bool from_file = false;     // false: no policy file; the built-in catalog alone (discover/snapshot)
};

/// Loads the policy. When the file does not exist and `optional` is set, falls back to the built-in
/// catalog. Throws config::PolicyError (invalid / unreadable) otherwise.
PolicyChoice choose_policy(const std::string& file, const std::string& services_file, bool optional);

/// The core's assessment of the live host for this policy (portguard/core/assess.hpp).
Assessment assess(LiveHost& live, const config::Policy& policy, ServiceDetail detail);

/// `portguard plan` without --snapshot on Windows (cli::assess_live_host): the same assessment.
Assessment assess_for_plan(const config::Policy& policy);

} // namespace portguard::win32
