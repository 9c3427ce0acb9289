#pragma once
// Applying a ReservationPlan to a host, safely. Portable: talks to the host only through
// RegistryStore / PersistentReservationApi, so every rule below is unit-tested natively with fakes.
//
// For every target with changes, in plan order:
//   1. validate   the desired value is re-parsed; it must be canonical, contain every added range,
//                 no removed range, no blank entries and no NUL characters (never write what we
//                 have not validated);
//   2. compare    re-read the live value right before writing; when it differs from what the plan
//                 was made from (plan.current), someone changed it since the snapshot: call
//                 `replan` and start over with the fresh plan (at most ApplyOptions::max_replans
//                 times, then RefusedError);
//   3. back up    the live value goes to the BackupStore (byte-exact when the store offers
//                 RawRegistryAccess) before anything is written;
//   4. write      REG_MULTI_SZ, or create/delete persistent reservations (creations recorded in the
//                 ReservationLedger);
//   5. verify     read back; a mismatch is reported as the target's error.
// A blocked plan (a safety rail fired and the policy does not allow it) is refused as a whole.
#include "portguard/core/backup_store.hpp"
#include "portguard/core/error.hpp"
#include "portguard/core/plan.hpp"
#include "portguard/core/ports.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace portguard {

struct ApplyOptions {
  bool dry_run = false;        // validate and compare, report what would change, write nothing
  int max_replans = 3;         // compare-and-swap conflicts tolerated before giving up
  std::string reason = "repair";   // recorded in every backup
};

struct TargetOutcome {
  Target target = Target::reserved_ports;
  std::optional<Protocol> protocol;
  bool changed = false;        // written (or, in a dry run, would be written)
  std::string backup_id;       // empty when nothing was written
  std::string error;           // empty on success; a full sentence otherwise
  TakesEffect takes_effect = TakesEffect::immediately;
  std::vector<std::string> before;   // value found right before writing
  std::vector<std::string> after;    // value read back (dry run: the value that would be written)
};

/// What restoring one protocol's dynamic range did ([guard.dynamic_range], issue 16).
struct RangeOutcome {
  Protocol protocol = Protocol::udp;
  std::string method;                    // "MaxUserPort", "MSFT_NetUDPSetting", "MSFT_NetTCPSetting"
  bool changed = false;                  // written (or, in a dry run, would be written)
  std::string backup_id;
  std::string error;                     // empty on success; a full sentence otherwise
  TakesEffect takes_effect = TakesEffect::immediately;
  std::string before;                    // range found right before writing, "1025-60000"
  std::string after;                     // range read back (dry run: the range that would be written)
};

struct ApplyReport {
  std::vector<TargetOutcome> outcomes;   // one per target that had changes
  std::vector<RangeOutcome> ranges;      // one per dynamic range restored (issue 16)
  int replans = 0;                       // how many compare-and-swap conflicts were re-planned
  bool dry_run = false;

  bool ok() const noexcept;              // no outcome (target or range) has an error
  bool changed() const noexcept;         // some outcome changed something
  bool replanned() const noexcept { return replans > 0; }
};

/// The live value differs from plan.current, and re-planning did not settle within max_replans.
class ConcurrentChangeError : public RefusedError {
public:
  using RefusedError::RefusedError;
};

class Applier {
public:
  /// `ledger` may be null (then created reservations are not recorded; tests only).
  Applier(RegistryStore& registry, PersistentReservationApi& reservations, BackupStore& backups,
          ReservationLedger* ledger = nullptr);

  /// Throws RefusedError for a blocked plan, ConcurrentChangeError when re-planning does not
  /// settle. Per-target failures (write denied, verify mismatch, ports in use) are reported in the
  /// outcome and do not stop the other targets.
  ApplyReport apply(const ReservationPlan& plan, const std::function<ReservationPlan()>& replan, ApplyOptions options = {});

  /// Restores the value a backup holds, byte-exact where the backup has raw bytes. The current
  /// value is backed up first (reason "rollback of <id>"). Throws InputError for an unknown id,
  /// RefusedError for a registry backup that names another value than its target's.
  TargetOutcome restore(const std::string& backup_id, bool dry_run = false);

  /// Where WMI dynamic ranges are written (Windows 8 / 2012+). Without it a plan that restores a
  /// range through WMI reports an error for that range; MaxUserPort goes through the registry.
  void set_dynamic_range_wmi(DynamicRangeWmi* wmi) noexcept { wmi_ = wmi; }

  /// Restores a dynamic-range backup (rollback): validated, the current range backed up first.
  RangeOutcome restore_dynamic_range(const Backup& backup, bool dry_run);

private:
  /// validate -> compare (conflict: re-plan) -> back up -> write -> verify, for one protocol's range.
  RangeOutcome apply_dynamic_range(const DynamicRangePlan& range, const ApplyOptions& options, bool& conflict);
  std::optional<PortRange> read_dynamic_range(RangeRestore restore, Protocol protocol, bool& max_user_port_present,
                                              std::optional<RawRegistryValue>& raw);
  RangeOutcome write_dynamic_range(RangeOutcome out, RangeRestore restore, Protocol protocol, PortRange want, Backup backup);

  TargetOutcome apply_registry(const TargetPlan& target, const ApplyOptions& options, bool& conflict);
  TargetOutcome apply_persistent(const TargetPlan& target, const ApplyOptions& options, bool& conflict);

  RegistryStore& registry_;
  PersistentReservationApi& reservations_;
  BackupStore& backups_;
  ReservationLedger* ledger_;
  DynamicRangeWmi* wmi_ = nullptr;
};

/// Registry location of a registry-backed target; nullopt for persistent-reservation.
struct RegistryLocation {
  std::string_view key;
  std::string_view value;
};
std::optional<RegistryLocation> registry_location(Target target) noexcept;

/// Live persistent reservations of one protocol as canonical "start-end" strings, ascending.
std::vector<std::string> describe_reservations(const std::vector<PersistentReservation>& reservations);

} // namespace portguard
