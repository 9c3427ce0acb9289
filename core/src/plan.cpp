#include "portguard/core/plan.hpp"

#include "portguard/core/port_list_codec.hpp"
#include "portguard/core/ports.hpp"
#include "portguard/core/text.hpp"

#include <algorithm>
#include <array>
#include <tuple>

namespace portguard {

std::string_view to_string(Mode mode) noexcept {
  return mode == Mode::exact ? "exact" : "merge";
}

std::optional<Mode> parse_mode(std::string_view text) noexcept {
  if (text == "merge") return Mode::merge;
  if (text == "exact") return Mode::exact;
  return std::nullopt;
}

std::string_view to_string(Severity severity) noexcept {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "?";
}

std::optional<Severity> parse_severity(std::string_view text) noexcept {
  if (text == "info") return Severity::info;
  if (text == "warning") return Severity::warning;
  if (text == "error") return Severity::error;
  return std::nullopt;
}

bool RangeChange::broader_than_required() const {
  if (why.empty()) return false;
  std::vector<PortRange> needed;
  needed.reserve(why.size());
  for (const auto& r : why) needed.push_back(r.ports);
  return !PortSet::from_ranges(std::move(needed)).contains(range);
}

bool ReservationPlan::has_changes() const noexcept {
  return std::any_of(targets.begin(), targets.end(), [](const TargetPlan& t) { return t.has_changes(); }) ||
         std::any_of(dynamic_ranges.begin(), dynamic_ranges.end(), [](const DynamicRangePlan& d) { return d.has_changes(); });
}

std::string dynamic_range_problem(PortRange range) {
  if (range.first() < min_dynamic_range_start)
    return "starts at " + std::to_string(range.first()) + ", below " + std::to_string(min_dynamic_range_start) +
           " (Windows never hands out lower ports at random; the default range is 49152-65535)";
  if (range.size() < min_dynamic_range_ports)
    return "has " + std::to_string(range.size()) + " ports, fewer than the " + std::to_string(min_dynamic_range_ports) +
           " Windows requires (fewer risks port exhaustion)";
  return {};
}

std::string_view to_string(RangeRestore restore) noexcept {
  switch (restore) {
    case RangeRestore::wmi: return "wmi";
    case RangeRestore::max_user_port: return "max-user-port";
    case RangeRestore::manual: return "manual";
  }
  return "?";
}

bool ReservationPlan::blocked() const noexcept {
  return std::any_of(findings.begin(), findings.end(), [](const Finding& f) { return f.blocks_repair; });
}

const TargetPlan* ReservationPlan::find(Target target, std::optional<Protocol> protocol) const noexcept {
  for (const auto& t : targets)
    if (t.target == target && (!protocol || t.protocol == protocol)) return &t;
  return nullptr;
}

namespace {

using ReqRefs = std::vector<const Requirement*>;

/// No Windows version hands out a port below this one at random: 2003 allocates from
/// 1025..MaxUserPort, Vista/2008 and later from a dynamic range that starts at 1025 or higher. So a
/// reservation below it protects nothing, and no target receives one.
constexpr Port first_random_port = 1025;

/// The service whose own random allocations a target steers: its own ports never need excluding
/// from that allocator (DNS binds 53 itself; its socket pool never hands it out).
std::string_view allocator_service(Target target) {
  return target == Target::dns_socket_pool ? std::string_view("DNS") : std::string_view();
}

/// The part of a requirement that `target` receives (docs/policy.md, "What each target holds"):
///  - nothing below 1025, in any target;
///  - nothing the target's own allocator service needs (DNS's ports in DNS's socket pool);
///  - dns-socket-pool: UDP only;
///  - reserved-ports: 1025 and up, also outside today's dynamic range (1025..MaxUserPort). The
///    value takes effect only at the next boot, the same boot that applies a MaxUserPort widening:
///    written after the widening is seen, it would leave the port exposed for a whole boot;
///  - dns-socket-pool and persistent-reservation: only the part inside today's dynamic range, the
///    only ports these allocators hand out. DNS starts after PortGuard (DependOnService), so a
///    widening that takes effect at boot is seen before DNS reads its exclusions; a block takes
///    effect at once, and one over a port its owner holds cannot even be created
///    (ERROR_SHARING_VIOLATION).
PortSet receivable(Target target, const Requirement& r, const std::optional<DynamicPortRange>& dynamic) {
  if (r.ports.last() < first_random_port) return {};
  const std::string_view own = allocator_service(target);
  if (!own.empty() && iequals_ascii(r.service, own)) return {};
  if (target == Target::dns_socket_pool && r.protocol != Protocol::udp) return {};
  PortSet ports{PortRange::make(std::max<long>(r.ports.first(), first_random_port), r.ports.last())};
  if (target != Target::reserved_ports && dynamic) return ports.intersected(PortSet{dynamic->range});
  return ports;
}

/// "IAS (catalog: RADIUS legacy auth/accounting); IAS (policy policy.toml:9: RADIUS)": every reason
/// of a condition, each once, in requirement order.
std::string describe_all(const ReqRefs& reqs) {
  std::string out;
  std::vector<std::string> seen;
  for (const Requirement* r : reqs) {
    std::string d = describe(*r);
    if (std::find(seen.begin(), seen.end(), d) != seen.end()) continue;
    out += (out.empty() ? "" : "; ") + d;
    seen.push_back(std::move(d));
  }
  return out;
}

std::vector<Requirement> copies(const ReqRefs& reqs) {
  std::vector<Requirement> out;
  out.reserve(reqs.size());
  for (const Requirement* r : reqs) out.push_back(*r);
  return out;
}

/// The requirements of `protocol` whose ports overlap `range`, in requirement order.
ReqRefs overlapping(const Requirements& reqs, Protocol protocol, PortRange range) {
  ReqRefs out;
  for (const auto& r : reqs)
    if (r.protocol == protocol && r.ports.overlaps(range)) out.push_back(&r);
  return out;
}


std::string ports_text(Protocol protocol, PortRange range) {
  return std::string(protocol == Protocol::udp ? "UDP " : "TCP ") +
         (range.first() == range.last() ? std::to_string(range.first()) : range.to_string());
}

std::string protocol_upper(Protocol p) { return p == Protocol::udp ? "UDP" : "TCP"; }

std::string target_label(Target target, std::optional<Protocol> protocol) {
  std::string label(to_string(target));
  if (protocol) label += "/" + std::string(to_string(*protocol));
  return label;
}

/// The ranges of `set`, each with the requirements whose ports overlap it (in requirement order).
std::vector<RangeChange> explain(const PortSet& set, const ReqRefs& reqs) {
  std::vector<RangeChange> out;
  out.reserve(set.ranges().size());
  for (const auto& r : set) out.push_back({r, {}});
  if (out.empty()) return out;
  for (const Requirement* req : reqs) {
    auto it = std::lower_bound(out.begin(), out.end(), req->ports.first(),
                               [](const RangeChange& c, Port p) { return c.range.last() < p; });
    for (; it != out.end() && it->range.first() <= req->ports.last(); ++it) {
      if (!it->why.empty() && it->why.back() == *req) continue;  // duplicate requirement
      it->why.push_back(*req);
    }
  }
  return out;
}

PortSet union_of(const ReqRefs& reqs) {
  std::vector<PortRange> ranges;
  ranges.reserve(reqs.size());
  for (const Requirement* r : reqs) ranges.push_back(r->ports);
  return PortSet::from_ranges(std::move(ranges));
}

struct Planner {
  const HostSnapshot& snap;
  const Requirements& reqs;
  const PlanSettings& settings;
  ReservationPlan& out;

  // Per managed target, what it will hold after apply (for the dynamic-range rail).
  struct Holding {
    Target target;
    std::optional<Protocol> protocol;
    PortSet before;
    PortSet after;
  };
  std::vector<Holding> holdings;
  std::optional<PortSet> reserved_cache;

  /// The excluded ranges of `protocol` whose holder passes `wanted`, as one set (any IP version).
  template <typename Pred>
  PortSet exclusions(Protocol protocol, Pred wanted) const {
    std::vector<PortRange> ranges;
    if (snap.excluded_ranges)
      for (const auto& e : *snap.excluded_ranges)
        if (e.protocol == protocol && wanted(e)) ranges.push_back(e.range);
    return PortSet::from_ranges(std::move(ranges));
  }
  /// Administered ranges PortGuard did not create: they protect the ports they cover (automatic
  /// allocation skips them), and a block PortGuard would create over them fails (they overlap).
  PortSet administered_by_others(Protocol protocol) const {
    return exclusions(protocol, [](const ExcludedRange& e) { return e.holder == ExclusionHolder::administrator; });
  }
  /// Ranges HNS/WinNAT hold at run time: they block even the service's own bind (WSAEACCES).
  PortSet held_by_system(Protocol protocol) const {
    return exclusions(protocol, [](const ExcludedRange& e) { return e.holder == ExclusionHolder::system; });
  }
  /// Only blocks PortGuard created (its ledger, as the capture recorded it) may ever be deleted;
  /// a snapshot that does not say who made a block (older snapshots) protects it.
  bool created_by_portguard(Protocol protocol, PortRange block) const {
    if (!snap.excluded_ranges) return false;
    return std::any_of(snap.excluded_ranges->begin(), snap.excluded_ranges->end(), [&](const ExcludedRange& e) {
      return e.protocol == protocol && e.range == block && e.holder == ExclusionHolder::portguard;
    });
  }

  /// The ports ReservedPorts holds now (parsed once: the value may have 65,535 entries).
  const PortSet& reserved_ports_now() {
    if (!reserved_cache) reserved_cache = parse_port_list(snap.reserved_ports.strings, EntryDetail::none).ports;
    return *reserved_cache;
  }

  void add(std::string code, Severity severity, bool blocks, std::string message, std::optional<Target> target = std::nullopt) {
    Finding f;
    f.code = std::move(code);
    f.severity = severity;
    f.blocks_repair = blocks;
    f.message = std::move(message);
    f.target = target;
    out.findings.push_back(std::move(f));
  }

  /// A condition about required ports: one finding, every requirement that explains it.
  void add_condition(std::string code, Severity severity, std::string message, Protocol protocol, PortRange range,
                     const ReqRefs& why, std::optional<PortInUse> holder = std::nullopt) {
    Finding f;
    f.code = std::move(code);
    f.severity = severity;
    f.message = std::move(message);
    f.requirements = copies(why);
    if (!f.requirements.empty()) f.requirement = f.requirements.front();
    f.holder = std::move(holder);
    f.protocol = protocol;
    f.range = range;
    out.findings.push_back(std::move(f));
  }

  /// A safety rail fired: blocking error unless the policy's allowance lifts it.
  void rail(std::string code, bool allowed, std::string_view allowance, std::string message, std::optional<Target> target) {
    if (allowed) {
      add(std::move(code), Severity::info, false,
          message + " Permitted by the policy ([guard.allow] " + std::string(allowance) + " = true).", target);
    } else {
      add(std::move(code), Severity::error, true,
          message + " Repair is blocked; if this is intended, allow it in the policy with [guard.allow] " +
              std::string(allowance) + " = true.",
          target);
    }
  }

  /// What `target` receives of these requirements (see receivable()).
  PortSet receivable_union(Target target, const ReqRefs& refs) const {
    std::vector<PortRange> ranges;
    for (const Requirement* r : refs)
      for (const auto& part : receivable(target, *r, snap.dynamic_range(r->protocol))) ranges.push_back(part);
    return PortSet::from_ranges(std::move(ranges));
  }

  ReqRefs relevant(Target target, std::optional<Protocol> protocol) const {
    ReqRefs refs;
    refs.reserve(reqs.size());
    for (const auto& r : reqs) {
      if (target == Target::dns_socket_pool && r.protocol != Protocol::udp) continue;
      if (protocol && r.protocol != *protocol) continue;
      refs.push_back(&r);
    }
    return refs;
  }

  void check_common_rails(const TargetPlan& tp, const PortSet& before, const PortSet& after, bool value_had_entries) {
    const std::string label = target_label(tp.target, tp.protocol);
    if (!tp.has_changes()) return;
    if (!tp.removed.empty() && settings.mode == Mode::exact) {
      PortSet removed;
      for (const auto& c : tp.removed) removed.insert(c.range);
      rail("rail-removals", settings.allow.removals, "removals",
           "Exact mode would remove " + std::to_string(removed.count()) + " reserved port(s) from " + label + " (" +
               removed.to_string() + ") that no requirement of the policy owns.",
           tp.target);
    }
    if (after.count() > settings.limits.max_reserved_ports && after.count() > before.count()) {
      rail("rail-max-ports", settings.allow.large_reservations, "large_reservations",
           "The plan would reserve " + std::to_string(after.count()) + " ports in " + label + ", more than the limit of " +
               std::to_string(settings.limits.max_reserved_ports) + ".",
           tp.target);
    }
    if (value_had_entries && after.empty() && tp.unrecognised.empty()) {
      rail("rail-empties-value", settings.allow.empty_value, "empty_value",
           "The plan would leave " + label + " empty although it holds reservations now.", tp.target);
    }
  }

  void plan_registry(Target target, const MultiStringValue& value, bool available, std::string unavailable_reason) {
    TargetPlan tp;
    tp.target = target;
    tp.effective = is_effective(target, snap.version);
    tp.available = available;
    tp.current = value.strings;
    const PortList found = parse_port_list(value.strings, EntryDetail::none);
    if (target == Target::reserved_ports) reserved_cache = found.ports;
    tp.unrecognised = found.unrecognised;
    const std::string name(to_string(target));

    if (!available) {
      tp.desired = tp.current;
      tp.kept = explain(found.ports, relevant(target, std::nullopt));
      add("unavailable", Severity::info, false, std::move(unavailable_reason), target);
      out.targets.push_back(std::move(tp));
      return;
    }

    const ReqRefs refs = relevant(target, std::nullopt);
    const PortSet required = receivable_union(target, refs);
    PortSet after;
    if (settings.mode == Mode::merge) {
      after = found.ports.united(required);
      tp.kept = explain(found.ports, refs);
    } else {
      // Exact mode removes what nobody in the policy owns; an entry a requirement covers stays even
      // where the target would not receive it today (a 53 entry protects nothing, but is not wrong).
      const PortSet keep = found.ports.intersected(required.united(union_of(refs)));
      after = required.united(keep);
      tp.kept = explain(keep, refs);
      tp.removed = explain(found.ports.minus(keep), refs);
    }
    tp.added = explain(required.minus(found.ports), refs);
    tp.desired = format_port_list(after, found.unrecognised);
    tp.rewrite = tp.desired != tp.current || !value.type_problem.empty();

    if (!value.type_problem.empty()) {
      add("value-type", Severity::warning, false,
          "The " + name + " value cannot be trusted as it is (" + value.type_problem +
              "); it will be backed up and rewritten as a canonical REG_MULTI_SZ.",
          target);
    }
    if (found.blank_entries > 0) {
      add("blank-entries", Severity::info, false,
          "The " + name + " value contains " + std::to_string(found.blank_entries) +
              " empty string(s); they are dropped when the value is rewritten.",
          target);
    }
    if (!found.unrecognised.empty()) {
      // Only the unrecognised entries are parsed again, for their explanations.
      const PortList detail = parse_port_list(found.unrecognised);
      std::string list;
      std::size_t shown = 0;
      for (const auto& e : detail.entries) {
        if (shown++ == 5) { list += ", ..."; break; }
        list += (list.empty() ? "" : ", ") + ("\"" + e.raw + "\" (" + e.problem + ")");
      }
      // Informational: the entries are kept and harm nothing; a port they were meant to reserve is
      // reported as missing by the plan itself.
      add("unrecognised-entry", Severity::info, false,
          "The " + name + " value has " + std::to_string(found.unrecognised.size()) +
              (found.unrecognised.size() == 1 ? " entry that is not a port range" : " entries that are not port ranges") +
              ", kept as they are: " + list + ".",
          target);
    }
    check_common_rails(tp, found.ports, after, !found.ports.empty());
    holdings.push_back({target, std::nullopt, found.ports, after});
    out.targets.push_back(std::move(tp));
  }

  void report_foreign_block(Protocol protocol, PortRange block) {
    add("foreign-block", Severity::info, false,
        "The persistent " + protocol_upper(protocol) + " reservation " + block.to_string() +
            " is not required by the policy, but PortGuard did not create it (it is not in PortGuard's ledger), so exact "
            "mode leaves it in place; delete it yourself if it is no longer wanted.",
        Target::persistent_reservation);
  }

  void plan_persistent(Protocol protocol) {
    TargetPlan tp;
    tp.target = Target::persistent_reservation;
    tp.protocol = protocol;
    tp.effective = is_effective(tp.target, snap.version);
    const ReqRefs refs = relevant(tp.target, protocol);

    if (!snap.persistent_reservations) {
      tp.available = false;
      add("unavailable", tp.effective ? Severity::warning : Severity::info, false,
          "Persistent " + protocol_upper(protocol) + " port reservations are not available on this host (" +
              snap.version.describe() + "): the " + protocol_upper(protocol) +
              " ports are protected only by the registry targets, if any.",
          tp.target);
      out.targets.push_back(std::move(tp));
      return;
    }

    // Existing reservations of this protocol, ascending: each is a block that can only be deleted
    // with exactly its start and count.
    std::vector<PortRange> blocks;
    for (const auto& r : *snap.persistent_reservations) {
      if (r.protocol != protocol || r.start == 0 || r.count == 0) continue;
      const long last = long{r.start} + r.count - 1;
      blocks.push_back(PortRange::make(r.start, std::min(last, 65535L)));
    }
    std::sort(blocks.begin(), blocks.end());
    blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
    for (const auto& b : blocks) tp.current.push_back(b.to_string());
    const PortSet before = PortSet::from_ranges(blocks);
    // `owned`: what the policy stands behind (exact mode keeps existing blocks inside it).
    // `required`: what needs a new block. Reservations only steer automatic (port 0) allocation,
    // which draws from the dynamic range alone, so a port outside it needs none; and creating one
    // for a port its owner holds (53, 445, 1433 ...) fails with ERROR_SHARING_VIOLATION on every pass.
    const PortSet owned = union_of(refs);
    const PortSet required = receivable_union(tp.target, refs);
    // A block cannot be created while one of its ports is bound; those ports are deferred to a
    // later pass (at boot the guard runs before the services it protects), and the conflict or
    // in-use finding says who holds them.
    PortSet busy;
    for (const auto& in_use : snap.ports_in_use)
      if (in_use.protocol == protocol && required.contains(in_use.port)) busy.insert(PortRange::single(in_use.port));

    PortSet kept_set;
    if (settings.mode == Mode::merge) {
      kept_set = before;
      for (const auto& b : blocks) tp.kept.push_back(explain(PortSet{b}, refs).front());
    } else {
      for (const auto& b : blocks) {
        auto change = explain(PortSet{b}, refs).front();
        if (owned.contains(b) || !created_by_portguard(protocol, b)) {
          // Someone else's block stays whatever the policy says: PortGuard deletes only its own.
          if (!owned.contains(b)) report_foreign_block(protocol, b);
          kept_set.insert(b);
          tp.kept.push_back(std::move(change));
        } else {
          // A block only partly required is deleted whole (deletes must match the block exactly);
          // its required part comes back as an added block below.
          tp.removed.push_back(std::move(change));
        }
      }
    }
    // An administered range someone else made already protects the ports it covers, and a range
    // the system holds cannot be overlapped now (the held-by-system finding says what to do):
    // creating a block over either fails with ERROR_SHARING_VIOLATION on every pass.
    const PortSet covered = administered_by_others(protocol).united(held_by_system(protocol));
    const PortSet to_create = required.minus(kept_set).minus(busy).minus(covered);
    const PortSet deferred = required.minus(kept_set).minus(covered).intersected(busy);
    if (!deferred.empty()) {
      add("deferred", Severity::info, false,
          "Persistent " + protocol_upper(protocol) + " reservation of " + deferred.to_string() +
              " deferred: the port(s) are bound right now, and Windows refuses a reservation over a port in use; "
              "PortGuard creates it once they are free (at the latest at the next boot, before the services it protects start).",
          tp.target);
    }
    tp.added = explain(to_create, refs);
    for (const auto& c : tp.added) tp.desired.push_back(c.range.to_string());
    const PortSet after = kept_set.united(to_create);
    check_common_rails(tp, before, after, !before.empty());
    holdings.push_back({tp.target, protocol, before, after});
    out.targets.push_back(std::move(tp));
  }

  std::vector<Target> wanted_targets() {
    std::vector<Target> wanted;
    if (settings.targets) {
      for (const auto& t : all_targets())
        if (std::find(settings.targets->begin(), settings.targets->end(), t.target) != settings.targets->end())
          wanted.push_back(t.target);
    } else {
      for (const auto& t : all_targets())
        if (is_effective(t.target, snap.version)) wanted.push_back(t.target);
    }
    return wanted;
  }

  void plan_targets() {
    const auto wanted = wanted_targets();
    for (Target t : wanted) {
      const bool effective = is_effective(t, snap.version);
      const std::size_t first_new = out.targets.size();
      if (!effective) {
        // Informational: the admin asked for it explicitly; saying so once per plan is enough.
        add("not-effective", Severity::info, false,
            "The policy forces " + std::string(to_string(t)) + ", but " + snap.version.describe() +
                " does not honour it; it is managed anyway and protects nothing here.",
            t);
      }
      switch (t) {
        case Target::reserved_ports: plan_registry(t, snap.reserved_ports, true, {}); break;
        case Target::dns_socket_pool: {
          // Only meaningful where the DNS Server is installed; a policy listing the target
          // explicitly manages it regardless (e.g. before DNS is installed).
          const bool dns = snap.find_service("DNS") != nullptr || snap.dns_socket_pool_excluded.present ||
                           settings.targets.has_value();
          plan_registry(t, snap.dns_socket_pool_excluded, dns,
                        "The DNS Server service is not installed, so SocketPoolExcludedPortRanges is not managed.");
          break;
        }
        case Target::persistent_reservation:
          plan_persistent(Protocol::udp);
          plan_persistent(Protocol::tcp);
          break;
      }
      for (std::size_t i = first_new; i < out.targets.size(); ++i) out.targets[i].forced = !effective;
    }
    // An admin may believe ReservedPorts still protects this host: say it does not.
    if (std::find(wanted.begin(), wanted.end(), Target::reserved_ports) == wanted.end() &&
        !is_effective(Target::reserved_ports, snap.version)) {
      const PortSet& found = reserved_ports_now();
      if (!found.empty()) {
        add("not-effective", Severity::info, false,
            "ReservedPorts holds " + found.to_string() + ", but " + snap.version.describe() +
                " ignores ReservedPorts (KB 812873); those ports are not protected by it.",
            Target::reserved_ports);
      }
    }
  }

  /// The rails judge the plan's result AND what the host holds now: a value that already starves
  /// the dynamic range, or already reserves more than the limit, is an error even when the plan
  /// adds nothing (the host cannot open outbound connections; PortGuard is the tool that sees it).
  void check_dynamic_rail() {
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      const auto dyn = snap.dynamic_range(p);
      if (!dyn) continue;
      const PortSet range{dyn->range};
      PortSet before;
      PortSet after;
      std::vector<std::string> holders;
      PortSet needed;   // what the holding targets must keep: the ports services need
      bool changed = false;
      for (const auto& h : holdings) {
        // The DNS socket pool exclusions do not take ports out of the dynamic range for others.
        if (h.target == Target::dns_socket_pool) continue;
        if (h.protocol && *h.protocol != p) continue;
        if (!is_effective(h.target, snap.version)) continue;
        before.insert(h.before);
        after.insert(h.after);
        changed = changed || h.before != h.after;
        if (h.before.intersects(dyn->range)) {
          holders.push_back(target_label(h.target, h.protocol));
          needed.insert(receivable_union(h.target, relevant(h.target, p)));
        }
      }
      const std::uint32_t free_before = dyn->range.size() - before.intersected(range).count();
      const std::uint32_t free_after = dyn->range.size() - after.intersected(range).count();
      const std::string minimum = " (at least " + std::to_string(settings.limits.min_free_dynamic_ports) + " must stay free)";
      if (free_before < settings.limits.min_free_dynamic_ports) {
        current_value_problem("starves-dynamic-range", settings.allow.shrink_dynamic, "shrink_dynamic",
                              "What " + join(holders, " and ") + " reserve" + (holders.size() == 1 ? "s" : "") +
                                  " now leaves only " + std::to_string(free_before) + " free " + protocol_upper(p) +
                                  " ports in the dynamic range " + dyn->range.to_string() + minimum +
                                  ": programs on this host can run out of ports for outbound connections.",
                              "Keep only the ports services need (" + (needed.empty() ? std::string("none of the required ports is in the range") : needed.to_string()) +
                                  "; portguard plan gives the reason for each): replace the broad entries, or roll back to an earlier "
                                  "backup (portguard rollback --list)",
                              std::nullopt);
      }
      if (changed && free_after < settings.limits.min_free_dynamic_ports && free_after < free_before) {
        rail("rail-dynamic-range", settings.allow.shrink_dynamic, "shrink_dynamic",
             "The plan would leave only " + std::to_string(free_after) + " free " + protocol_upper(p) +
                 " ports in the dynamic range " + dyn->range.to_string() + minimum + ".",
             std::nullopt);
      }
    }
    for (const auto& h : holdings) {
      if (!is_effective(h.target, snap.version) || h.before.count() <= settings.limits.max_reserved_ports) continue;
      current_value_problem("too-many-reserved", settings.allow.large_reservations, "large_reservations",
                            target_label(h.target, h.protocol) + " holds " + std::to_string(h.before.count()) +
                                " ports now, more than the limit of " + std::to_string(settings.limits.max_reserved_ports) + ".",
                            "Reserve only the ports services need (portguard plan lists them with the reason for each), or raise "
                            "[guard.limits] max_reserved_ports if this is intended",
                            h.target);
    }
  }

  /// A rail broken by the value as it is now: an error (not blocking: the plan may still add what is
  /// needed), or info when the policy's allowance says it is intended.
  void current_value_problem(std::string code, bool allowed, std::string_view allowance, std::string message,
                             std::string_view what_to_do, std::optional<Target> target) {
    if (allowed) {
      add(std::move(code), Severity::info, false,
          message + " Permitted by the policy ([guard.allow] " + std::string(allowance) + " = true).", target);
    } else {
      add(std::move(code), Severity::error, false, message + " " + std::string(what_to_do) + ".", target);
    }
  }

  /// What the effective mechanism holds right now, per protocol (index: Protocol value).
  std::array<PortSet, 2> protected_now() {
    std::array<PortSet, 2> held;
    if (is_effective(Target::reserved_ports, snap.version)) {
      const PortSet& reserved = reserved_ports_now();
      held = {reserved, reserved};
    } else if (snap.persistent_reservations) {
      std::array<std::vector<PortRange>, 2> blocks;
      for (const auto& pr : *snap.persistent_reservations)
        if (pr.start != 0 && pr.count != 0)
          blocks[static_cast<std::size_t>(pr.protocol)].push_back(
              PortRange::make(pr.start, std::min(long{pr.start} + pr.count - 1, 65535L)));
      for (std::size_t i = 0; i < 2; ++i) held[i] = PortSet::from_ranges(std::move(blocks[i]));
    }
    if (is_effective(Target::persistent_reservation, snap.version)) {
      // Administered exclusions are persistent reservations too, whoever made them.
      for (Protocol p : {Protocol::udp, Protocol::tcp})
        held[static_cast<std::size_t>(p)].insert(exclusions(p, [](const ExcludedRange& e) { return e.administered(); }));
    }
    return held;
  }

  /// Ports below 1025 that a required range straddles are left out of every target: said once per
  /// (protocol, range), with every requirement concerned. Ranges wholly below 1025 (53, 88, 123 ...)
  /// are simply not reservation material and are not mentioned: a healthy DC stays quiet.
  void report_left_out() {
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      std::vector<PortRange> left;
      for (const auto& r : reqs)
        if (r.protocol == p && r.ports.first() < first_random_port && r.ports.last() >= first_random_port)
          left.push_back(PortRange::make(r.ports.first(), first_random_port - 1));
      for (const auto& range : PortSet::from_ranges(std::move(left))) {
        ReqRefs why;
        for (const Requirement* r : overlapping(reqs, p, range))
          if (r->ports.last() >= first_random_port) why.push_back(r);
        add_condition("left-out", Severity::info,
                      ports_text(p, range) + " of the range needed by " + describe_all(why) +
                          " is left out of every target: no Windows version hands out a port below 1025 at random, so "
                          "reserving it would protect nothing. The ports from 1025 up are planned.",
                      p, range, why);
      }
    }
  }

  void report_invalid_ports() {
    for (const auto& r : reqs) {
      // PortRange cannot hold port 0 today; the rail stays so that a future widening of the type
      // (or a corrupted value) can never reach a registry write.
      if (r.ports.first() != 0) continue;
      add_condition("rail-invalid-port", Severity::error,
                    "The requirement " + describe(r) + " covers port 0, which is not a port that can be reserved.", r.protocol,
                    r.ports, ReqRefs{&r});
      out.findings.back().blocks_repair = true;
    }
  }

  /// A required port inside the dynamic range: one finding per maximal range of required ports that
  /// is either reserved already (info) or not (warning), with every requirement it serves.
  void report_at_risk() {
    const auto held = protected_now();
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      const auto dyn = snap.dynamic_range(p);
      if (!dyn) continue;
      std::vector<PortRange> needed;
      for (const auto& r : reqs)
        if (r.protocol == p && r.ports.first() != 0) needed.push_back(r.ports);
      // Ports a system range holds get the louder held-by-system finding instead.
      const PortSet exposed = PortSet::from_ranges(std::move(needed)).intersected(PortSet{dyn->range}).minus(held_by_system(p));
      const PortSet& reserved = held[static_cast<std::size_t>(p)];
      std::vector<std::pair<PortRange, bool>> parts;
      for (const auto& range : exposed.intersected(reserved)) parts.emplace_back(range, true);
      for (const auto& range : exposed.minus(reserved).minus(exposed_by_widening[static_cast<std::size_t>(p)]))
        parts.emplace_back(range, false);
      std::sort(parts.begin(), parts.end());
      for (const auto& [range, safe] : parts) {
        const ReqRefs why = overlapping(reqs, p, range);
        add_condition("at-risk", safe ? Severity::info : Severity::warning,
                      ports_text(p, range) + " needed by " + describe_all(why) + " lies inside the dynamic port range " +
                          dyn->range.to_string() +
                          (dyn->source.empty() ? std::string() : " (" + dyn->source + (dyn->assumed ? ", assumed" : "") + ")") +
                          (safe ? protected_by(p, range)
                                : "; any program asking for a random port, such as the DNS socket pool, can take it."),
                      p, range, why);
      }
    }
  }

  /// "; it is reserved already." — naming the excluded range when only an administered range
  /// someone else made protects it (the plan says by what).
  std::string protected_by(Protocol protocol, PortRange range) const {
    const PortSet others = administered_by_others(protocol);
    if (!others.contains(range)) return "; it is reserved already.";
    for (const auto& e : *snap.excluded_ranges)
      if (e.protocol == protocol && e.holder == ExclusionHolder::administrator && e.range.overlaps(range))
        return "; it is protected by the excluded range " + e.range.to_string() + "/" + std::string(to_string(protocol)) + ", " +
               std::string(e.describe_holder()) + ".";
    return "; it is reserved already.";
  }

  /// A required port inside a range the system holds at run time (HNS/WinNAT): nothing can bind it,
  /// not even the service that needs it (WSAEACCES 10013). One finding per maximal range of
  /// required ports inside one system range.
  void report_held_by_system() {
    if (!snap.excluded_ranges) return;
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      std::vector<PortRange> needed;
      for (const auto& r : reqs)
        if (r.protocol == p) needed.push_back(r.ports);
      const PortSet required = PortSet::from_ranges(std::move(needed));
      std::vector<PortRange> seen;
      for (const auto& e : *snap.excluded_ranges) {
        if (e.protocol != p || e.holder != ExclusionHolder::system) continue;
        if (std::find(seen.begin(), seen.end(), e.range) != seen.end()) continue;  // the IPv4 and IPv6 rows of one range
        seen.push_back(e.range);
        for (const auto& range : required.intersected(PortSet{e.range})) {
          const ReqRefs why = overlapping(reqs, p, range);
          add_condition("held-by-system", Severity::error,
                        ports_text(p, range) + " needed by " + describe_all(why) + " lies inside the excluded range " +
                            e.range.to_string() + "/" + std::string(to_string(p)) +
                            " held by the system at run time (HNS/WinNAT, for Hyper-V, WSL or Docker): every bind fails "
                            "with WSAEACCES 10013 and netstat shows no owner. Fix: a persistent exclusion for it must exist "
                            "before that component starts. Keep it in the policy, make HNS wait for PortGuard (portguard "
                            "protect --service hns) and restart the host: PortGuard reserves the port before HNS/WinNAT start. "
                            "Do not restart winnat on a running host: that breaks running WSL distributions.",
                        p, range, why);
        }
      }
    }
  }

  /// Required ports bound right now: one finding per (protocol, port, holder) — a port bound over
  /// IPv4 and IPv6 by the same process, or needed by two requirements, is one condition.
  void report_holders() {
    std::vector<PortInUse> in_use;
    for (const auto& u : snap.ports_in_use) {
      PortInUse h = snap.named_holder(u);
      if (std::find(in_use.begin(), in_use.end(), h) == in_use.end()) in_use.push_back(std::move(h));
    }
    std::stable_sort(in_use.begin(), in_use.end(), [](const PortInUse& a, const PortInUse& b) {
      return std::tie(a.protocol, a.port, a.pid) < std::tie(b.protocol, b.port, b.pid);
    });
    for (const auto& holder : in_use) {
      const ReqRefs why = overlapping(reqs, holder.protocol, PortRange::single(holder.port));
      if (why.empty()) continue;
      report_holder(holder, why);
    }
  }

  void report_holder(const PortInUse& holder, const ReqRefs& why) {
    // The service that needs the port: the first requirement naming one (a port has one owner:
    // the policy module rejects two services for the same port).
    const Requirement* r = why.front();
    for (const Requirement* q : why)
      if (!q->service.empty()) { r = q; break; }
    const ServiceInfo* needing = r->service.empty() ? nullptr : snap.find_service(r->service);
    // In use by its owner when the holder is (or hosts, or is the kernel listener of) any service
    // that needs the port: IKEEXT's svchost holding UDP 4500, which PolicyAgent also needs.
    bool owner = false;
    for (const Requirement* q : why) {
      const ServiceInfo* s = q->service.empty() ? nullptr : snap.find_service(q->service);
      if (holder.hosts(q->service) || holder.kernel_listener_of(q->service) ||
          (holder.pid != 0 && s != nullptr && s->pid == holder.pid)) {
        owner = true;
        break;
      }
    }
    const bool known = !(holder.pid == 0 && holder.service.empty() && holder.process.empty());

    const PortRange port = PortRange::single(holder.port);
    const std::string port_text = ports_text(holder.protocol, port);
    const std::string reasons = describe_all(why);
    if (owner) {
      add_condition("in-use-by-owner", Severity::info, (port_text + " is in use by " + holder.describe_holder() +
                                                                     ", the service that needs it (" + reasons + ")."),
                    holder.protocol, port, why, holder);
    } else if (!known && needing != nullptr && needing->state != ServiceState::running &&
               needing->state != ServiceState::start_pending) {
      // The owner cannot be read (e.g. under Wine), but the service that needs the port is
      // installed and not running, so the holder cannot be it: a real conflict, typically the
      // reason that service failed to start.
      add_condition("conflict", Severity::error,
                    port_text + " needed by " + reasons + " is held by " + holder.describe_holder() + " while " + r->service +
                        " is not running; " + r->service + " cannot bind it until that process releases it.",
                    holder.protocol, port, why, holder);
    } else if (!known) {
      // The owner cannot be read and nothing shows it is someone else: the service that needs the
      // port is running (most likely it is the holder), or not installed (nothing fails now).
      // Informational, so a healthy host stays quiet where owners cannot be read (Wine).
      const std::string who = r->service.empty() ? std::string("the intended service") : r->service;
      add_condition("conflict", Severity::info,
                    port_text + " needed by " + reasons + " is in use by an unknown process (the owner could not be read); " +
                        (needing != nullptr ? who + " is running, so it is most likely " + who + " itself."
                                            : who + " is not installed, so nothing fails now; if the holder is not " + who +
                                                  ", " + who + " cannot bind it once installed."),
                    holder.protocol, port, why, holder);
    } else {
      add_condition("conflict", Severity::error,
                    port_text + " needed by " + reasons + " is held by " + holder.describe_holder() +
                        (r->service.empty() ? std::string() : "; " + r->service + " cannot bind it until that process releases it") +
                        (is_effective(Target::persistent_reservation, snap.version)
                             ? std::string("; a persistent reservation covering it cannot be created while it is held")
                             : std::string()) +
                        ".",
                    holder.protocol, port, why, holder);
    }
  }

  // --- [guard.dynamic_range] (issue 16 item 1) ---------------------------------------------------

  /// Per protocol, required ports that the policy's expected range keeps out of the dynamic range,
  /// that the current (widened) range exposes, and that no effective mechanism reserves. Reported as
  /// dynamic-range-exposes instead of at-risk: one exposure, one alert.
  std::array<PortSet, 2> exposed_by_widening;

  /// The commands an administrator runs where Windows documents no interface PortGuard may call.
  static std::string netsh_commands(Protocol p, PortRange r) {
    const std::string args = std::string(to_string(p)) + " start=" + std::to_string(r.first()) + " num=" + std::to_string(r.size());
    return "netsh int ipv4 set dynamicport " + args + " and netsh int ipv6 set dynamicport " + args;
  }

  /// How this host's range of `p` can be put back to `want`, and what that means.
  std::pair<RangeRestore, std::string> restore_path(Protocol p, PortRange want, const DynamicPortRange& now) const {
    const WindowsVersion& v = snap.version;
    if (v.major < 6) {
      // Windows 2000/XP/2003: one range for TCP and UDP, 1025..MaxUserPort, MaxUserPort 5000..65534.
      for (const auto& other : settings.dynamic_ranges) {
        if (other.protocol != p && other.range != want)
          return {RangeRestore::manual, "MaxUserPort sets one range for TCP and UDP, but [guard.dynamic_range] expects " +
                                            want.to_string() + " for " + std::string(to_string(p)) + " and " + other.range.to_string() +
                                            " for " + std::string(to_string(other.protocol)) + "; expect the same range for both"};
      }
      if (want.first() != min_dynamic_range_start || want.last() < 5000 || want.last() > 65534)
        return {RangeRestore::manual, "on " + v.describe() + " the range is always 1025..MaxUserPort with MaxUserPort from 5000 to 65534, so " +
                                          want.to_string() + " cannot be set; expect a range such as \"1025-5000\" (the default)"};
      return {RangeRestore::max_user_port, "PortGuard sets " + std::string(registry_paths::tcpip_parameters) + "\\MaxUserPort = " +
                                               std::to_string(want.last()) + " (REG_DWORD); it takes effect at the next boot"};
    }
    const bool wmi = v.major > 6 || v.minor >= 2;
    const std::string cls = p == Protocol::udp ? "MSFT_NetUDPSetting" : "MSFT_NetTCPSetting";
    if (wmi && now.source == cls)
      return {RangeRestore::wmi, "PortGuard sets DynamicPortRangeStartPort = " + std::to_string(want.first()) +
                                     " and DynamicPortRangeNumberOfPorts = " + std::to_string(want.size()) + " on every " + cls +
                                     " instance (WMI root\\StandardCimv2); it takes effect at once"};
    return {RangeRestore::manual, std::string(wmi ? "WMI " + cls + " could not be read here, so PortGuard does not write it"
                                                  : v.describe() + " offers no documented interface to set the range") +
                                      "; as an administrator run: " + netsh_commands(p, want)};
  }

  void plan_dynamic_ranges() {
    for (const auto& want : settings.dynamic_ranges) {
      const auto now = snap.dynamic_range(want.protocol);
      if (!now) continue;
      DynamicRangePlan d;
      d.protocol = want.protocol;
      d.expected = want;
      d.current = now->range;
      d.current_source = now->source;
      // 2003's default (MaxUserPort not set) is a fact, not a guess; elsewhere "assumed" means unread.
      d.known = !now->assumed || snap.version.major < 6;
      std::tie(d.restore, d.how) = restore_path(want.protocol, want.range, *now);
      const std::string proto = protocol_upper(want.protocol);
      if (!d.known) {
        add("dynamic-range-unknown", Severity::info, false,
            "The " + proto + " dynamic port range could not be read (" + now->source + "), so [guard.dynamic_range] (" + want.source +
                ", " + want.range.to_string() + ") cannot be checked. Read it with: netsh int ipv4 show dynamicport " +
                std::string(to_string(want.protocol)) + ", and record it as REG_SZ \"start-end\" in HKLM\\SOFTWARE\\PortGuard\\Parameters\\DynamicPortRange" +
                (want.protocol == Protocol::udp ? "Udp" : "Tcp") + ".");
      } else if (d.drifted()) {
        Finding f;
        f.code = "dynamic-range-drift";
        f.severity = Severity::warning;
        f.message = "The " + proto + " dynamic port range is " + d.current.to_string() + " (" + d.current_source + "), but the policy expects " +
                    want.range.to_string() + " (" + want.source + "); " + d.how + ".";
        f.protocol = want.protocol;
        f.range = d.current;
        out.findings.push_back(std::move(f));
        exposed_by_widening[static_cast<std::size_t>(want.protocol)] =
            PortSet{d.current}.minus(PortSet{want.range});   // narrowed below to required, unreserved ports
      }
      out.dynamic_ranges.push_back(std::move(d));
    }
  }

  /// Required ports the widening exposes, not reserved by any effective mechanism: one error per
  /// maximal range, naming the port and every service that needs it.
  void report_widening_exposures() {
    const auto held = protected_now();
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      PortSet& exposed = exposed_by_widening[static_cast<std::size_t>(p)];
      if (exposed.empty()) continue;
      std::vector<PortRange> needed;
      for (const auto& r : reqs)
        if (r.protocol == p && r.ports.first() != 0) needed.push_back(r.ports);
      exposed = exposed.intersected(PortSet::from_ranges(std::move(needed))).minus(held[static_cast<std::size_t>(p)]);
      const DynamicRangePlan* d = nullptr;
      for (const auto& x : out.dynamic_ranges)
        if (x.protocol == p) d = &x;
      for (const auto& range : exposed) {
        const ReqRefs why = overlapping(reqs, p, range);
        add_condition("dynamic-range-exposes", Severity::error,
                      ports_text(p, range) + " needed by " + describe_all(why) + " is exposed: the dynamic port range was widened to " +
                          d->current.to_string() + " (" + d->current_source + "), the policy expects " + d->expected.range.to_string() +
                          ", and nothing reserves the port, so any program asking for a random port can take it. " +
                          (d->restore == RangeRestore::manual ? "Restore the range (" + d->how + ")"
                                                              : "Run portguard repair (or let the guard in enforce mode) restore the range") +
                          ".",
                      p, range, why);
      }
    }
  }

  void analyse_risks() {
    report_invalid_ports();
    report_left_out();
    report_widening_exposures();
    report_at_risk();
    report_held_by_system();
    report_holders();
  }
};

} // namespace

ReservationPlan plan(const HostSnapshot& snapshot, const Requirements& requirements, const PlanSettings& settings) {
  ReservationPlan out;
  out.version = snapshot.version;
  out.settings = settings;
  Planner planner{snapshot, requirements, settings, out, {}, {}, {}};
  planner.plan_targets();
  planner.plan_dynamic_ranges();
  planner.check_dynamic_rail();
  planner.analyse_risks();
  return out;
}

} // namespace portguard
