#include "portguard/core/apply.hpp"

#include "portguard/core/guard.hpp"
#include "portguard/core/port_list_codec.hpp"
#include "portguard/core/text.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_set>

namespace portguard {
namespace {

/// `"a", "b"` for an error message; "(empty)" for no items.
std::string quoted_list(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const auto& s : items) quoted.push_back('"' + s + '"');
  return quoted.empty() ? "(empty)" : join(quoted);
}

std::string target_label(Target target, std::optional<Protocol> protocol) {
  std::string label(to_string(target));
  if (protocol) label += "/" + std::string(to_string(*protocol));
  return label;
}

PortRange block_range(const PersistentReservation& r) { return PortRange::make(r.start, long{r.start} + r.count - 1); }

/// The blocks a persistent-reservation plan was made from or touches (found, to create, to
/// delete): the candidates the adapter looks up, so the compare step sees what the plan saw.
std::vector<PortRange> plan_blocks(const TargetPlan& t) {
  std::vector<PortRange> out;
  for (const auto& c : t.current)
    for (const auto& r : parse_port_list(std::vector<std::string>{c}).ports) out.push_back(r);
  for (const auto& a : t.added) out.push_back(a.range);
  for (const auto& r : t.removed) out.push_back(r.range);
  return out;
}

PortSet block_set(const std::vector<PersistentReservation>& blocks) {
  PortSet set;
  for (const auto& r : blocks) {
    if (r.count > 0) set.insert(block_range(r));
  }
  return set;
}

/// The checks every registry value passes before it may be written. Returns the problem, or empty.
std::string validate_registry_value(const TargetPlan& t, const PlanSettings& settings) {
  for (const auto& s : t.desired) {
    if (s.find('\0') != std::string::npos) return "entry " + quoted_list({s}) + " contains a NUL character";
  }
  const PortList parsed = parse_port_list(t.desired);
  if (parsed.blank_entries > 0) return "the new value contains blank entries";
  if (format_port_list(parsed.ports, parsed.unrecognised) != t.desired)
    return "the new value " + quoted_list(t.desired) + " is not in canonical form (ascending, merged \"start-end\" ranges)";
  for (const auto& a : t.added) {
    if (!parsed.ports.contains(a.range)) return "the new value does not contain the added range " + a.range.to_string();
  }
  for (const auto& k : t.kept) {
    if (!parsed.ports.contains(k.range)) return "the new value lost the kept range " + k.range.to_string();
  }
  for (const auto& r : t.removed) {
    if (parsed.ports.intersects(r.range)) return "the new value still contains the removed range " + r.range.to_string();
  }
  // A set: a value can hold a megabyte of unrecognised entries (docs/testing.md, hostile input).
  const std::unordered_set<std::string_view> kept_verbatim(parsed.unrecognised.begin(), parsed.unrecognised.end());
  for (const auto& u : t.unrecognised) {
    if (!kept_verbatim.contains(u)) return "the new value drops the unrecognised entry " + quoted_list({u}) + " (it must be kept verbatim)";
  }
  if (t.desired.empty() && !t.current.empty() && !settings.allow.empty_value)
    return "the new value would empty a non-empty value (allow_empty_value is not set)";
  if (settings.mode == Mode::merge && !t.removed.empty()) return "merge mode must not remove entries";
  return {};
}

// --- [guard.dynamic_range] (issue 16 item 1) -----------------------------------------------------

constexpr std::string_view max_user_port_value = "MaxUserPort";

std::string range_method(RangeRestore restore, Protocol protocol) {
  if (restore == RangeRestore::max_user_port) return std::string(max_user_port_value);
  return protocol == Protocol::udp ? "MSFT_NetUDPSetting" : "MSFT_NetTCPSetting";
}

RawRegistryValue dword_value(std::uint32_t v) {
  return RawRegistryValue{reg_type::dword, {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                                            static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)}};
}

/// Why `range` cannot be written through `restore` (Windows' bounds, then the interface's), or empty.
std::string range_write_problem(RangeRestore restore, PortRange range) {
  if (std::string p = dynamic_range_problem(range); !p.empty()) return "it " + p;
  if (restore == RangeRestore::max_user_port && (range.first() != min_dynamic_range_start || range.last() < 5000 || range.last() > 65534))
    return "MaxUserPort expresses only 1025..N with N from 5000 to 65534";
  if (restore == RangeRestore::manual) return "Windows offers no documented interface PortGuard may use for it here";
  return {};
}

bool needs_write(const TargetPlan& t) {
  if (t.target == Target::persistent_reservation) return t.has_changes();
  return t.has_changes() || t.desired != t.current;
}

} // namespace

bool ApplyReport::ok() const noexcept {
  return std::all_of(outcomes.begin(), outcomes.end(), [](const TargetOutcome& o) { return o.error.empty(); }) &&
         std::all_of(ranges.begin(), ranges.end(), [](const RangeOutcome& o) { return o.error.empty(); });
}
bool ApplyReport::changed() const noexcept {
  return std::any_of(outcomes.begin(), outcomes.end(), [](const TargetOutcome& o) { return o.changed; }) ||
         std::any_of(ranges.begin(), ranges.end(), [](const RangeOutcome& o) { return o.changed; });
}

std::optional<RegistryLocation> registry_location(Target target) noexcept {
  switch (target) {
    case Target::reserved_ports: return RegistryLocation{registry_paths::tcpip_parameters, registry_paths::reserved_ports_value};
    case Target::dns_socket_pool: return RegistryLocation{registry_paths::dns_parameters, registry_paths::socket_pool_excluded_value};
    case Target::persistent_reservation: return std::nullopt;
  }
  return std::nullopt;
}

std::vector<std::string> describe_reservations(const std::vector<PersistentReservation>& reservations) {
  std::vector<PersistentReservation> sorted = reservations;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  std::vector<std::string> out;
  for (const auto& r : sorted) {
    if (r.count > 0) out.push_back(block_range(r).to_string());
  }
  return out;
}

Applier::Applier(RegistryStore& registry, PersistentReservationApi& reservations, BackupStore& backups,
                 ReservationLedger* ledger)
    : registry_(registry), reservations_(reservations), backups_(backups), ledger_(ledger) {}

ApplyReport Applier::apply(const ReservationPlan& first_plan, const std::function<ReservationPlan()>& replan, ApplyOptions options) {
  auto refuse_if_blocked = [](const ReservationPlan& p) {
    if (!p.blocked()) return;
    std::string why;
    for (const auto& f : p.findings) {
      if (f.blocks_repair) why += "\n  [" + f.code + "] " + f.message;
    }
    throw RefusedError("repair refused: a safety rail fired and the policy does not allow it:" + why);
  };
  refuse_if_blocked(first_plan);

  ApplyReport report;
  report.dry_run = options.dry_run;
  ReservationPlan plan = first_plan;
  std::vector<std::string> finished;   // targets already handled, so a re-plan does not redo them
  for (;;) {
    bool conflict = false;
    std::string conflicting;
    for (const TargetPlan& t : plan.targets) {
      const std::string label = target_label(t.target, t.protocol);
      if (std::find(finished.begin(), finished.end(), label) != finished.end()) continue;
      if (!needs_write(t)) continue;
      TargetOutcome outcome;
      if (!t.available) {
        outcome.target = t.target;
        outcome.protocol = t.protocol;
        outcome.takes_effect = info(t.target).takes_effect;
        outcome.before = t.current;
        outcome.error = label + " is unavailable on this host; nothing was written";
      } else if (t.target == Target::persistent_reservation) {
        outcome = apply_persistent(t, options, conflict);
      } else {
        const std::string problem = validate_registry_value(t, plan.settings);
        if (!problem.empty()) {
          outcome.target = t.target;
          outcome.takes_effect = info(t.target).takes_effect;
          outcome.before = t.current;
          outcome.error = "refused to write " + label + ": " + problem + "; nothing was written";
        } else {
          outcome = apply_registry(t, options, conflict);
        }
      }
      if (conflict) {
        conflicting = label;
        break;
      }
      finished.push_back(label);
      report.outcomes.push_back(std::move(outcome));
    }
    // [guard.dynamic_range] (issue 16): after the reservations, so a port the restored range would
    // still cover is reserved first.
    for (const DynamicRangePlan& d : plan.dynamic_ranges) {
      if (conflict) break;
      const std::string label = dynamic_range_key(d.protocol);
      if (!d.has_changes() || std::find(finished.begin(), finished.end(), label) != finished.end()) continue;
      RangeOutcome outcome = apply_dynamic_range(d, options, conflict);
      if (conflict) {
        conflicting = label;
        break;
      }
      finished.push_back(label);
      report.ranges.push_back(std::move(outcome));
    }
    if (!conflict) break;
    if (report.replans >= options.max_replans || !replan)
      throw ConcurrentChangeError("repair stopped: " + conflicting + " changed again between reading and writing after " +
                                  std::to_string(report.replans) +
                                  " re-plans; another tool keeps rewriting it. Nothing more was written; check what else manages it.");
    ++report.replans;
    plan = replan();
    refuse_if_blocked(plan);
  }
  return report;
}

TargetOutcome Applier::apply_registry(const TargetPlan& t, const ApplyOptions& options, bool& conflict) {
  TargetOutcome out;
  out.target = t.target;
  out.takes_effect = info(t.target).takes_effect;
  const auto loc = *registry_location(t.target);
  auto* raw_access = dynamic_cast<RawRegistryAccess*>(&registry_);
  try {
    // N.B. compare-and-swap: this read is the last look before the write; the registry has no
    // atomic CAS, so the window is kept to this read + backup, and the read-back catches the rest.
    std::optional<RawRegistryValue> live_raw;
    MultiStringValue live;
    if (raw_access != nullptr) {
      live_raw = raw_access->read_raw(loc.key, loc.value);
      if (live_raw) live = decode_multi_sz(*live_raw);
    } else {
      live = registry_.read_multi_string(loc.key, loc.value);
    }
    out.before = live.strings;
    if (live.strings != t.current) {
      conflict = true;
      return out;
    }
    if (options.dry_run) {
      out.changed = true;
      out.after = t.desired;
      return out;
    }
    Backup backup;
    backup.target = t.target;
    backup.key = std::string(loc.key);
    backup.value = std::string(loc.value);
    backup.previous = live;
    backup.previous_raw = live_raw;
    backup.reason = options.reason;
    out.backup_id = backups_.save(backup);

    registry_.write_multi_string(loc.key, loc.value, t.desired);
    out.changed = true;
    const MultiStringValue back = registry_.read_multi_string(loc.key, loc.value);
    out.after = back.strings;
    if (!back.present || !back.type_problem.empty() || back.strings != t.desired) {
      out.error = "verification failed for " + std::string(loc.key) + "\\" + std::string(loc.value) + ": wrote " + quoted_list(t.desired) +
                  " but read back " + quoted_list(back.strings) + (back.type_problem.empty() ? "" : " (" + back.type_problem + ")") +
                  "; the previous value is in backup " + out.backup_id;
    }
  } catch (const std::exception& e) {
    out.error = std::string(to_string(t.target)) + ": " + e.what() +
                (out.backup_id.empty() ? std::string{} : "; the previous value is in backup " + out.backup_id);
  }
  return out;
}

TargetOutcome Applier::apply_persistent(const TargetPlan& t, const ApplyOptions& options, bool& conflict) {
  TargetOutcome out;
  out.target = t.target;
  out.protocol = t.protocol;
  out.takes_effect = info(t.target).takes_effect;
  if (!t.protocol) {
    out.error = "persistent-reservation target without a protocol; nothing was written";
    return out;
  }
  const Protocol protocol = *t.protocol;
  const std::string label = target_label(t.target, t.protocol);
  try {
    if (!reservations_.available()) {
      out.error = label + " is unavailable on this host; nothing was written";
      return out;
    }
    const std::vector<PortRange> candidates = plan_blocks(t);
    const std::vector<PersistentReservation> live = reservations_.list(protocol, candidates);
    out.before = describe_reservations(live);
    if (block_set(live) != parse_port_list(t.current).ports) {
      conflict = true;
      return out;
    }
    // The API deletes only whole blocks (exact start and count) and refuses overlapping creates.
    for (const auto& r : t.removed) {
      const bool whole = std::any_of(live.begin(), live.end(), [&](const auto& b) { return block_range(b) == r.range; });
      if (!whole) {
        out.error = "refused to change " + label + ": " + r.range.to_string() +
                    " is not exactly one existing reservation block (only whole blocks can be deleted); nothing was written";
        return out;
      }
    }
    for (const auto& a : t.added) {
      if (block_set(live).intersects(a.range)) {
        out.error = "refused to change " + label + ": " + a.range.to_string() + " overlaps an existing reservation; nothing was written";
        return out;
      }
    }
    if (options.dry_run) {
      PortSet after = block_set(live);
      for (const auto& r : t.removed) after.erase(r.range);
      for (const auto& a : t.added) after.insert(a.range);
      out.changed = true;
      out.after = format_port_list(after);
      return out;
    }
    Backup backup;
    backup.target = t.target;
    backup.protocol = protocol;
    backup.previous_reservations = live;
    backup.reason = options.reason;
    out.backup_id = backups_.save(backup);

    std::vector<std::string> problems;
    for (const auto& r : t.removed) {
      try {
        reservations_.remove(protocol, r.range.first(), static_cast<std::uint16_t>(r.range.size()));
        out.changed = true;
        if (ledger_ != nullptr) ledger_->erase(protocol, r.range.first(), static_cast<std::uint16_t>(r.range.size()));
      } catch (const std::exception& e) {
        problems.push_back("deleting " + r.range.to_string() + ": " + e.what());
      }
    }
    for (const auto& a : t.added) {
      try {
        const auto count = static_cast<std::uint16_t>(a.range.size());
        const std::uint64_t token = reservations_.create(protocol, a.range.first(), count);
        out.changed = true;
        if (ledger_ != nullptr) ledger_->add(PersistentReservation{protocol, a.range.first(), count, token});
      } catch (const PortsInUseError& e) {
        problems.push_back("cannot reserve " + a.range.to_string() + "/" + std::string(to_string(protocol)) + ": " + e.what());
      } catch (const std::exception& e) {
        problems.push_back("creating " + a.range.to_string() + ": " + e.what());
      }
    }
    const auto now = reservations_.list(protocol, candidates);
    out.after = describe_reservations(now);
    for (const auto& a : t.added) {
      const bool there = std::any_of(now.begin(), now.end(), [&](const auto& b) { return block_range(b) == a.range; });
      const bool reported = std::any_of(problems.begin(), problems.end(), [&](const std::string& p) { return p.find(a.range.to_string()) != std::string::npos; });
      if (!there && !reported) problems.push_back("verification failed: " + a.range.to_string() + " is not reserved after creating it");
    }
    for (const auto& p : problems) {
      if (!out.error.empty()) out.error += "; ";
      out.error += p;
    }
  } catch (const std::exception& e) {
    if (!out.error.empty()) out.error += "; ";
    out.error += label + ": " + e.what();
  }
  return out;
}

std::optional<PortRange> Applier::read_dynamic_range(RangeRestore restore, Protocol protocol, bool& max_user_port_present,
                                                     std::optional<RawRegistryValue>& raw) {
  if (restore == RangeRestore::max_user_port) {
    if (auto* raw_access = dynamic_cast<RawRegistryAccess*>(&registry_)) raw = raw_access->read_raw(registry_paths::tcpip_parameters, max_user_port_value);
    const auto value = registry_.read_dword(registry_paths::tcpip_parameters, max_user_port_value);
    max_user_port_present = value.has_value();
    // As the probe reads it: a value outside 5000..65534 is ignored by Windows (default 5000).
    return PortRange::make(min_dynamic_range_start, value && *value >= 5000 && *value <= 65534 ? *value : 5000);
  }
  if (wmi_ == nullptr) return std::nullopt;
  return wmi_->read(protocol);
}

RangeOutcome Applier::write_dynamic_range(RangeOutcome out, RangeRestore restore, Protocol protocol, PortRange want, Backup backup) {
  out.backup_id = backups_.save(std::move(backup));
  try {
    if (restore == RangeRestore::max_user_port) {
      auto* raw_access = dynamic_cast<RawRegistryAccess*>(&registry_);
      if (raw_access == nullptr) throw Error("the registry store cannot write REG_DWORD values");
      raw_access->write_raw(registry_paths::tcpip_parameters, max_user_port_value, dword_value(want.last()));
    } else {
      wmi_->write(protocol, want);
    }
    out.changed = true;
    bool present = false;
    std::optional<RawRegistryValue> raw;
    const auto back = read_dynamic_range(restore, protocol, present, raw);
    out.after = back ? back->to_string() : std::string("(unreadable)");
    if (back != want)
      out.error = "verification failed: the " + std::string(to_string(protocol)) + " dynamic port range reads " + out.after + " after setting " +
                  want.to_string() + "; the previous range is in backup " + out.backup_id;
  } catch (const std::exception& e) {
    out.error = e.what() + std::string("; the previous range is in backup ") + out.backup_id;
  }
  return out;
}

RangeOutcome Applier::apply_dynamic_range(const DynamicRangePlan& d, const ApplyOptions& options, bool& conflict) {
  RangeOutcome out;
  out.protocol = d.protocol;
  out.method = range_method(d.restore, d.protocol);
  out.takes_effect = d.restore == RangeRestore::max_user_port ? TakesEffect::next_boot : TakesEffect::immediately;
  out.before = d.current.to_string();
  const std::string what = "the " + std::string(to_string(d.protocol)) + " dynamic port range";
  if (const std::string problem = range_write_problem(d.restore, d.expected.range); !problem.empty()) {
    out.error = "refused to set " + what + " to " + d.expected.range.to_string() + ": " + problem + "; nothing was written";
    return out;
  }
  if (d.restore == RangeRestore::wmi && wmi_ == nullptr) {
    out.error = "WMI (" + out.method + ") is not available to PortGuard here; nothing was written";
    return out;
  }
  try {
    bool present = false;
    std::optional<RawRegistryValue> raw;
    const auto live = read_dynamic_range(d.restore, d.protocol, present, raw);
    if (!live) {
      out.error = "WMI " + out.method + " did not answer when " + what + " was read again; nothing was written";
      return out;
    }
    out.before = live->to_string();
    if (*live == d.expected.range) return out;   // already back (MaxUserPort: restored for the other protocol)
    if (*live != d.current) {
      conflict = true;   // changed since the snapshot: re-plan
      return out;
    }
    if (options.dry_run) {
      out.changed = true;
      out.after = d.expected.range.to_string();
      return out;
    }
    Backup backup;
    backup.dynamic_range = DynamicRangeBackup{out.method, d.protocol, *live};
    backup.reason = options.reason;
    if (d.restore == RangeRestore::max_user_port) {
      backup.key = std::string(registry_paths::tcpip_parameters);
      backup.value = std::string(max_user_port_value);
      backup.previous.present = raw.has_value() || present;
      backup.previous_raw = raw;
    }
    return write_dynamic_range(std::move(out), d.restore, d.protocol, d.expected.range, std::move(backup));
  } catch (const std::exception& e) {
    out.error = std::string(e.what()) + "; nothing was written";
    return out;
  }
}

RangeOutcome Applier::restore_dynamic_range(const Backup& b, bool dry_run) {
  const DynamicRangeBackup& d = b.dynamic_range.value();
  const bool max_user_port = d.method == max_user_port_value;
  if (!max_user_port && d.method != range_method(RangeRestore::wmi, d.protocol))
    throw RefusedError("backup " + b.id + " names the method '" + d.method + "', which PortGuard does not write for " +
                       std::string(to_string(d.protocol)) + "; refusing to restore it");
  if (max_user_port && (b.key != registry_paths::tcpip_parameters || b.value != max_user_port_value))
    throw RefusedError("backup " + b.id + " names " + b.key + "\\" + b.value + ", which is not MaxUserPort; refusing to restore it");
  const RangeRestore restore = max_user_port ? RangeRestore::max_user_port : RangeRestore::wmi;
  RangeOutcome out;
  out.protocol = d.protocol;
  out.method = d.method;
  out.takes_effect = max_user_port ? TakesEffect::next_boot : TakesEffect::immediately;
  // MaxUserPort is restored byte-exact (also "absent"); a WMI range is validated like a repair.
  if (!max_user_port) {
    if (const std::string problem = range_write_problem(restore, d.previous); !problem.empty()) {
      out.error = "refused to restore " + d.previous.to_string() + ": " + problem + "; nothing was written";
      return out;
    }
    if (wmi_ == nullptr) {
      out.error = "WMI (" + d.method + ") is not available to PortGuard here; backup " + b.id + " cannot be restored here";
      return out;
    }
  }
  bool present = false;
  std::optional<RawRegistryValue> raw;
  const auto live = read_dynamic_range(restore, d.protocol, present, raw);
  out.before = live ? live->to_string() : std::string("(unreadable)");
  if (dry_run) {
    out.changed = true;
    out.after = d.previous.to_string();
    return out;
  }
  Backup current;
  current.dynamic_range = DynamicRangeBackup{d.method, d.protocol, live.value_or(d.previous)};
  current.reason = "rollback of " + b.id;
  if (!max_user_port) return write_dynamic_range(std::move(out), restore, d.protocol, d.previous, std::move(current));
  current.key = b.key;
  current.value = b.value;
  current.previous.present = raw.has_value() || present;
  current.previous_raw = raw;
  out.backup_id = backups_.save(std::move(current));
  auto* raw_access = dynamic_cast<RawRegistryAccess*>(&registry_);
  try {
    if (b.previous_raw && raw_access != nullptr) raw_access->write_raw(b.key, b.value, *b.previous_raw);
    else if (!b.previous.present && (raw || present)) registry_.delete_value(b.key, b.value);
    out.changed = true;
    std::optional<RawRegistryValue> back_raw;
    const auto back = read_dynamic_range(restore, d.protocol, present, back_raw);
    out.after = back ? back->to_string() : std::string("(unreadable)");
    if (raw_access != nullptr && back_raw != b.previous_raw)
      out.error = "verification failed: " + b.key + "\\" + b.value + " does not match backup " + b.id + " after restoring it";
  } catch (const std::exception& e) {
    out.error = e.what() + std::string("; the value before the rollback is in backup ") + out.backup_id;
  }
  return out;
}

TargetOutcome Applier::restore(const std::string& backup_id, bool dry_run) {
  const std::optional<Backup> found = backups_.load(backup_id);
  if (!found) throw InputError("backup id", "there is no backup '" + backup_id + "'; run 'portguard rollback --list' to see them");
  const Backup& b = *found;
  if (b.dynamic_range)
    throw RefusedError("backup " + backup_id + " holds a dynamic port range; restore it with Applier::restore_dynamic_range");
  TargetOutcome out;
  out.target = b.target;
  out.protocol = b.protocol;
  out.takes_effect = info(b.target).takes_effect;
  const std::string reason = "rollback of " + backup_id;

  if (b.target != Target::persistent_reservation) {
    // A backup file names the value it restores; only the target's own value may be written, so a
    // tampered or foreign file cannot steer a write elsewhere in the registry.
    const auto loc = *registry_location(b.target);
    if (!iequals_ascii(b.key, loc.key) || !iequals_ascii(b.value, loc.value))
      throw RefusedError("backup " + backup_id + " names " + b.key + "\\" + b.value + ", which is not where " + std::string(to_string(b.target)) +
                         " lives (" + std::string(loc.key) + "\\" + std::string(loc.value) + "); refusing to restore it");
    auto* raw_access = dynamic_cast<RawRegistryAccess*>(&registry_);
    std::optional<RawRegistryValue> live_raw;
    MultiStringValue live;
    if (raw_access != nullptr) {
      live_raw = raw_access->read_raw(b.key, b.value);
      if (live_raw) live = decode_multi_sz(*live_raw);
    } else {
      live = registry_.read_multi_string(b.key, b.value);
    }
    out.before = live.strings;
    if (dry_run) {
      out.changed = true;
      out.after = b.previous.strings;
      return out;
    }
    Backup current;
    current.target = b.target;
    current.key = b.key;
    current.value = b.value;
    current.previous = live;
    current.previous_raw = live_raw;
    current.reason = reason;
    out.backup_id = backups_.save(current);
    try {
      if (!b.previous.present) {
        if (live.present) registry_.delete_value(b.key, b.value);
      } else if (b.previous_raw && raw_access != nullptr) {
        raw_access->write_raw(b.key, b.value, *b.previous_raw);
      } else {
        registry_.write_multi_string(b.key, b.value, b.previous.strings);
      }
      out.changed = true;
      bool same = false;
      if (raw_access != nullptr && (b.previous_raw || !b.previous.present)) {
        const auto back = raw_access->read_raw(b.key, b.value);
        same = back == b.previous_raw;
        if (back) out.after = decode_multi_sz(*back).strings;
      } else {
        const auto back = registry_.read_multi_string(b.key, b.value);
        out.after = back.strings;
        same = back.present == b.previous.present && back.strings == b.previous.strings;
      }
      if (!same) out.error = "verification failed: " + b.key + "\\" + b.value + " does not match backup " + backup_id + " after restoring it";
    } catch (const std::exception& e) {
      out.error = e.what() + std::string("; the value before the rollback is in backup ") + out.backup_id;
    }
    return out;
  }

  if (!b.protocol) throw InputError(backup_id, "persistent-reservation backup without a protocol");
  const Protocol protocol = *b.protocol;
  if (!reservations_.available()) {
    out.error = "persistent port reservations are unavailable on this host; backup " + backup_id + " cannot be restored here";
    return out;
  }
  std::vector<PortRange> candidates;
  for (const auto& r : b.previous_reservations) candidates.push_back(block_range(r));
  const auto live = reservations_.list(protocol, candidates);
  out.before = describe_reservations(live);
  auto same_block = [](const PersistentReservation& x, const PersistentReservation& y) { return x.start == y.start && x.count == y.count; };
  if (dry_run) {
    out.changed = true;
    out.after = describe_reservations(b.previous_reservations);
    return out;
  }
  Backup current;
  current.target = b.target;
  current.protocol = protocol;
  current.previous_reservations = live;
  current.reason = reason;
  out.backup_id = backups_.save(current);
  std::vector<std::string> problems;
  for (const auto& r : live) {
    if (std::none_of(b.previous_reservations.begin(), b.previous_reservations.end(), [&](const auto& p) { return same_block(p, r); })) {
      try {
        reservations_.remove(protocol, r.start, r.count);
        out.changed = true;
        if (ledger_ != nullptr) ledger_->erase(protocol, r.start, r.count);
      } catch (const std::exception& e) {
        problems.push_back(e.what());
      }
    }
  }
  for (const auto& p : b.previous_reservations) {
    if (std::none_of(live.begin(), live.end(), [&](const auto& r) { return same_block(p, r); })) {
      try {
        reservations_.create(protocol, p.start, p.count);
        out.changed = true;
      } catch (const std::exception& e) {
        problems.push_back(e.what());
      }
    }
  }
  out.after = describe_reservations(reservations_.list(protocol, candidates));
  for (const auto& p : problems) out.error += (out.error.empty() ? "" : "; ") + p;
  if (out.error.empty() && out.after != describe_reservations(b.previous_reservations))
    out.error = "verification failed: the persistent reservations do not match backup " + backup_id + " after restoring it";
  return out;
}

} // namespace portguard
