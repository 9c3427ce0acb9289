#include "win32/guard_runner.hpp"
#include "win32/system_probe.hpp"

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
#include "win32/event_log.hpp"
#include "win32/group_policy_store.hpp"
#include "win32/host_adapters.hpp"
#include "win32/metrics_file.hpp"
#include "win32/paths.hpp"
#include "win32/policy_acl.hpp"
#include "win32/registry_store.hpp"
#include "win32/service_config.hpp"
#include "win32/watch.hpp"
#include "win32/win32_error.hpp"

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
bool installation_audit_only() {
  try {
    const auto mode = Win32RegistryStore().read_string("HKLM\\SOFTWARE\\PortGuard", "Mode");
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

GroupPolicyRead read_group_policy_now() {
  GroupPolicyRead r;
  try {
    r.settings = read_machine_group_policy();
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

GuardPolicy to_guard_policy(const config::Policy& policy) {
  GuardPolicy g;
  g.source = policy.source;
  g.accepted_utc = policy.accepted_utc;
  g.audit = policy.enforcement == config::Enforcement::audit || installation_audit_only();
  g.plan = policy.plan;
  g.fingerprint = policy_fingerprint(policy.text);
  g.metrics_dir = policy.metrics_textfile_dir;
  g.requirements = std::make_shared<config::PolicyRequirements>(policy);
  return g;
}

/// The policy half of the loop: which policy is in force, and the events about it.
class PolicyKeeper {
public:
  PolicyKeeper(Guard& guard, const RunOptions& options, spdlog::logger& log)
      : guard_(guard), file_(options.policy_file), state_dir_(options.data_dir / "state"), log_(log) {}

  std::chrono::seconds recheck_interval() const noexcept { return interval_; }

  /// (Re)loads the policy file when it changed (or `force`). Never throws for policy problems:
  /// they become events, and the policy in force stays (or the last known good takes over).
  /// Returns false when nothing was done (the file is unchanged since the last look).
  bool reload(bool force) {
    std::string writers;
    try {
      writers = policy_write_problems(file_);
    } catch (const std::exception& e) {
      writers.clear();
      log_.warn("cannot read the permissions of {}: {}", file_.string(), e.what());
    }
    if (!writers.empty()) {
      last_.reset();  // re-check the content once the permissions are fixed
      log_.error("policy {} refused: writable by {}", file_.string(), writers);
      ensure_some_policy();
      guard_.report_policy_insecure(file_.string(), writers);
      return true;
    }
    const GroupPolicyRead gp = read_group_policy_now();
    const std::uint64_t now = content_fingerprint({file_, file_.parent_path() / "catalog.toml", services_file()}, gp.identity);
    if (!force && last_ && *last_ == now) return false;
    last_ = now;
    try {
      config::Policy policy = config::load_policy(file_, services_file());
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
      GuardPolicy in_force = to_guard_policy(policy);
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
      try {
        if (protect_service(service, state_dir_)) {
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
        GuardPolicy g = to_guard_policy(*lkg);
        g.last_known_good = true;
        guard_.set_policy(std::move(g));
        log_.warn("using the last known good policy (read from {}, accepted {})", lkg->source,
                  lkg->accepted_utc.empty() ? std::string("at an unknown time") : lkg->accepted_utc);
      }
    } catch (const std::exception& e) {
      log_.error("the last known good policy in {} cannot be read: {}", state_dir_.string(), e.what());
    }
  }

  Guard& guard_;
  std::filesystem::path file_;
  std::filesystem::path state_dir_;
  spdlog::logger& log_;
  std::optional<std::uint64_t> last_;  // content_fingerprint of the last load attempt
  std::chrono::seconds interval_{15 * 60};
};

void log_pass(spdlog::logger& log, const PassResult& r, std::chrono::microseconds took) {
  for (const auto& line : r.log) log.debug("{}", line);
  log.info("pass done in {:.1f} ms: {}{}{}", static_cast<double>(took.count()) / 1000.0, r.ran ? "" : "not run, ",
           r.compliant ? "compliant" : "not compliant", r.changed ? ", changed" : "");
}

} // namespace

DWORD run_guard(const RunOptions& options, HANDLE stop, HANDLE recheck, const RunHooks& hooks, std::shared_ptr<spdlog::logger> log) {
  const auto progress = [&] {
    if (hooks.progress) hooks.progress();
  };
  log->info("PortGuard {} starting; policy {}, data {}", version(), options.policy_file.string(), options.data_dir.string());

  // N.B. every watcher is armed before the first read of what it watches: a change that lands
  // between a read and the arming would otherwise wait for the periodic timer.
  std::vector<RegistryWatch> registry_watches;
  std::vector<std::wstring> unwatched;  // keys that do not exist (yet): retried after every pass
  for (const wchar_t* key : {L"SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters", L"SYSTEM\\CurrentControlSet\\Services\\DNS\\Parameters"}) {
    if (auto w = RegistryWatch::open(key)) registry_watches.push_back(std::move(*w));
    else {
      unwatched.emplace_back(key);
      log->info("not watching HKLM\\{} yet (absent); retried after every pass", narrow(key));
    }
  }
  // Group Policy (HKLM\SOFTWARE\Policies\PortGuard): the whole Policies subtree is watched, so the
  // PortGuard key is seen when the Group Policy client creates it. A notification is settled like
  // a policy-file save: one reload a second after the last one, and a pass only when the merged
  // policy changed (gpupdate rewrites every product's policies every 90 minutes). Where Policies
  // itself does not exist yet (a bare Wine prefix), HKLM\SOFTWARE is watched for its creation.
  constexpr wchar_t policies_key[] = L"SOFTWARE\\Policies";
  std::optional<RegistryWatch> gpo_watch = RegistryWatch::open(policies_key, RegistryWatch::Scope::subtree);
  bool gpo_watch_is_parent = false;
  if (!gpo_watch) {
    gpo_watch = RegistryWatch::open(L"SOFTWARE", RegistryWatch::Scope::key);
    gpo_watch_is_parent = gpo_watch.has_value();
    log->info("HKLM\\{} does not exist; watching HKLM\\SOFTWARE for its creation", narrow(policies_key));
  }
  // A key that appears later (DNS installed, or created by our own repair) is watched from then on;
  // a change between its creation and this call is caught by the next pass or the timer.
  const auto watch_new_keys = [&] {
    if (!gpo_watch || gpo_watch_is_parent) {
      if (auto w = RegistryWatch::open(policies_key, RegistryWatch::Scope::subtree)) {
        log->info("now watching HKLM\\{}", narrow(policies_key));
        gpo_watch = std::move(w);
        gpo_watch_is_parent = false;
      }
    }
    for (auto it = unwatched.begin(); it != unwatched.end();) {
      if (auto w = RegistryWatch::open(*it)) {
        log->info("now watching HKLM\\{}", narrow(*it));
        registry_watches.push_back(std::move(*w));
        it = unwatched.erase(it);
      } else {
        ++it;
      }
    }
  };
  std::optional<DirectoryWatch> policy_watch = DirectoryWatch::open(options.policy_file.parent_path());
  if (!policy_watch) log->warn("policy directory {} does not exist: policy changes are seen by the periodic check only",
                               options.policy_file.parent_path().string());
  progress();

  MetricsPublisher metrics(options.data_dir / "state", std::string(version()));
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

  SystemClock clock;
  ReservationLedger ledger(options.data_dir / "state" / "created-reservations.json");
  CallTrace trace;  // the pass's current step, for the watchdog
  HostAdapters host = make_host_adapters(&ledger, &trace);
  BackupStore backups(options.data_dir / "backups", clock);
  Applier applier(*host.registry, *host.reservations, backups, &ledger);
  Win32DynamicRangeWmi dynamic_range_wmi;   // [guard.dynamic_range] on Windows 8 / 2012+ (issue 16)
  applier.set_dynamic_range_wmi(&dynamic_range_wmi);
  Guard guard(*host.probe, applier, sink, clock, GuardSettings{}, options.data_dir / "state");
  guard.set_trace(&trace);
  const PassWatchdog watchdog(trace, options.stuck_pass_limit, [log](const std::string& line) { log->warn("watchdog: {}", line); });
  PolicyKeeper policy(guard, options, *log);
  const auto publish_metrics = [&] {
    if (auto problem = metrics.publish(guard)) {
      log->warn("metrics not written: {}", *problem);
      guard.report_metrics_not_written(narrow(metrics.folder(guard).value_or("").wstring()), *problem);
    }
  };

  policy.reload(true);
  progress();
  // A pass that failed although a policy is in force (3009: typically a system component not up
  // yet at boot) is retried: during START_PENDING a few times, so dependents wait for a real
  // pass; later after pass_retry_delay, instead of waiting for the next change or the timer.
  auto retry_at = steady::time_point::max();  // max: no retry scheduled
  const auto run_pass = [&](PassTrigger trigger, Guard::FailureReport failure = Guard::FailureReport::event) {
    const auto t0 = steady::now();
    log->debug("pass starts ({})", to_string(trigger));
    trace.begin_pass();
    const PassResult r = guard.run_pass(trigger, failure);
    trace.end_pass();
    log_pass(*log, r, std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t0));
    metrics.record_pass(r, steady::now() - t0, guard);
    publish_metrics();
    watch_new_keys();
    const bool failed = !r.ran && guard.policy().has_value();
    retry_at = failed ? steady::now() + options.pass_retry_delay : steady::time_point::max();
    return !failed;
  };
  // Only the last startup attempt may raise 3009: a component that comes up a moment later (the
  // IP helper at boot) must not page monitoring on every reboot.
  const auto startup_failure = [&](int attempt) {
    return attempt == options.startup_retries ? Guard::FailureReport::event : Guard::FailureReport::log_only;
  };
  bool first_ok = run_pass(PassTrigger::startup, startup_failure(0));
  for (int attempt = 1; !first_ok && attempt <= options.startup_retries; ++attempt) {
    log->warn("first pass failed; retry {} of {} in {} ms", attempt, options.startup_retries, options.startup_retry_delay.count());
    progress();
    if (::WaitForSingleObject(stop, static_cast<DWORD>(options.startup_retry_delay.count())) == WAIT_OBJECT_0) break;
    first_ok = run_pass(PassTrigger::startup, startup_failure(attempt));
  }
  guard.report_started(version());
  if (hooks.running) hooks.running();
  if (options.once) {
    guard.report_stopped("single pass done (--once)", 0);
    return run_ok;
  }

  Debouncer debounce(options.debounce_quiet, options.debounce_max);
  bool policy_dirty = false;
  // One more look at the policy file a second after the last directory notification: an editor's
  // save is often several operations (write a temporary file, rename it), and a notification that
  // arrives while the watch is being re-armed can be lost (seen under Wine with a loaded machine).
  auto policy_settle = steady::time_point::max();  // max: none scheduled
  PassTrigger pending_trigger = PassTrigger::registry_changed;
  auto next_timer = steady::now() + policy.recheck_interval();
  std::optional<steady::time_point> fight_handled;  // the last fight deadline a pass was run for
  DWORD exit_code = run_ok;
  try {
    for (;;) {
      std::vector<HANDLE> handles{stop};
      const std::size_t recheck_index = handles.size();
      if (recheck != nullptr) handles.push_back(recheck);
      const std::size_t registry_first = handles.size();
      for (const auto& w : registry_watches) handles.push_back(w.event());
      const std::size_t policy_index = handles.size();
      if (policy_watch) handles.push_back(policy_watch->event());
      const std::size_t gpo_index = handles.size();
      if (gpo_watch) handles.push_back(gpo_watch->event());

      const auto now = steady::now();
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(std::max(next_timer - now, steady::duration::zero()));
      if (const auto d = debounce.wait(now)) wait = std::min(wait, *d);
      if (retry_at != steady::time_point::max())
        wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(std::max(retry_at - now, steady::duration::zero())));
      // A back-off that ends (or a fight's repair that has had time to hold) is checked at that
      // moment, not at the next periodic pass (issue 18: a 15-minute back-off became 30).
      const auto fight_due = guard.next_deadline();
      if (fight_due && fight_due != fight_handled)
        wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(std::max(*fight_due - now, steady::duration::zero())));
      if (policy_settle != steady::time_point::max())
        wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(std::max(policy_settle - now, steady::duration::zero())));
      const DWORD r = ::WaitForMultipleObjects(static_cast<DWORD>(handles.size()), handles.data(), FALSE,
                                               static_cast<DWORD>(std::min<long long>(wait.count(), 0x7fffffff)));
      if (r == WAIT_FAILED) throw_last_error("WaitForMultipleObjects");
      if (r == WAIT_OBJECT_0) break;  // stop
      if (r >= WAIT_OBJECT_0 && r < WAIT_OBJECT_0 + handles.size()) {
        const std::size_t i = r - WAIT_OBJECT_0;
        if (recheck != nullptr && i == recheck_index) {
          log->info("recheck requested");
          policy.reload(true);
          debounce.clear();
          run_pass(PassTrigger::manual);
          next_timer = steady::now() + policy.recheck_interval();
          continue;
        }
        if (gpo_watch && i == gpo_index) {
          gpo_watch->arm();
          log->debug("change notification: HKLM\\{}", narrow(gpo_watch->key_path()));
          if (gpo_watch_is_parent) watch_new_keys();  // Policies created: watch it from now on
          policy_settle = steady::now() + std::chrono::seconds(1);
          continue;
        }
        if (i >= registry_first && i < policy_index) {
          // Re-arm before the pass reads the key (watch before you read).
          auto& w = registry_watches[i - registry_first];
          w.arm();
          log->debug("change notification: HKLM\\{}", narrow(w.key_path()));
          pending_trigger = policy_dirty ? PassTrigger::policy_changed : PassTrigger::registry_changed;
        } else if (policy_watch && i == policy_index) {
          policy_watch->rearm();
          policy_dirty = true;
          policy_settle = steady::now() + std::chrono::seconds(1);
          pending_trigger = PassTrigger::policy_changed;
          log->debug("change notification: policy directory");
        }
        debounce.notify(steady::now());
        continue;
      }
      // Timeout: a debounced pass or the periodic one is due.
      const auto t = steady::now();
      if (debounce.pending() && debounce.wait(t) == std::chrono::milliseconds{0}) {
        debounce.clear();
        if (policy_dirty) {
          policy_dirty = false;
          policy.reload(false);
        }
        run_pass(pending_trigger);
      }
      if (t >= policy_settle && !debounce.pending()) {
        policy_settle = steady::time_point::max();
        if (policy.reload(false)) run_pass(PassTrigger::policy_changed);
      }
      if (const auto due = guard.next_deadline(); due && due != fight_handled && t >= *due) {
        fight_handled = due;  // a pass that fails before reaching the fight records must not spin
        run_pass(PassTrigger::fight_check);
      }
      if (t >= retry_at) {
        log->info("retrying the failed pass");
        run_pass(PassTrigger::timer);
      }
      if (t >= next_timer) {
        policy.reload(false);  // catches a change whose notification was lost
        run_pass(PassTrigger::timer);
        next_timer = steady::now() + policy.recheck_interval();
      }
    }
    guard.report_stopped("stop requested", 0);
  } catch (const std::exception& e) {
    log->critical("watch loop failed: {}", e.what());
    exit_code = run_loop_failed;
    guard.report_stopped(std::string("watch loop failed: ") + e.what(), exit_code);
  }
  metrics.stopping();
  publish_metrics();
  log->info("PortGuard stopped (exit code {})", exit_code);
  return exit_code;
}

} // namespace portguard::win32
