#pragma once
// The guard engine: one check-and-repair pass over the live host, and everything that decides what
// monitoring hears about it. Portable (no <windows.h>): the service's watch loop calls it, tests
// drive it with the fakes of tests/support/fakes.hpp and a FakeClock.
//
// One pass:  assess (portguard/core/assess.hpp: the same step `check`, `plan` and `repair` run)
//            -> report findings -> (enforce) apply -> report outcomes -> track pending reboot /
//            DNS restart -> report compliance.
// Events are chosen from the stable IDs of docs/events.md (portguard/core/event_ids.hpp).
//
// Contracts:
//  - Audit never writes: the Applier is not called; 2005 says what enforce would do.
//  - A blocked plan (a safety rail fired) writes nothing: 3004 per blocking rail.
//  - Event identity: a condition is its event ID, its subject (file, target, port) and its cause
//    (the error text): a different error on the same file is a different condition, reported at once.
//  - Rate limiting: a rate-limited event with the same subject is reported at most once per
//    GuardSettings::rate_limit; the next report carries the suppressed count in its last insert.
//    A pass-scoped condition that is absent from a pass is forgotten, so a condition that clears
//    and comes back is reported again at once.
//  - Registry fight (docs/service.md, "Registry fights"): a fight is another program changing a
//    value back shortly after the guard's own write, repeatedly: `fight_rounds` change-backs in a
//    row, each within `fight_revert_window` of the guard's write. How often anyone edits the value
//    does not matter, and the guard's own writes never count. In a fight the guard leaves the
//    target alone for fight_backoff_first, doubling at every further change-back up to
//    fight_backoff_max, and re-checks exactly when each back-off ends (next_deadline). 3006 is
//    raised when the fight starts and, rate limited, while it lasts; 1005 once the guard's repair
//    has held for the change-back window. Worst case, a value stays unprotected for
//    fight_backoff_max (plus one pass) after the other program stops.
//  - Pending effects: a changed target that only takes effect at the next boot (reserved-ports) or
//    DNS restart (dns-socket-pool) is reported (2002/2003) until the snapshot's boot time / DNS
//    start time is later than the change. The record survives service restarts (state file).
#include "portguard/core/apply.hpp"
#include "portguard/core/call_trace.hpp"
#include "portguard/core/metrics.hpp"
#include "portguard/core/assess.hpp"
#include "portguard/core/plan.hpp"
#include "portguard/core/ports.hpp"
#include "portguard/core/requirement.hpp"
#include "portguard/core/snapshot.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace portguard {

struct GuardSettings {
  std::chrono::seconds rate_limit{60 * 60};
  int fight_rounds = 3;                                     // change-backs in a row that make a fight ...
  std::chrono::milliseconds fight_revert_window{5000};      // ... each this soon after the guard's write
  std::chrono::milliseconds fight_backoff_first{1000};      // first back-off; doubles while the fight goes on
  std::chrono::milliseconds fight_backoff_max{60 * 1000};   // cap: the worst-case unprotected window
};

/// What the guard enforces: the policy, already turned into something the core understands (the
/// service builds it from config::Policy; core cannot depend on config).
struct GuardPolicy {
  std::string source;                              // file it came from, for events ("C:\\...\\policy.toml")
  std::string accepted_utc;                        // when it was accepted (ISO 8601 UTC); empty: unknown
  bool audit = false;                              // report, never write
  PlanSettings plan;
  /// What the policy demands (config::PolicyRequirements). Must not be empty-by-accident: the
  /// policy module guarantees an invalid policy never gets here.
  std::shared_ptr<const RequirementSource> requirements;
  std::string fingerprint;                         // policy_fingerprint of its text (metrics build_info)
  bool last_known_good = false;                    // the last known good copy, the current policy being unusable
  std::optional<std::string> metrics_dir;          // [monitoring] textfile_dir: where portguard.prom goes
};

/// A change that is not in force yet.
struct PendingEffect {
  Target target = Target::reserved_ports;          // ignored when dynamic_range is set
  TakesEffect takes_effect = TakesEffect::next_boot;
  std::uint64_t changed_at_unix = 0;               // wall clock of the write
  /// Set: the change is this protocol's dynamic range (a restored `MaxUserPort` on 2003 takes
  /// effect at the next boot), not a target.
  std::optional<Protocol> dynamic_range;
};

/// What a pending effect changed, as events and `check` name it: "reserved-ports", "dynamic-range/udp".
std::string describe(const PendingEffect& p);
/// Whether two pending effects are about the same target or the same dynamic range.
bool same_subject(const PendingEffect& a, const PendingEffect& b);
/// Adds (or renews) a pending effect for every change in `report` that does not take effect
/// immediately: targets (ReservedPorts: next boot; DNS pool: DNS restart) and restored dynamic
/// ranges (`MaxUserPort`: next boot). The guard and `repair` both record through this. True when any.
bool record_pending_effects(std::vector<PendingEffect>& pending, const ApplyReport& report, std::uint64_t changed_at_unix);

/// Pending effects that are still pending on this host: those changed after the last boot
/// (next_boot) or after DNS last started (dns_restart). Unknown boot time keeps a next-boot change
/// pending; a DNS service that is not running (no start time) will read the value when it starts.
std::vector<PendingEffect> still_pending(const std::vector<PendingEffect>& recorded, const HostSnapshot& host);

/// The guard's small persistent state (pending effects) in `state_dir`/guard-state.json.
/// `check` reads it to say WARNING "pending reboot". load: empty when absent; throws InputError when broken.
std::vector<PendingEffect> load_pending_effects(const std::filesystem::path& state_dir);
void save_pending_effects(const std::filesystem::path& state_dir, const std::vector<PendingEffect>& pending);

/// Rate limiting per (event ID, subject). Pure bookkeeping over a steady clock.
class RateLimiter {
public:
  explicit RateLimiter(std::chrono::seconds interval) : interval_(interval) {}
  /// nullopt: suppress this report. Otherwise the number of repeats suppressed since the last
  /// report of the same key (0 for a first report).
  std::optional<std::uint32_t> admit(std::uint32_t id, const std::string& subject, std::chrono::steady_clock::time_point now);
  /// Forgets the conditions of the IDs in `ids` whose subject was not seen (keys "id|subject"):
  /// those conditions cleared.
  void forget_except(const std::set<std::uint32_t>& ids, const std::set<std::string>& seen);
  static std::string key(std::uint32_t id, const std::string& subject);
  void forget_id(std::uint32_t id);
  /// Forgets one condition: its next report goes out at once.
  void forget(std::uint32_t id, const std::string& subject) { entries_.erase(key(id, subject)); }
  std::chrono::seconds interval() const noexcept { return interval_; }

private:
  struct Entry {
    std::uint32_t id = 0;
    std::chrono::steady_clock::time_point last_report;
    std::uint32_t suppressed = 0;
  };
  std::chrono::seconds interval_;
  std::map<std::string, Entry> entries_;
};

/// Coalesces bursts of change notifications: a pass runs `quiet` after the last notification,
/// but never later than `max_delay` after the first one of a burst (so a writer that never stops
/// cannot starve the guard).
class Debouncer {
public:
  Debouncer(std::chrono::milliseconds quiet, std::chrono::milliseconds max_delay) : quiet_(quiet), max_delay_(max_delay) {}
  void notify(std::chrono::steady_clock::time_point now);
  bool pending() const noexcept { return first_.has_value(); }
  /// Time left before the pass is due (zero when due); nullopt when nothing is pending.
  std::optional<std::chrono::milliseconds> wait(std::chrono::steady_clock::time_point now) const;
  /// Call when the pass starts.
  void clear() noexcept { first_.reset(); last_.reset(); }

private:
  std::chrono::milliseconds quiet_, max_delay_;
  std::optional<std::chrono::steady_clock::time_point> first_, last_;
};

/// Why a pass runs (for logs).
enum class PassTrigger : std::uint8_t { startup, registry_changed, policy_changed, timer, manual, fight_check };
std::string_view to_string(PassTrigger trigger) noexcept;

struct PassResult {
  bool ran = false;                 // false: the pass failed before planning (3009) or there is no policy
  bool compliant = false;           // every managed target holds what the policy requires (after repairs)
  bool changed = false;             // something was written
  std::size_t requirements = 0;
  std::vector<std::string> log;     // one line per notable thing, for the file log
  PassMetrics metrics;              // the pass in numbers (Prometheus textfile, docs/monitoring.md)
  /// The pass's assessment, before back-offs and repairs: the plan `check` and `plan` compute for
  /// the same host (tests/core/assess_test.cpp). nullopt when the pass failed before planning.
  std::optional<ReservationPlan> plan;
};

class Guard {
public:
  Guard(SystemProbe& probe, Applier& applier, EventSink& events, Clock& clock, GuardSettings settings = {},
        std::optional<std::filesystem::path> state_dir = std::nullopt);

  void set_policy(GuardPolicy policy);
  const std::optional<GuardPolicy>& policy() const noexcept { return policy_; }
  /// Where run_pass marks its steps for a watchdog (null: not traced). Must outlive the guard.
  void set_trace(CallTrace* trace) noexcept { trace_ = trace; }

  /// Whether a pass that fails before planning raises 3009 or only logs it.
  enum class FailureReport : std::uint8_t { event, log_only };

  /// One check-and-repair pass. Never throws for host or apply failures (they become events and
  /// log lines); throws only std::bad_alloc-class failures. `log_only` is for attempts the caller
  /// retries at once (boot, when a system component is not up yet): only the last failure pages.
  PassResult run_pass(PassTrigger trigger, FailureReport failure = FailureReport::event);

  // Events outside a pass. All go through the same rate limiter.
  void report_started(std::string_view version);
  void report_stopped(std::string_view reason, std::uint32_t exit_code);
  void report_policy_loaded(const std::string& source, bool audit);
  void report_policy_invalid(const std::string& file, const std::string& error);
  void report_policy_insecure(const std::string& file, const std::string& writers);
  void report_no_policy(const std::string& file, const std::string& error);
  /// The Prometheus textfile could not be written (2006, rate limited per folder).
  void report_metrics_not_written(const std::string& folder, const std::string& error);
  /// Group Policy's "services that wait for PortGuard at boot": `service` now depends on PortGuard
  /// (1006), or cannot be made to (2009, rate limited per service and error).
  void report_boot_protection_added(const std::string& service, const std::string& asked_by);
  void report_boot_protection_refused(const std::string& service, const std::string& asked_by, const std::string& error);

  /// Back-off state of a target (tests, logs). nullopt: not backing off.
  std::optional<std::chrono::steady_clock::time_point> backoff_until(Target target, std::optional<Protocol> protocol = std::nullopt) const;
  /// When the guard needs a pass without any change notification: the end of a back-off (re-check
  /// at that moment) or the end of the change-back window after a write during a fight (did the
  /// repair hold?). nullopt: nothing scheduled. The caller runs a pass at that time.
  std::optional<std::chrono::steady_clock::time_point> next_deadline() const;
  const std::vector<PendingEffect>& pending() const noexcept { return pending_; }

private:
  /// A target's fight record. `reverts`: change-backs in a row, each within the window after the
  /// guard's write. `backoff` is the current back-off length once the fight started.
  struct FightState {
    std::optional<std::chrono::steady_clock::time_point> last_write;
    int reverts = 0;
    bool fighting = false;
    std::chrono::milliseconds backoff{0};
    std::optional<std::chrono::steady_clock::time_point> backoff_until;
  };
  void emit(std::uint32_t id, const std::string& subject, std::vector<std::string> inserts);
  void report_policy_condition(std::uint32_t id, const std::string& subject, std::vector<std::string> inserts);
  std::string policy_in_use() const;
  Assessment assess_host() const;
  void strip_backed_off(ReservationPlan& plan) const;
  /// Updates the fight records from this pass's plan before anything is written: counts
  /// change-backs, starts or extends back-offs, ends back-offs that ran out, ends fights whose
  /// repair held.
  void track_fights(const ReservationPlan& full, PassResult& result);
  /// Enforce: applies the plan, reports outcomes, tracks fights and pending effects. True when
  /// every changed target was written and verified.
  bool apply(const ReservationPlan& effective, PassResult& result);
  // The steps of run_pass, in order.
  /// Logs every finding and raises the alert of each error one; collects the at-risk findings,
  /// which wait for the repair (report_at_risk). True when any finding is an error.
  bool report_findings(const ReservationPlan& full, const HostSnapshot& snapshot, PassResult& result,
                       std::vector<const Finding*>& at_risk);
  /// Reports drift the back-offs left alone, then audits, refuses (a safety rail) or applies
  /// `effective` (the plan without backed-off targets). True when the host is in compliance.
  bool repair_effective(const ReservationPlan& full, const ReservationPlan& effective, PassResult& result);
  /// 2004 (port at risk) for each at-risk finding; the caller skips it when this pass reserved them.
  void report_at_risk(const std::vector<const Finding*>& at_risk, const HostSnapshot& snapshot, PassResult& result);
  /// Drops pending effects that took effect, reports the others, saves the state file when the
  /// list differs from `before` (what the file holds).
  void update_pending(const std::vector<PendingEffect>& before, const HostSnapshot& snapshot, PassResult& result);
  /// The plan's numbers and the dynamic-range drift apply() did not already enter.
  static void finish_metrics(const ReservationPlan& full, const Requirements& requirements, PassResult& result);
  static std::string target_key(Target target, std::optional<Protocol> protocol);
  /// 2007 for the drifted dynamic range of `protocol` ([guard.dynamic_range], issue 16).
  void report_dynamic_range_drift(const ReservationPlan& plan, Protocol protocol);

  SystemProbe& probe_;
  Applier& applier_;
  EventSink& events_;
  Clock& clock_;
  GuardSettings settings_;
  std::optional<std::filesystem::path> state_dir_;
  std::optional<GuardPolicy> policy_;
  RateLimiter limiter_;
  std::set<std::string> seen_;                     // rate-limit keys reported or suppressed in this pass
  std::map<std::string, FightState> fights_;
  std::vector<PendingEffect> pending_;
  std::string policy_condition_;                   // rate-limit key of the policy problem last reported
  CallTrace* trace_ = nullptr;
};

/// "reserved-ports", "persistent-reservation/udp": how events and logs name a target.
std::string describe_target(Target target, std::optional<Protocol> protocol = std::nullopt);
/// "dynamic-range/udp": how events, logs and metrics name a guarded dynamic range.
std::string dynamic_range_key(Protocol protocol);

} // namespace portguard
