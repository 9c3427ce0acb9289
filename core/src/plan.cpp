#include "portguard/core/plan.hpp"

#include "portguard/core/port_list_codec.hpp"
#include "text.hpp"

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

bool ReservationPlan::has_changes() const noexcept {
  return std::any_of(targets.begin(), targets.end(), [](const TargetPlan& t) { return t.has_changes(); });
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

  /// The ports ReservedPorts holds now (parsed once: the value may have 65,535 entries).
  const PortSet& reserved_ports_now() {
    if (!reserved_cache) reserved_cache = parse_port_list(snap.reserved_ports.strings, EntryDetail::none).ports;
    return *reserved_cache;
  }

  void add(std::string code, Severity severity, bool blocks, std::string message,
           std::optional<Target> target = std::nullopt, std::optional<Requirement> req = std::nullopt,
           std::optional<PortInUse> holder = std::nullopt) {
    out.findings.push_back({std::move(code), severity, blocks, std::move(message), target, std::move(req), std::move(holder)});
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
    const PortSet required = union_of(refs);
    PortSet after;
    if (settings.mode == Mode::merge) {
      after = found.ports.united(required);
      tp.kept = explain(found.ports, refs);
    } else {
      after = required;
      tp.kept = explain(found.ports.intersected(required), refs);
      tp.removed = explain(found.ports.minus(required), refs);
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
      add("unrecognised-entry", Severity::warning, false,
          "The " + name + " value has " + std::to_string(found.unrecognised.size()) +
              (found.unrecognised.size() == 1 ? " entry that is not a port range" : " entries that are not port ranges") +
              ", kept as they are: " + list + ".",
          target);
    }
    check_common_rails(tp, found.ports, after, !found.ports.empty());
    holdings.push_back({target, std::nullopt, found.ports, after});
    out.targets.push_back(std::move(tp));
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
    PortSet required = owned;
    if (const auto dynamic = snap.dynamic_range(protocol)) required = owned.intersected(PortSet{dynamic->range});
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
        if (owned.contains(b)) {
          kept_set.insert(b);
          tp.kept.push_back(std::move(change));
        } else {
          // A block only partly required is deleted whole (deletes must match the block exactly);
          // its required part comes back as an added block below.
          tp.removed.push_back(std::move(change));
        }
      }
    }
    const PortSet to_create = required.minus(kept_set).minus(busy);
    const PortSet deferred = required.minus(kept_set).intersected(busy);
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
        add("not-effective", Severity::warning, false,
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

  void check_dynamic_rail() {
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      const auto dyn = snap.dynamic_range(p);
      if (!dyn) continue;
      const PortSet range{dyn->range};
      PortSet before;
      PortSet after;
      bool changed = false;
      for (const auto& h : holdings) {
        // The DNS socket pool exclusions do not take ports out of the dynamic range for others.
        if (h.target == Target::dns_socket_pool) continue;
        if (h.protocol && *h.protocol != p) continue;
        if (!is_effective(h.target, snap.version)) continue;
        before.insert(h.before);
        after.insert(h.after);
        changed = changed || h.before != h.after;
      }
      if (!changed) continue;
      const std::uint32_t free_before = dyn->range.size() - before.intersected(range).count();
      const std::uint32_t free_after = dyn->range.size() - after.intersected(range).count();
      if (free_after < settings.limits.min_free_dynamic_ports && free_after < free_before) {
        rail("rail-dynamic-range", settings.allow.shrink_dynamic, "shrink_dynamic",
             "The plan would leave only " + std::to_string(free_after) + " free " + protocol_upper(p) +
                 " ports in the dynamic range " + dyn->range.to_string() + " (at least " +
                 std::to_string(settings.limits.min_free_dynamic_ports) + " must stay free).",
             std::nullopt);
      }
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
    return held;
  }

  void analyse_risks() {
    std::vector<PortInUse> in_use = snap.ports_in_use;
    std::sort(in_use.begin(), in_use.end(), [](const PortInUse& a, const PortInUse& b) {
      return std::tie(a.protocol, a.port, a.pid) < std::tie(b.protocol, b.port, b.pid);
    });
    const auto held = protected_now();
    for (const auto& r : reqs) {
      // PortRange cannot hold port 0 today; the rail stays so that a future widening of the type
      // (or a corrupted value) can never reach a registry write.
      if (r.ports.first() == 0) {
        add("rail-invalid-port", Severity::error, true,
            "The requirement " + describe(r) + " covers port 0, which is not a port that can be reserved.", std::nullopt, r);
        continue;
      }
      const std::string ports = protocol_upper(r.protocol) + " " +
                                (r.ports.first() == r.ports.last() ? std::to_string(r.ports.first()) : r.ports.to_string());

      if (const auto dyn = snap.dynamic_range(r.protocol); dyn && dyn->range.overlaps(r.ports)) {
        const bool safe = held[static_cast<std::size_t>(r.protocol)].contains(r.ports);
        add("at-risk", safe ? Severity::info : Severity::warning, false,
            ports + " needed by " + describe(r) + " lies inside the dynamic port range " + dyn->range.to_string() +
                (dyn->source.empty() ? std::string() : " (" + dyn->source + (dyn->assumed ? ", assumed" : "") + ")") +
                (safe ? "; it is reserved already." : "; any program asking for a random port, such as the DNS socket pool, can take it."),
            std::nullopt, r);
      }

      auto it = std::lower_bound(in_use.begin(), in_use.end(), std::pair{r.protocol, r.ports.first()},
                                 [](const PortInUse& u, const std::pair<Protocol, Port>& key) {
                                   return std::tie(u.protocol, u.port) < std::tie(key.first, key.second);
                                 });
      for (; it != in_use.end() && it->protocol == r.protocol && it->port <= r.ports.last(); ++it) {
        PortInUse holder = *it;
        const ServiceInfo* needing = r.service.empty() ? nullptr : snap.find_service(r.service);
        if (holder.service.empty() && holder.pid != 0) {
          // Name the holder from the service table when exactly one service runs in that process.
          const ServiceInfo* match = nullptr;
          int matches = 0;
          for (const auto& s : snap.services)
            if (s.pid == holder.pid) { match = &s; ++matches; }
          if (matches == 1) holder.service = match->name;
        }
        bool owner = false;
        bool known = true;
        if (!holder.service.empty() && !r.service.empty() && detail::iequals_ascii(holder.service, r.service)) owner = true;
        else if (holder.pid != 0 && needing != nullptr && needing->pid == holder.pid) owner = true;
        else if (holder.pid == 0 && holder.service.empty() && holder.process.empty()) known = false;

        const std::string port_text = protocol_upper(r.protocol) + " " + std::to_string(holder.port);
        if (owner) {
          add("in-use-by-owner", Severity::info, false,
              port_text + " is in use by " + holder.describe_holder() + ", the service that needs it (" + describe(r) + ").",
              std::nullopt, r, holder);
        } else if (!known && needing != nullptr && needing->state != ServiceState::running &&
                   needing->state != ServiceState::start_pending) {
          // The owner cannot be read (e.g. under Wine), but the service that needs the port is
          // installed and not running, so the holder cannot be it: a real conflict, typically the
          // reason that service failed to start.
          add("conflict", Severity::error, false,
              port_text + " needed by " + describe(r) + " is held by " + holder.describe_holder() + " while " + r.service +
                  " is not running; " + r.service + " cannot bind it until that process releases it.",
              std::nullopt, r, holder);
        } else if (!known) {
          add("conflict", Severity::warning, false,
              port_text + " needed by " + describe(r) + " is in use by an unknown process (the owner could not be read); "
              "if it is not " + (r.service.empty() ? std::string("the intended service") : r.service) + ", that service cannot bind it.",
              std::nullopt, r, holder);
        } else {
          add("conflict", Severity::error, false,
              port_text + " needed by " + describe(r) + " is held by " + holder.describe_holder() +
                  (r.service.empty() ? std::string() : "; " + r.service + " cannot bind it until that process releases it") +
                  (is_effective(Target::persistent_reservation, snap.version)
                       ? std::string("; a persistent reservation covering it cannot be created while it is held")
                       : std::string()) +
                  ".",
              std::nullopt, r, holder);
        }
      }
    }
  }
};

} // namespace

ReservationPlan plan(const HostSnapshot& snapshot, const Requirements& requirements, const PlanSettings& settings) {
  ReservationPlan out;
  out.version = snapshot.version;
  out.settings = settings;
  Planner planner{snapshot, requirements, settings, out, {}, {}};
  planner.plan_targets();
  planner.check_dynamic_rail();
  planner.analyse_risks();
  return out;
}

} // namespace portguard
