#include "portguard/core/guard.hpp"

#include "portguard/core/backup_store.hpp"
#include "portguard/core/error.hpp"
#include "portguard/core/event_ids.hpp"
#include "portguard/core/port_list_codec.hpp"
#include "portguard/core/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

namespace portguard {
namespace {

using steady = std::chrono::steady_clock;

std::uint64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

std::string iso_from_unix(std::uint64_t s) {
  return iso8601_utc(std::chrono::system_clock::time_point{std::chrono::seconds{static_cast<std::int64_t>(s)}});
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}

/// "a, b" for an event insert; `empty` when there is nothing to list.
std::string join_or(const std::vector<std::string>& items, std::string_view empty = "nothing") {
  return items.empty() ? std::string(empty) : join(items);
}

std::vector<std::string> ranges(const std::vector<RangeChange>& changes, std::optional<Protocol> protocol) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.range.to_string() + (protocol ? "/" + std::string(to_string(*protocol)) : ""));
  return out;
}

/// The entries of `a` not in `b`, in a's order. A set, not a scan of `b` per entry: a value can hold
/// a megabyte of unrecognised entries (docs/testing.md, hostile input).
std::vector<std::string> minus(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const std::unordered_set<std::string_view> in_b(b.begin(), b.end());
  std::vector<std::string> out;
  for (const auto& x : a)
    if (!in_b.contains(x)) out.push_back(x);
  return out;
}

/// What a write changed, in ports, not in entries: "1701-1701" widened to "1701-1702" added
/// 1702-1702 and removed nothing (merge mode rewrites entries it keeps). Entries that are not port
/// ranges are compared verbatim.
std::vector<std::string> ports_gained(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  const PortList b = parse_port_list(before, EntryDetail::none);
  const PortList a = parse_port_list(after, EntryDetail::none);
  std::vector<std::string> out = format_port_list(a.ports.minus(b.ports));
  for (auto& x : minus(a.unrecognised, b.unrecognised)) out.push_back(std::move(x));
  return out;
}

/// "1", "0.5": a duration in seconds for event text.
std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000);
  std::ostringstream out;
  out << static_cast<double>(d.count()) / 1000.0;
  return out.str();
}

std::string_view effect_key(TakesEffect e) {
  switch (e) {
    case TakesEffect::next_boot: return "next-boot";
    case TakesEffect::dns_restart: return "dns-restart";
    case TakesEffect::immediately: return "immediately";
  }
  return "immediately";
}

// Conditions re-evaluated by every pass: absent from a pass means cleared.
const std::set<std::uint32_t> pass_scoped = {
    events::in_compliance, events::drift_detected, events::pending_reboot, events::pending_dns_restart,
    events::port_at_risk,  events::audit_finding,  events::port_conflict,  events::repair_failed,
    events::safety_rail,   events::mechanism_unavailable, events::check_failed, events::reservations_hazard,
    events::dynamic_range_drift, events::dynamic_range_exposes_port, events::port_held_by_system};

/// Who needs the ports of a finding, every requirement named once: "IAS", "IAS, policy.toml:12".
std::string needed_by(const Finding& f) {
  std::vector<std::string> names;
  for (const auto& r : f.requirements) {
    std::string n = r.service.empty() ? r.provenance.source : r.service;
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
  }
  return join_or(names, "(unknown)");
}

} // namespace

std::string describe_target(Target target, std::optional<Protocol> protocol) {
  std::string out(to_string(target));
  if (protocol) out += "/" + std::string(to_string(*protocol));
  return out;
}

std::string_view to_string(PassTrigger trigger) noexcept {
  switch (trigger) {
    case PassTrigger::startup: return "startup";
    case PassTrigger::registry_changed: return "registry changed";
    case PassTrigger::policy_changed: return "policy changed";
    case PassTrigger::timer: return "periodic timer";
    case PassTrigger::manual: return "manual";
    case PassTrigger::fight_check: return "registry fight: back-off ended or repair settled";
  }
  return "unknown";
}

// --- pending effects -----------------------------------------------------------------------------

std::string describe(const PendingEffect& p) {
  return p.dynamic_range ? dynamic_range_key(*p.dynamic_range) : describe_target(p.target);
}

bool same_subject(const PendingEffect& a, const PendingEffect& b) {
  return a.dynamic_range == b.dynamic_range && (a.dynamic_range || a.target == b.target);
}

bool record_pending_effects(std::vector<PendingEffect>& pending, const ApplyReport& report, std::uint64_t changed_at_unix) {
  std::vector<PendingEffect> made;
  for (const TargetOutcome& o : report.outcomes) {
    if (o.error.empty() && o.changed && o.takes_effect != TakesEffect::immediately)
      made.push_back(PendingEffect{o.target, o.takes_effect, changed_at_unix, std::nullopt});
  }
  for (const RangeOutcome& o : report.ranges) {
    if (o.error.empty() && o.changed && o.takes_effect != TakesEffect::immediately)
      made.push_back(PendingEffect{Target::reserved_ports, o.takes_effect, changed_at_unix, o.protocol});
  }
  for (const PendingEffect& effect : made) {
    std::erase_if(pending, [&](const PendingEffect& p) { return same_subject(p, effect); });
    pending.push_back(effect);
  }
  return !made.empty();
}

std::vector<PendingEffect> still_pending(const std::vector<PendingEffect>& recorded, const HostSnapshot& host) {
  std::vector<PendingEffect> out;
  for (const auto& p : recorded) {
    if (p.takes_effect == TakesEffect::next_boot) {
      if (host.boot_time_unix && *host.boot_time_unix > p.changed_at_unix) continue;  // rebooted since
      out.push_back(p);
    } else if (p.takes_effect == TakesEffect::dns_restart) {
      // DNS not running: it reads the value when it starts, nothing to wait for.
      if (!host.dns_start_time_unix || *host.dns_start_time_unix > p.changed_at_unix) continue;
      out.push_back(p);
    }
  }
  return out;
}

std::vector<PendingEffect> load_pending_effects(const std::filesystem::path& state_dir) {
  const auto file = state_dir / "guard-state.json";
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  std::vector<PendingEffect> out;
  try {
    const auto doc = nlohmann::json::parse(text.str());
    for (const auto& j : doc.at("pending")) {
      PendingEffect p;
      const auto name = j.at("target").get<std::string>();
      if (name == dynamic_range_key(Protocol::udp)) p.dynamic_range = Protocol::udp;
      else if (name == dynamic_range_key(Protocol::tcp)) p.dynamic_range = Protocol::tcp;
      else if (const auto target = parse_target(name)) p.target = *target;
      else throw InputError(file.string(), "unknown target '" + name + "'");
      const auto effect = j.at("takes_effect").get<std::string>();
      if (effect == "next-boot") p.takes_effect = TakesEffect::next_boot;
      else if (effect == "dns-restart") p.takes_effect = TakesEffect::dns_restart;
      else throw InputError(file.string(), "unknown takes_effect '" + effect + "'");
      p.changed_at_unix = j.at("changed_at_unix").get<std::uint64_t>();
      out.push_back(p);
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string(), std::string("broken guard state: ") + e.what() + "; delete the file to reset it");
  }
  return out;
}

void save_pending_effects(const std::filesystem::path& state_dir, const std::vector<PendingEffect>& pending) {
  nlohmann::json doc;
  doc["format"] = 1;
  doc["pending"] = nlohmann::json::array();
  for (const auto& p : pending) {
    doc["pending"].push_back({{"target", p.dynamic_range ? dynamic_range_key(*p.dynamic_range) : std::string(to_string(p.target))},
                              {"takes_effect", std::string(effect_key(p.takes_effect))},
                              {"changed_at_unix", p.changed_at_unix},
                              {"changed_at", iso_from_unix(p.changed_at_unix)}});
  }
  write_file_atomically(state_dir / "guard-state.json", doc.dump(2) + "\n", ParentFolder::create);
}

// --- rate limiting, debounce ---------------------------------------------------------------------

std::string RateLimiter::key(std::uint32_t id, const std::string& subject) { return std::to_string(id) + "|" + subject; }

std::optional<std::uint32_t> RateLimiter::admit(std::uint32_t id, const std::string& subject, steady::time_point now) {
  const std::string k = key(id, subject);
  auto it = entries_.find(k);
  if (it == entries_.end()) {
    entries_.emplace(k, Entry{id, now, 0});
    return 0u;
  }
  if (now - it->second.last_report < interval_) {
    ++it->second.suppressed;
    return std::nullopt;
  }
  const std::uint32_t suppressed = it->second.suppressed;
  it->second.last_report = now;
  it->second.suppressed = 0;
  return suppressed;
}

void RateLimiter::forget_except(const std::set<std::uint32_t>& ids, const std::set<std::string>& seen) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (ids.count(it->second.id) != 0 && seen.count(it->first) == 0) it = entries_.erase(it);
    else ++it;
  }
}

void RateLimiter::forget_id(std::uint32_t id) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.id == id) it = entries_.erase(it);
    else ++it;
  }
}

void Debouncer::notify(steady::time_point now) {
  if (!first_) first_ = now;
  last_ = now;
}

std::optional<std::chrono::milliseconds> Debouncer::wait(steady::time_point now) const {
  if (!first_) return std::nullopt;
  const auto due = std::min(*last_ + quiet_, *first_ + max_delay_);
  if (now >= due) return std::chrono::milliseconds{0};
  return std::chrono::ceil<std::chrono::milliseconds>(due - now);
}

// --- the guard -----------------------------------------------------------------------------------

Guard::Guard(SystemProbe& probe, Applier& applier, EventSink& events, Clock& clock, GuardSettings settings,
             std::optional<std::filesystem::path> state_dir)
    : probe_(probe), applier_(applier), events_(events), clock_(clock), settings_(settings), state_dir_(std::move(state_dir)),
      limiter_(settings.rate_limit) {
  if (state_dir_) {
    try {
      pending_ = load_pending_effects(*state_dir_);
    } catch (const std::exception&) {
      pending_.clear();  // a broken state file only loses pending warnings; the next write replaces it
    }
  }
}

void Guard::set_policy(GuardPolicy policy) { policy_ = std::move(policy); }

std::string Guard::target_key(Target target, std::optional<Protocol> protocol) { return describe_target(target, protocol); }

std::string Guard::policy_in_use() const {
  if (!policy_) return "nothing (no policy has ever been valid, so nothing is changed)";
  return "the last known good policy (read from " + policy_->source +
         (policy_->accepted_utc.empty() ? std::string() : ", accepted " + policy_->accepted_utc) + ")";
}

void Guard::emit(std::uint32_t id, const std::string& subject, std::vector<std::string> inserts) {
  const events::EventInfo* info = events::find(id);
  if (info == nullptr) throw std::logic_error("undocumented event ID " + std::to_string(id));
  if (info->rate_limited) {
    seen_.insert(RateLimiter::key(id, subject));
    const auto admitted = limiter_.admit(id, subject, clock_.steady_now());
    if (!admitted) return;
    inserts.push_back(*admitted == 0 ? std::string()
                                     : " (" + std::to_string(*admitted) + " similar report" + (*admitted == 1 ? "" : "s") +
                                           " suppressed in the last " + std::to_string(limiter_.interval().count()) + " s)");
  }
  inserts.resize(info->inserts);  // the message table expects exactly this many
  const CallTrace::Step step(trace_, "reporting an event");
  events_.report(Event{id, info->level, std::move(inserts)});
}

Assessment Guard::assess_host() const {
  const CallTrace::Step step(trace_, "assessing the host");
  return assess(probe_, *policy_->requirements, policy_->plan, ServiceDetail::state);
}

void Guard::strip_backed_off(ReservationPlan& p) const {
  const auto now = clock_.steady_now();
  std::erase_if(p.targets, [&](const TargetPlan& t) {
    auto it = fights_.find(target_key(t.target, t.protocol));
    return it != fights_.end() && it->second.backoff_until && now < *it->second.backoff_until;
  });
}

std::optional<steady::time_point> Guard::backoff_until(Target target, std::optional<Protocol> protocol) const {
  auto it = fights_.find(target_key(target, protocol));
  if (it == fights_.end()) return std::nullopt;
  return it->second.backoff_until;
}

std::optional<steady::time_point> Guard::next_deadline() const {
  std::optional<steady::time_point> out;
  const auto earliest = [&](steady::time_point t) { out = out ? std::min(*out, t) : t; };
  for (const auto& [key, fight] : fights_) {
    if (fight.backoff_until) earliest(*fight.backoff_until);
    else if (fight.fighting && fight.last_write) earliest(*fight.last_write + settings_.fight_revert_window + std::chrono::milliseconds{1});
  }
  return out;
}

void Guard::track_fights(const ReservationPlan& full, PassResult& result) {
  const auto now = clock_.steady_now();
  for (const TargetPlan& t : full.targets) {
    auto it = fights_.find(target_key(t.target, t.protocol));
    if (it == fights_.end()) continue;  // never written by the guard: nobody can be changing it back
    const std::string& key = it->first;
    FightState& fight = it->second;
    bool resumed = false;
    if (fight.backoff_until) {
      if (now < *fight.backoff_until) continue;
      fight.backoff_until.reset();  // re-check now; this pass repairs, it is not a change-back
      resumed = true;
      result.log.push_back("back-off of " + key + " ended: checking it again");
    }
    const bool soon_after_write = fight.last_write && now - *fight.last_write <= settings_.fight_revert_window;
    if (t.has_changes() && soon_after_write && !resumed) {
      ++fight.reverts;
      if (!fight.fighting && fight.reverts < settings_.fight_rounds) continue;
      fight.backoff = fight.fighting ? std::min(fight.backoff * 2, settings_.fight_backoff_max) : settings_.fight_backoff_first;
      fight.fighting = true;
      fight.backoff_until = now + fight.backoff;
      emit(events::registry_fight, key,
           {key, std::to_string(fight.reverts), seconds_text(settings_.fight_revert_window), seconds_text(fight.backoff),
            seconds_text(settings_.fight_backoff_max)});
      result.log.push_back("registry fight on " + key + ": changed back " + std::to_string(fight.reverts) +
                           " times in a row; backing off " + seconds_text(fight.backoff) + " s");
    } else if (!soon_after_write && !resumed) {
      // The last write held for the change-back window (or was changed much later: an ordinary edit).
      fight.reverts = 0;
      if (fight.fighting) {
        fight.fighting = false;
        fight.backoff = std::chrono::milliseconds{0};
        limiter_.forget(events::registry_fight, key);  // a later fight is news at once
        emit(events::fight_resumed, key, {key, seconds_text(settings_.fight_revert_window)});
        result.log.push_back("registry fight on " + key + " is over: the repair held");
      }
    }
  }
}

PassResult Guard::run_pass(PassTrigger trigger, FailureReport failure) {
  PassResult result;
  seen_.clear();
  result.log.push_back("pass (" + std::string(to_string(trigger)) + ")");
  if (!policy_) {
    result.log.push_back("no usable policy: nothing is checked or changed");
    return result;
  }
  const std::vector<PendingEffect> before = pending_;  // what the state file holds
  try {
    const Assessment assessment = assess_host();
    const HostSnapshot& snapshot = assessment.host;
    const Requirements& requirements = assessment.requirements;
    const ReservationPlan& full = assessment.plan;
    result.requirements = requirements.size();
    result.plan = full;

    std::vector<const Finding*> at_risk;
    const bool error_findings = report_findings(full, snapshot, result, at_risk);
    track_fights(full, result);

    ReservationPlan effective = full;
    strip_backed_off(effective);
    const bool compliant = repair_effective(full, effective, result);

    // A port at risk that this pass reserved is not at risk any more (a pending reboot / DNS
    // restart is reported as such below); otherwise the risk stands, also when the plan has
    // nothing to write for it (a persistent block deferred while the port is bound).
    const bool repaired_now = effective.has_changes() && compliant;
    if (!repaired_now) report_at_risk(at_risk, snapshot, result);

    update_pending(before, snapshot, result);

    result.ran = true;
    result.compliant = compliant;
    finish_metrics(full, requirements, result);
    if (compliant && !error_findings) {
      std::vector<std::string> managed;
      for (const TargetPlan& t : full.targets) managed.push_back(describe_target(t.target, t.protocol));
      emit(events::in_compliance, "", {std::to_string(distinct_port_ranges(requirements)), join_or(managed, "none")});
    }
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    if (failure == FailureReport::event) emit(events::check_failed, "", {e.what()});
    result.log.push_back(std::string("pass failed: ") + e.what());
  }
  limiter_.forget_except(pass_scoped, seen_);
  return result;
}

bool Guard::report_findings(const ReservationPlan& full, const HostSnapshot& snapshot, PassResult& result,
                            std::vector<const Finding*>& at_risk) {
  bool error_findings = false;
  for (const Finding& f : full.findings) {
    result.log.push_back(std::string(to_string(f.severity)) + " " + f.code + ": " + f.message);
    // Informational findings (a port held by its own service, an already-reserved port in the
    // dynamic range, a mechanism this version does not use) are logged, not alerted.
    if (f.code == "conflict" && f.requirement && f.holder && f.severity == Severity::error) {
      error_findings = true;
      ++result.metrics.conflicts;
      emit(events::port_conflict, std::string(to_string(f.holder->protocol)) + "/" + std::to_string(f.holder->port),
           {upper(to_string(f.holder->protocol)), std::to_string(f.holder->port), needed_by(f), f.holder->describe_holder()});
    } else if (f.code == "starves-dynamic-range" || f.code == "too-many-reserved") {
      if (f.severity != Severity::error) continue;
      error_findings = true;
      const std::string t = f.target ? describe_target(*f.target) : std::string("the reservations");
      emit(events::reservations_hazard, t + "|" + f.code, {t, f.code, f.message});
    } else if (f.code == "at-risk" && f.severity != Severity::info && f.protocol && f.range) {
      at_risk.push_back(&f);  // reported below, unless this pass's repair covers it
    } else if (f.code == "dynamic-range-drift" && f.protocol) {
      report_dynamic_range_drift(full, *f.protocol);
    } else if (f.code == "dynamic-range-exposes" && f.protocol && f.range) {
      error_findings = true;
      emit(events::dynamic_range_exposes_port, std::string(to_string(*f.protocol)) + "/" + f.range->to_string(),
           {upper(to_string(*f.protocol)), f.range->to_string(), needed_by(f), f.message});
    } else if (f.code == "held-by-system" && f.severity == Severity::error && f.protocol && f.range) {
      // Issue 16: a required port inside a range HNS/WinNAT hold (event 3013).
      error_findings = true;
      const std::string ports = f.range->first() == f.range->last() ? std::to_string(f.range->first()) : f.range->to_string();
      const auto& excluded = snapshot.excluded_ranges;
      std::string range = f.range->to_string();
      if (excluded)
        for (const auto& e : *excluded)
          if (e.protocol == *f.protocol && !e.administered() && e.range.contains(f.range->first())) { range = e.range.to_string(); break; }
      emit(events::port_held_by_system, std::string(to_string(*f.protocol)) + "/" + ports,
           {upper(to_string(*f.protocol)), ports, needed_by(f), range + "/" + std::string(to_string(*f.protocol))});
    } else if (f.code == "unavailable" && f.severity != Severity::info) {
      error_findings = true;
      const std::string t = f.target ? describe_target(*f.target) : std::string("a reservation mechanism");
      emit(events::mechanism_unavailable, t, {t, f.message});
    }
  }
  return error_findings;
}

bool Guard::repair_effective(const ReservationPlan& full, const ReservationPlan& effective, PassResult& result) {
  bool backed_off_drift = false;
  for (const TargetPlan& t : full.targets) {
    if (t.has_changes() && effective.find(t.target, t.protocol) == nullptr) {
      backed_off_drift = true;
      result.metrics.drifted.push_back(describe_target(t.target, t.protocol));
      result.log.push_back(describe_target(t.target, t.protocol) + " drifted, not repaired: backing off from a registry fight");
    }
  }

  // A drifted dynamic range PortGuard cannot restore (2008/2008 R2: netsh only) keeps the host out of compliance.
  const bool unrestorable_range = std::any_of(full.dynamic_ranges.begin(), full.dynamic_ranges.end(),
                                              [](const DynamicRangePlan& d) { return d.drifted() && !d.has_changes(); });
  bool compliant = !effective.has_changes() && !backed_off_drift && !unrestorable_range;
  if (effective.has_changes()) {
    if (effective.blocked()) {
      // A blocked plan is an error in audit mode too: `check` says CRITICAL for it either way.
      for (const Finding& f : effective.findings) {
        if (!f.blocks_repair) continue;
        const std::string t = f.target ? describe_target(*f.target) : std::string("the plan");
        emit(events::safety_rail, t + "|" + f.code, {t, f.code, f.message});
        result.metrics.rails.push_back(f.code);
      }
    }
    if (policy_->audit) {
      for (const TargetPlan& t : effective.targets) {
        if (!t.has_changes()) continue;
        const std::string key = describe_target(t.target, t.protocol);
        emit(events::audit_finding, key, {key, join_or(ranges(t.added, t.protocol)), join_or(ranges(t.removed, t.protocol))});
        result.metrics.drifted.push_back(key);
        result.log.push_back("audit: " + key + " would change");
      }
    } else if (effective.blocked()) {
      result.log.push_back("repair refused: a safety rail fired");
    } else {
      for (const TargetPlan& t : effective.targets) {
        if (!t.has_changes()) continue;
        const std::string key = describe_target(t.target, t.protocol);
        emit(events::drift_detected, key, {key, join_or(ranges(t.added, t.protocol)), join_or(ranges(t.removed, t.protocol))});
        result.metrics.drifted.push_back(key);
      }
      compliant = apply(effective, result);
    }
  }
  return compliant;
}

void Guard::report_at_risk(const std::vector<const Finding*>& at_risk, const HostSnapshot& snapshot, PassResult& result) {
  for (const Finding* f : at_risk) {
    const auto dyn = snapshot.dynamic_range(*f->protocol);
    result.metrics.ports_at_risk += f->range->size();
    emit(events::port_at_risk, std::string(to_string(*f->protocol)) + "/" + f->range->to_string(),
         {upper(to_string(*f->protocol)), f->range->to_string(), needed_by(*f),
          dyn ? dyn->range.to_string() + (dyn->assumed ? " (assumed default)" : "") : std::string("(unknown)")});
  }
}

void Guard::update_pending(const std::vector<PendingEffect>& before, const HostSnapshot& snapshot, PassResult& result) {
  pending_ = still_pending(pending_, snapshot);
  for (const PendingEffect& p : pending_) {
    const std::string key = describe(p);
    if (p.takes_effect == TakesEffect::next_boot) {
      emit(events::pending_reboot, key,
           {key, iso_from_unix(p.changed_at_unix), snapshot.boot_time_unix ? iso_from_unix(*snapshot.boot_time_unix) : "unknown"});
      result.log.push_back("pending reboot: " + key);
    } else {
      emit(events::pending_dns_restart, key,
           {key, iso_from_unix(p.changed_at_unix), snapshot.dns_start_time_unix ? iso_from_unix(*snapshot.dns_start_time_unix) : "unknown"});
      result.log.push_back("pending DNS restart: " + key);
    }
  }
  if (state_dir_ && (before.size() != pending_.size() || !std::equal(before.begin(), before.end(), pending_.begin(), [](const auto& a, const auto& b) {
                       return same_subject(a, b) && a.changed_at_unix == b.changed_at_unix;
                     }))) {
    try {
      const CallTrace::Step step(trace_, "saving the guard state");
      save_pending_effects(*state_dir_, pending_);
    } catch (const std::exception& e) {
      result.log.push_back(std::string("cannot save the guard state: ") + e.what());
    }
  }
}

void Guard::finish_metrics(const ReservationPlan& full, const Requirements& requirements, PassResult& result) {
  measure_plan(full, requirements, result.metrics.repaired, result.metrics);
  // Ranges this pass restored (or found restored, MaxUserPort serving both protocols) were
  // entered by apply(); the others are as the plan found them.
  auto& range_drift = result.metrics.dynamic_range_drift;
  for (const DynamicRangePlan& d : full.dynamic_ranges) {
    const bool seen = std::any_of(range_drift.begin(), range_drift.end(), [&](const auto& r) { return r.first == d.protocol; });
    if (!seen) range_drift.emplace_back(d.protocol, d.drifted());
  }
}

std::string dynamic_range_key(Protocol protocol) { return "dynamic-range/" + std::string(to_string(protocol)); }

void Guard::report_dynamic_range_drift(const ReservationPlan& plan, Protocol protocol) {
  for (const DynamicRangePlan& d : plan.dynamic_ranges) {
    if (d.protocol != protocol || !d.drifted()) continue;
    const std::string what = policy_->audit && d.has_changes() ? "audit mode: nothing is changed; enforce mode would restore it (" + d.how + ")"
                                                                : d.how;
    emit(events::dynamic_range_drift, dynamic_range_key(protocol) + "|" + d.current.to_string(),
         {upper(to_string(protocol)), d.current.to_string(), d.current_source, d.expected.range.to_string(), d.expected.source, what});
  }
}

bool Guard::apply(const ReservationPlan& effective, PassResult& result) {
  const auto replan = [this]() {
    ReservationPlan p = assess_host().plan;
    strip_backed_off(p);
    return p;
  };
  ApplyReport report;
  try {
    const CallTrace::Step step(trace_, "applying the plan");
    report = applier_.apply(effective, replan, ApplyOptions{false, 3, "guard repair"});
  } catch (const RefusedError& e) {
    for (const TargetPlan& t : effective.targets) {
      if (!t.has_changes()) continue;
      const std::string key = describe_target(t.target, t.protocol);
      emit(events::repair_failed, key, {key, e.what()});
    }
    result.log.push_back(std::string("repair refused: ") + e.what());
    return false;
  }
  bool all_ok = true;
  const auto now = clock_.steady_now();
  const auto wall = unix_seconds(clock_.now());
  for (const RangeOutcome& o : report.ranges) {   // [guard.dynamic_range] (issue 16)
    const std::string key = dynamic_range_key(o.protocol);
    if (o.error.empty()) result.metrics.dynamic_range_drift.emplace_back(o.protocol, false);
    if (!o.error.empty()) {
      all_ok = false;
      emit(events::repair_failed, key, {key, o.error});
      result.log.push_back("restoring " + key + " failed: " + o.error);
      continue;
    }
    if (!o.changed) continue;
    result.changed = true;
    result.metrics.repaired.push_back(key);
    emit(events::repaired, "", {key, "range " + o.after, "range " + o.before, std::string(to_string(o.takes_effect)),
                                o.backup_id.empty() ? std::string("(no backup needed)") : o.backup_id});
    result.log.push_back("restored " + key + " to " + o.after + " through " + o.method + " (backup " + o.backup_id + ")");
  }
  for (const TargetOutcome& o : report.outcomes) {
    const std::string key = describe_target(o.target, o.protocol);
    if (!o.error.empty()) {
      all_ok = false;
      emit(events::repair_failed, key, {key, o.error});
      result.log.push_back("repair of " + key + " failed: " + o.error);
      continue;
    }
    if (!o.changed) continue;
    result.changed = true;
    result.metrics.repaired.push_back(key);
    emit(events::repaired, "", {key, join_or(ports_gained(o.before, o.after)), join_or(ports_gained(o.after, o.before)), std::string(to_string(o.takes_effect)),
                                o.backup_id.empty() ? std::string("(no backup needed)") : o.backup_id});
    result.log.push_back("repaired " + key + " (backup " + o.backup_id + ")");
    fights_[key].last_write = now;  // a change-back soon after this is what a fight looks like
  }
  record_pending_effects(pending_, report, wall);
  return all_ok;
}

// --- events outside a pass ---------------------------------------------------------------------

void Guard::report_started(std::string_view version) {
  std::string targets = "those effective on this Windows version";
  if (policy_ && policy_->plan.targets) {
    std::vector<std::string> names;
    for (Target t : *policy_->plan.targets) names.emplace_back(to_string(t));
    targets = join_or(names, "none");
  }
  emit(events::service_started, "",
       {std::string(version), policy_ ? policy_->source : std::string("none (no valid policy yet)"), policy_ ? (policy_->audit ? "audit" : "enforce") : "none", targets});
}

void Guard::report_stopped(std::string_view reason, std::uint32_t exit_code) {
  emit(events::service_stopped, "", {std::string(reason), std::to_string(exit_code)});
}

void Guard::report_policy_loaded(const std::string& source, bool audit) {
  policy_condition_.clear();
  limiter_.forget_id(events::policy_invalid);
  limiter_.forget_id(events::policy_insecure);
  limiter_.forget_id(events::no_policy);
  emit(events::policy_loaded, "", {source, audit ? "audit" : "enforce"});
}

// Policy conditions are identified by file and cause: "not found" and then "mode 'marge' is not
// valid" are two events, the same error seen again is one (rate limited). Only one policy
// condition holds at a time, so a new one clears the others: an error that comes back after
// another one is reported again at once.
void Guard::report_policy_condition(std::uint32_t id, const std::string& subject, std::vector<std::string> inserts) {
  const std::string key = RateLimiter::key(id, subject);
  if (key != policy_condition_) {
    for (const std::uint32_t policy_id : {events::policy_invalid, events::policy_insecure, events::no_policy}) limiter_.forget_id(policy_id);
    policy_condition_ = key;
  }
  emit(id, subject, std::move(inserts));
}

void Guard::report_policy_invalid(const std::string& file, const std::string& error) {
  report_policy_condition(events::policy_invalid, file + "|" + error, {file, error, policy_in_use()});
}

void Guard::report_policy_insecure(const std::string& file, const std::string& writers) {
  report_policy_condition(events::policy_insecure, file + "|" + writers, {file, writers, policy_in_use()});
}

void Guard::report_no_policy(const std::string& file, const std::string& error) {
  report_policy_condition(events::no_policy, file + "|" + error, {file, error});
}

void Guard::report_metrics_not_written(const std::string& folder, const std::string& error) {
  emit(events::metrics_not_written, folder, {folder, error});
}

void Guard::report_boot_protection_added(const std::string& service, const std::string& asked_by) {
  emit(events::boot_protection_added, service, {service, asked_by});
}

void Guard::report_boot_protection_refused(const std::string& service, const std::string& asked_by, const std::string& error) {
  emit(events::boot_protection_refused, service + "|" + error, {service, asked_by, error});
}

} // namespace portguard
