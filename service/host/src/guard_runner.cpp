#include "portguard/host/guard_runner.hpp"
#include "portguard/adapters/system_probe.hpp"

#include "portguard/config/policy.hpp"
#include "portguard/core/apply.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/event_ids.hpp"
#include "portguard/core/guard.hpp"
#include "portguard/core/metrics.hpp"
#include "portguard/core/pass_watchdog.hpp"
#include "portguard/core/system_clock.hpp"
#include "portguard/core/text.hpp"
#include "portguard/core/version.hpp"
#include "portguard/adapters/event_log.hpp"
#include "portguard/adapters/group_policy_store.hpp"
#include "portguard/adapters/live_host.hpp"
#include "portguard/host/metrics_file.hpp"
#include "portguard/adapters/policy_acl.hpp"
#include "portguard/adapters/registry_store.hpp"
#include "portguard/host/watch_set.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <vector>

namespace portguard::win32 {
namespace {

using steady = std::chrono::steady_clock;

/// Identity of what a policy load reads: the bytes of the policy file, of the catalog.toml beside
/// it and of the services file. A reload happens when any of them differs, whatever the file times
/// say: two saves of the same size within one second (the file time's resolution on FAT, and what
/// an editor's quick fix-and-save does) must not look alike. FNV-1a over length-prefixed contents;
/// an absent file is distinct from an empty one. `also` (the Group Policy values) is mixed in last.
std::uint64_t content_fingerprint(const std::vector<std::filesystem::path>& files, std::string_view also) {
  std::uint64_t h = 14695981039346656037ull;
  const auto mix = [&](const char* data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(data[i]);
      h *= 1099511628211ull;
    }
  };
  std::vector<char> buffer(64 * 1024);
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const char marker = in ? 'F' : 'A';  // present / absent
    mix(&marker, 1);
    std::uint64_t length = 0;
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      mix(buffer.data(), got);
      length += got;
    }
    mix(reinterpret_cast<const char*>(&length), sizeof length);
  }
  mix(also.data(), also.size());
  return h;
}

std::string summarize(const config::PolicyError& e) {
  const auto& d = e.diagnostics();
  if (d.empty()) return e.what();
  std::string out;
  const std::size_t shown = std::min<std::size_t>(d.size(), 5);
  for (std::size_t i = 0; i < shown; ++i) out += (i ? "; " : "") + d[i].to_string();
  if (d.size() > shown) out += "; and " + std::to_string(d.size() - shown) + " more (run portguard validate)";
  return out;
}

/// The installer's MODE property (remembered in HKLM\SOFTWARE\PortGuard\Mode): "audit" makes the
/// whole installation report-only whatever the policy says; "enforce" (the default) leaves the
/// policy's own enforcement setting in force. Audit wins because it is the safe direction: an
/// admin who installed with MODE=audit must never see PortGuard write.
bool installation_audit_only(RegistryStore& registry) {
  try {
    const auto mode = registry.read_string("HKLM\\SOFTWARE\\PortGuard", "Mode");
    return mode && iequals_ascii(*mode, "audit");
  } catch (const std::exception&) {
    return false;  // unreadable: the policy decides, as without an installer
  }
}

/// Group Policy as one reload sees it: the settings, or why they cannot be used, and an identity
/// that changes whenever the values do.
struct GroupPolicyRead {
  config::GroupPolicy settings;
  std::optional<config::GroupPolicyError> error;
  std::string identity;
};

GroupPolicyRead read_group_policy_now(Win32RegistryStore& registry) {
  GroupPolicyRead r;
  try {
    r.settings = read_machine_group_policy(registry);
    r.identity = r.settings.fingerprint();
  } catch (const config::GroupPolicyError& e) {
    r.error = e;
  } catch (const std::exception& e) {
    r.error = config::GroupPolicyError({{std::string(config::group_policy_keys::root), 0, 0,
                                         std::string("cannot be read: ") + e.what() + "; PortGuard needs read access to it (SYSTEM has it by default)"}});
  }
  if (r.error) r.identity = "invalid\n" + summarize(*r.error);
  return r;
}

/// "C:\...\policy.toml + Group Policy (HKLM\SOFTWARE\Policies\PortGuard)": what a loaded policy
/// is made of, for event 1004 and the log.
std::string loaded_from(const config::Policy& policy, const std::filesystem::path& file) {
  return policy.group_policy.empty() ? file.string() : file.string() + " + " + config::group_policy_source();
}

GuardPolicy to_guard_policy(const config::Policy& policy, RegistryStore& registry) {
  GuardPolicy g;
  g.source = policy.source;
  g.accepted_utc = policy.accepted_utc;
  g.audit = policy.enforcement == config::Enforcement::audit || installation_audit_only(registry);
  g.plan = policy.plan;
  g.fingerprint = policy_fingerprint(policy.text);
  g.metrics_dir = policy.metrics_textfile_dir;
  g.requirements = std::make_shared<config::PolicyRequirements>(policy);
  return g;
}

/// The policy half of the loop: which policy is in force, and the events about it.
class PolicyKeeper {
public:
  PolicyKeeper(Guard& guard, Win32RegistryStore& registry, const RunOptions& options, spdlog::logger& log)
      : guard_(guard), registry_(registry), file_(options.policy_file), services_file_(options.services_file), state_dir_(options.layout.state_dir()),
        protect_(options.protect_at_boot), log_(log) {}

  std::chrono::seconds recheck_interval() const noexcept { return interval_; }

  /// (Re)loads the policy file when it changed (or `force`). Never throws for policy problems:
  /// they become events, and the policy in force stays (or the last known good takes over).
  /// Returns false when nothing was done (the file is unchanged since the last look).
  bool reload(bool force) {
    if (refused_as_insecure()) return true;
    const GroupPolicyRead gp = read_group_policy_now(registry_);
    const std::uint64_t now = content_fingerprint({file_, file_.parent_path() / "catalog.toml", services_file_}, gp.identity);
    if (!force && last_ && *last_ == now) return false;
    last_ = now;
    try {
      config::Policy policy = config::load_policy(file_, services_file_);
      // Checked again once read: a save by rename (written aside, then moved into place) between
      // the first check and the read would otherwise load a file nobody checked.
      if (refused_as_insecure()) return true;
      // Group Policy values are validated like the file; bad ones keep the policy in force (or
      // the last known good) exactly as a broken file does.
      if (gp.error) throw *gp.error;
      config::apply_group_policy(policy, gp.settings);
      policy.accepted_utc = iso8601_utc(std::chrono::system_clock::now());
      try {
        config::save_last_known_good(policy, state_dir_);
      } catch (const std::exception& e) {
        log_.error("cannot save the last known good policy in {}: {}", state_dir_.string(), e.what());
      }
      interval_ = policy.recheck_interval;
      GuardPolicy in_force = to_guard_policy(policy, registry_);
      const bool audit = in_force.audit;
      guard_.set_policy(std::move(in_force));
      log_.info("policy {} loaded ({}{}, recheck every {} s)", loaded_from(policy, file_), audit ? "audit" : "enforce",
                audit && policy.enforcement != config::Enforcement::audit ? " - the installation's MODE=audit" : "",
                interval_.count());
      guard_.report_policy_loaded(loaded_from(policy, file_), audit);
      protect_at_boot(policy.protect_at_boot, audit);
    } catch (const config::PolicyError& e) {
      const bool from_gpo = dynamic_cast<const config::GroupPolicyError*>(&e) != nullptr;
      const std::string source = from_gpo ? config::group_policy_source() : file_.string();
      const std::string why = summarize(e);
      log_.error("policy {} cannot be used: {}", source, why);
      ensure_some_policy();
      if (guard_.policy()) guard_.report_policy_invalid(source, why);
      else guard_.report_no_policy(source, why);
    }
    return true;
  }

private:
  /// Group Policy's "services that wait for PortGuard at boot": each listed service gets PortGuard
  /// in its DependOnService, recorded as `portguard protect` records it (so unprotect and uninstall
  /// remove exactly that). Audit never writes. Already-protected services change nothing.
  void protect_at_boot(const std::vector<std::string>& services, bool audit) {
    const std::string asked_by = "Group Policy (" + std::string(config::group_policy_keys::protect_services) + ")";
    for (const auto& service : services) {
      if (audit) {
        log_.info("audit: Group Policy asks that {} wait for PortGuard at boot; not written (audit never writes)", service);
        continue;
      }
      if (!protect_) {
        log_.warn("Group Policy asks that {} wait for PortGuard at boot; this run cannot apply it", service);
        continue;
      }
      try {
        if (protect_(service)) {
          log_.info("{} now waits for PortGuard at boot ({})", service, asked_by);
          guard_.report_boot_protection_added(service, asked_by);
        }
      } catch (const std::exception& e) {
        log_.warn("cannot make {} wait for PortGuard at boot: {}", service, e.what());
        guard_.report_boot_protection_refused(service, asked_by, e.what());
      }
    }
  }

  /// Keeps the policy in force; without one, falls back on the last known good.
  void ensure_some_policy() {
    if (guard_.policy()) return;
    try {
      if (auto lkg = config::load_last_known_good(state_dir_)) {
        interval_ = lkg->recheck_interval;
        GuardPolicy g = to_guard_policy(*lkg, registry_);
        g.last_known_good = true;
        guard_.set_policy(std::move(g));
        log_.warn("using the last known good policy (read from {}, accepted {})", lkg->source,
                  lkg->accepted_utc.empty() ? std::string("at an unknown time") : lkg->accepted_utc);
      }
    } catch (const std::exception& e) {
      log_.error("the last known good policy in {} cannot be read: {}", state_dir_.string(), e.what());
    }
  }

  /// The policy file or its folder writable by non-administrators: refused (event 3007), the policy
  /// in force stays (or the last known good takes over). True when refused.
  bool refused_as_insecure() {
    std::string writers;
    try {
      writers = policy_write_problems(file_);
    } catch (const std::exception& e) {
      log_.warn("cannot read the permissions of {}: {}", file_.string(), e.what());
      return false;
    }
    if (writers.empty()) return false;
    last_.reset();  // re-check the content once the permissions are fixed
    log_.error("policy {} refused: writable by {}", file_.string(), writers);
    ensure_some_policy();
    guard_.report_policy_insecure(file_.string(), writers);
    return true;
  }

  Guard& guard_;
  Win32RegistryStore& registry_;
  std::filesystem::path file_;
  std::filesystem::path services_file_;
  std::filesystem::path state_dir_;
  std::function<bool(const std::string&)> protect_;
  spdlog::logger& log_;
  std::optional<std::uint64_t> last_;  // content_fingerprint of the last load attempt
  std::chrono::seconds interval_{15 * 60};
};

void log_pass(spdlog::logger& log, const PassResult& r, std::chrono::microseconds took) {
  for (const auto& line : r.log) log.debug("{}", line);
  log.info("pass done in {:.1f} ms: {}{}{}", static_cast<double>(took.count()) / 1000.0, r.ran ? "" : "not run, ",
           r.compliant ? "compliant" : "not compliant", r.changed ? ", changed" : "");
}

/// Runs passes: one with its failure handling (a failed pass with a policy in force is retried
/// after pass_retry_delay), and the startup passes.
class PassRunner {
public:
  PassRunner(Guard& guard, CallTrace& trace, MetricsPublisher& metrics, WatchSet& watches, const RunOptions& options,
             spdlog::logger& log, std::function<void()> publish_metrics)
      : guard_(guard), trace_(trace), metrics_(metrics), watches_(watches), options_(options), log_(log),
        publish_metrics_(std::move(publish_metrics)) {}

  /// One pass; false when it failed although a policy is in force (3009: typically a system
  /// component not up yet at boot), which schedules a retry at `retry_at()`.
  bool run(PassTrigger trigger, Guard::FailureReport failure = Guard::FailureReport::event) {
    const auto t0 = steady::now();
    log_.debug("pass starts ({})", to_string(trigger));
    trace_.begin_pass();
    const PassResult r = guard_.run_pass(trigger, failure);
    trace_.end_pass();
    log_pass(log_, r, std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t0));
    metrics_.record_pass(r, steady::now() - t0, guard_);
    publish_metrics_();
    watches_.retry_missing();
    const bool failed = !r.ran && guard_.policy().has_value();
    retry_at_ = failed ? steady::now() + options_.pass_retry_delay : steady::time_point::max();
    return !failed;
  }

  /// The first pass, retried during START_PENDING a few times so dependents wait for a real pass.
  /// Only the last attempt may raise 3009: a component that comes up a moment later (the IP helper
  /// at boot) must not page monitoring on every reboot. Returns early when `stop` is signalled.
  void run_startup_passes(HANDLE stop, const std::function<void()>& progress) {
    const auto failure = [&](int attempt) {
      return attempt == options_.startup_retries ? Guard::FailureReport::event : Guard::FailureReport::log_only;
    };
    bool ok = run(PassTrigger::startup, failure(0));
    for (int attempt = 1; !ok && attempt <= options_.startup_retries; ++attempt) {
      log_.warn("first pass failed; retry {} of {} in {} ms", attempt, options_.startup_retries, options_.startup_retry_delay.count());
      progress();
      if (::WaitForSingleObject(stop, static_cast<DWORD>(options_.startup_retry_delay.count())) == WAIT_OBJECT_0) break;
      ok = run(PassTrigger::startup, failure(attempt));
    }
  }

  /// When the failed pass is retried; max when none failed.
  steady::time_point retry_at() const noexcept { return retry_at_; }

private:
  Guard& guard_;
  CallTrace& trace_;
  MetricsPublisher& metrics_;
  WatchSet& watches_;
  const RunOptions& options_;
  spdlog::logger& log_;
  std::function<void()> publish_metrics_;
  steady::time_point retry_at_ = steady::time_point::max();  // max: no retry scheduled
};

std::chrono::milliseconds until(steady::time_point when, steady::time_point now) {
  return std::chrono::ceil<std::chrono::milliseconds>(std::max(when - now, steady::duration::zero()));
}

/// The wait for changes after startup: notifications are debounced into passes; a policy save is
/// settled (one more look a second after the last notification); the periodic timer, a fight's
/// deadline and a failed pass's retry each wake the loop at their moment.
class WatchLoop {
public:
  WatchLoop(Guard& guard, PolicyKeeper& policy, PassRunner& passes, WatchSet& watches, const RunOptions& options,
            spdlog::logger& log)
      : guard_(guard), policy_(policy), passes_(passes), watches_(watches), log_(log),
        debounce_(options.debounce_quiet, options.debounce_max), next_timer_(steady::now() + policy.recheck_interval()) {}

  /// Runs the loop until `stop` is signalled or it fails, reports the guard stopped (and why) and
  /// returns the exit code: run_ok, or run_loop_failed.
  DWORD run_until_stopped(HANDLE stop, HANDLE recheck) {
    try {
      run(stop, recheck);
      guard_.report_stopped("stop requested", 0);
      return run_ok;
    } catch (const std::exception& e) {
      log_.critical("watch loop failed: {}", e.what());
      guard_.report_stopped(std::string("watch loop failed: ") + e.what(), run_loop_failed);
      return run_loop_failed;
    }
  }

private:
  /// Waits and runs passes until `stop` is signalled. Throws Win32Error when the wait fails.
  void run(HANDLE stop, HANDLE recheck) {
    for (;;) {
      const auto& handles = watches_.handles(stop, recheck);
      const DWORD r = ::WaitForMultipleObjects(static_cast<DWORD>(handles.size()), handles.data(), FALSE,
                                               static_cast<DWORD>(std::min<long long>(next_wait(steady::now()).count(), 0x7fffffff)));
      if (r == WAIT_FAILED) throw_last_error("WaitForMultipleObjects");
      if (r >= WAIT_OBJECT_0 && r < WAIT_OBJECT_0 + handles.size()) {
        if (!on_signal(watches_.signalled(r - WAIT_OBJECT_0))) return;  // stop
        continue;
      }
      on_timeout(steady::now());
    }
  }

  /// How long the wait may last: until the first of the timer, the debounce, a retry, a fight's
  /// deadline or the policy settling is due.
  std::chrono::milliseconds next_wait(steady::time_point now) const {
    auto wait = until(next_timer_, now);
    if (const auto d = debounce_.wait(now)) wait = std::min(wait, *d);
    if (passes_.retry_at() != steady::time_point::max()) wait = std::min(wait, until(passes_.retry_at(), now));
    // A back-off that ends (or a fight's repair that has had time to hold) is checked at that
    // moment, not at the next periodic pass (issue 18: a 15-minute back-off became 30).
    const auto fight_due = guard_.next_deadline();
    if (fight_due && fight_due != fight_handled_) wait = std::min(wait, until(*fight_due, now));
    if (policy_settle_ != steady::time_point::max()) wait = std::min(wait, until(policy_settle_, now));
    return wait;
  }

  /// A notification (the watch is already re-armed); false for stop.
  bool on_signal(WatchSet::Signal signal) {
    switch (signal) {
    case WatchSet::Signal::stop:
      return false;
    case WatchSet::Signal::recheck:
      log_.info("recheck requested");
      policy_.reload(true);
      debounce_.clear();
      passes_.run(PassTrigger::manual);
      next_timer_ = steady::now() + policy_.recheck_interval();
      return true;
    case WatchSet::Signal::group_policy:
      policy_settle_ = steady::now() + std::chrono::seconds(1);
      return true;
    case WatchSet::Signal::registry:
      pending_trigger_ = policy_dirty_ ? PassTrigger::policy_changed : PassTrigger::registry_changed;
      break;
    case WatchSet::Signal::policy_dir:
      policy_dirty_ = true;
      policy_settle_ = steady::now() + std::chrono::seconds(1);
      pending_trigger_ = PassTrigger::policy_changed;
      break;
    }
    debounce_.notify(steady::now());
    return true;
  }

  /// Timeout: a debounced pass, the policy settling, a fight's deadline, a retry or the periodic
  /// pass is due.
  void on_timeout(steady::time_point t) {
    if (debounce_.pending() && debounce_.wait(t) == std::chrono::milliseconds{0}) {
      debounce_.clear();
      if (policy_dirty_) {
        policy_dirty_ = false;
        policy_.reload(false);
      }
      passes_.run(pending_trigger_);
    }
    if (t >= policy_settle_ && !debounce_.pending()) {
      policy_settle_ = steady::time_point::max();
      if (policy_.reload(false)) passes_.run(PassTrigger::policy_changed);
    }
    if (const auto due = guard_.next_deadline(); due && due != fight_handled_ && t >= *due) {
      fight_handled_ = due;  // a pass that fails before reaching the fight records must not spin
      passes_.run(PassTrigger::fight_check);
    }
    if (t >= passes_.retry_at()) {
      log_.info("retrying the failed pass");
      passes_.run(PassTrigger::timer);
    }
    if (t >= next_timer_) {
      policy_.reload(false);  // catches a change whose notification was lost
      passes_.run(PassTrigger::timer);
      next_timer_ = steady::now() + policy_.recheck_interval();
    }
  }

  Guard& guard_;
  PolicyKeeper& policy_;
  PassRunner& passes_;
  WatchSet& watches_;
  spdlog::logger& log_;
  Debouncer debounce_;
  bool policy_dirty_ = false;
  // One more look at the policy file a second after the last directory notification: an editor's
  // save is often several operations (write a temporary file, rename it), and a notification that
  // arrives while the watch is being re-armed can be lost (seen under Wine with a loaded machine).
  steady::time_point policy_settle_ = steady::time_point::max();  // max: none scheduled
  PassTrigger pending_trigger_ = PassTrigger::registry_changed;
  steady::time_point next_timer_;
  std::optional<steady::time_point> fight_handled_;  // the last fight deadline a pass was run for
};

} // namespace

DWORD run_guard(const RunOptions& options, HANDLE stop, HANDLE recheck, const RunHooks& hooks, std::shared_ptr<spdlog::logger> log) {
  const auto progress = [&] {
    if (hooks.progress) hooks.progress();
  };
  log->info("PortGuard {} starting; policy {}, data {}", version(), options.policy_file.string(), options.layout.root().string());

  // N.B. every watcher is armed before the first read of what it watches: a change that lands
  // between a read and the arming would otherwise wait for the periodic timer.
  WatchSet watches(options.policy_file.parent_path(), *log);
  progress();

  // The adapters: the same wiring as the ops commands'.
  Win32RegistryStore registry;
  CallTrace trace;  // the pass's current step, for the watchdog
  LiveHost live(registry, options.layout, &trace);
  MetricsPublisher metrics(options.layout.state_dir(), std::string(version()), registry);
  EventLogSink sink;
  sink.echo = [&](const Event& e) {
    const auto* info = events::find(e.id);
    const auto level = info == nullptr ? spdlog::level::err
                       : e.level == Event::Level::error   ? spdlog::level::err
                       : e.level == Event::Level::warning ? spdlog::level::warn
                                                          : spdlog::level::info;
    log->log(level, "event {}", describe_event(e));
    metrics.observe(e);
    if (hooks.on_event) hooks.on_event(e);
  };
  sink.on_failure = [&](const std::string& why) { log->error("event not reported: {}", why); };

  Guard guard(live.probe(), live.applier(), sink, live.clock(), GuardSettings{}, options.layout.state_dir());
  guard.set_trace(&trace);
  const PassWatchdog watchdog(trace, options.stuck_pass_limit, [log](const std::string& line) { log->warn("watchdog: {}", line); });
  PolicyKeeper policy(guard, registry, options, *log);
  const auto publish_metrics = [&] {
    if (auto problem = metrics.publish(guard)) {
      log->warn("metrics not written: {}", *problem);
      guard.report_metrics_not_written(narrow(metrics.folder(guard).value_or("").wstring()), *problem);
    }
  };

  policy.reload(true);
  progress();
  PassRunner passes(guard, trace, metrics, watches, options, *log, publish_metrics);
  passes.run_startup_passes(stop, progress);
  guard.report_started(version());
  if (hooks.running) hooks.running();
  if (options.once) {
    guard.report_stopped("single pass done (--once)", 0);
    return run_ok;
  }

  const DWORD exit_code = WatchLoop(guard, policy, passes, watches, options, *log).run_until_stopped(stop, recheck);
  metrics.stopping();
  publish_metrics();
  log->info("PortGuard stopped (exit code {})", exit_code);
  return exit_code;
}

} // namespace portguard::win32
