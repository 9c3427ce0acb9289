#pragma once
// What the ops commands (discover, snapshot, check, plan, repair, rollback) share: the live host
// behind the core's interfaces and the policy they run against. The assessment itself is the
// core's (portguard/core/assess.hpp), the same one the guard's pass runs.
#include "portguard/config/policy.hpp"
#include "portguard/core/apply.hpp"
#include "portguard/core/assess.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/call_trace.hpp"
#include "portguard/core/plan.hpp"
#include "portguard/core/system_clock.hpp"
#include "portguard/adapters/data_layout.hpp"
#include "portguard/adapters/persistent_reservations.hpp"
#include "portguard/adapters/registry_store.hpp"
#include "portguard/adapters/system_probe.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace portguard::win32 {

/// The Win32 adapters wired together behind the core's interfaces, with files under `layout`: the
/// one wiring the ops commands and the guard (run_guard) share.
class LiveHost {
public:
  /// `trace` (may be null): where the probe marks the calls that can block, for the guard's
  /// watchdog. Touches nothing on the host until an adapter is used.
  LiveHost(Win32RegistryStore& registry, DataLayout layout, CallTrace* trace = nullptr);
  LiveHost(const LiveHost&) = delete;
  LiveHost& operator=(const LiveHost&) = delete;

  const DataLayout& layout() const noexcept { return layout_; }
  Clock& clock() noexcept { return clock_; }
  Win32RegistryStore& registry() noexcept { return registry_; }
  ReservationLedger& ledger() noexcept { return ledger_; }
  PersistentReservationApi& reservations() noexcept { return reservations_; }
  SystemProbe& probe() noexcept { return probe_; }
  BackupStore& backups() noexcept { return backups_; }
  Applier& applier() noexcept { return applier_; }

private:
  DataLayout layout_;
  SystemClock clock_;
  Win32RegistryStore& registry_;
  ReservationLedger ledger_;
  Win32PersistentReservationApi reservations_;
  Win32SystemProbe probe_;
  BackupStore backups_;
  Win32DynamicRangeWmi dynamic_range_wmi_;   // [guard.dynamic_range] on Windows 8 / 2012+ (issue 16)
  Applier applier_;
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


} // namespace portguard::win32
