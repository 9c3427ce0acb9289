#include "portguard/core/assess.hpp"

#include <algorithm>

namespace portguard {
namespace {

/// The blocks to look up: each requirement's range, and the merged ranges the planner creates
/// blocks for (adjacent requirements become one block).
std::vector<PortRange> reservation_candidates(const Requirements& requirements) {
  std::vector<PortRange> out;
  std::vector<PortRange> per_protocol[2];
  for (const auto& r : requirements) {
    out.push_back(r.ports);
    per_protocol[static_cast<int>(r.protocol)].push_back(r.ports);
  }
  for (auto& ranges : per_protocol)
    for (const auto& merged : PortSet::from_ranges(std::move(ranges)))
      if (std::find(out.begin(), out.end(), merged) == out.end()) out.push_back(merged);
  return out;
}

/// Confirms the table rows that matter: for each required port the connection tables list as in
/// use, an exclusive bind must fail; a row whose bind succeeds was stale and is dropped.
/// N.B. never probe a port the tables report free: binding it, even for a moment, could make the
/// very service PortGuard protects fail to start (at boot they start side by side).
void confirm_in_use(HostSnapshot& host, const Requirements& requirements, SystemProbe& probe) {
  PortSet required[2];
  for (const auto& r : requirements) required[static_cast<int>(r.protocol)].insert(r.ports);
  std::uint32_t probed = 0;
  PortSet stale[2];
  PortSet confirmed[2];
  for (const auto& u : host.ports_in_use) {
    const int proto = static_cast<int>(u.protocol);
    if (!required[proto].contains(u.port) || confirmed[proto].contains(u.port) || stale[proto].contains(u.port)) continue;
    if (probed++ >= max_probed_ports) break;
    (probe.port_in_use(u.protocol, u.port) ? confirmed : stale)[proto].insert(PortRange::single(u.port));
  }
  std::erase_if(host.ports_in_use, [&](const PortInUse& u) { return stale[static_cast<int>(u.protocol)].contains(u.port); });
}

/// Every persistent reservation is an administered excluded range; those in PortGuard's ledger are
/// PortGuard's (the only ones it may ever delete), the others someone else's. One reservation
/// covers IPv4 and IPv6, as `netsh int ipv4|ipv6 show excludedportrange` both list it.
void record_ownership(HostSnapshot& host, const std::vector<PersistentReservation>& created) {
  auto& list = *host.excluded_ranges;
  if (host.persistent_reservations) {
    for (const auto& r : *host.persistent_reservations) {
      if (r.start == 0 || r.count == 0) continue;
      const auto range = PortRange::make(r.start, std::min(long{r.start} + r.count - 1, 65535L));
      for (IpVersion ip : {IpVersion::v4, IpVersion::v6}) {
        // Seen already (the Nsi registry, a snapshot that says who made it): the look-up only confirms it.
        auto same = std::find_if(list.begin(), list.end(), [&](const ExcludedRange& e) {
          return e.protocol == r.protocol && e.ip == ip && e.range == range && e.administered();
        });
        ExcludedRange seen{r.protocol, ip, range, same == list.end() ? ExclusionHolder::administrator : same->holder,
                           "persistent reservation look-up"};
        add_exclusion(list, std::move(seen));
      }
    }
  }
  auto in_ledger = [&](const ExcludedRange& e) {
    return std::any_of(created.begin(), created.end(), [&](const PersistentReservation& c) {
      return c.protocol == e.protocol && c.start == e.range.first() && std::uint32_t{c.count} == e.range.size();
    });
  };
  for (auto& e : list)
    if (e.holder == ExclusionHolder::administrator && in_ledger(e)) e.holder = ExclusionHolder::portguard;
}

/// Required ports that nothing lists — no row in the connection tables, no known exclusion — but
/// that a range the system holds at run time (HNS/WinNAT) may cover: an exclusive bind tells
/// (WSAEACCES 10013 without an owner). Windows offers no documented way to list those ranges.
/// N.B. probed are only ports inside the dynamic range (HNS/WinNAT take their ranges from it) whose
/// services are neither running nor starting: a running service may bind its port at any moment,
/// and a moment's bind by PortGuard must never make it fail. The bind is released at once.
void probe_system_exclusions(HostSnapshot& host, const Requirements& requirements, SystemProbe& probe) {
  if (!host.excluded_ranges) return;
  std::uint32_t probed = 0;
  for (Protocol p : {Protocol::udp, Protocol::tcp}) {
    const auto dyn = host.dynamic_range(p);
    if (!dyn) continue;
    std::vector<PortRange> wanted;
    for (const auto& r : requirements) {
      if (r.protocol != p) continue;
      const ServiceInfo* s = r.service.empty() ? nullptr : host.find_service(r.service);
      if (s != nullptr && (s->state == ServiceState::running || s->state == ServiceState::start_pending)) continue;
      wanted.push_back(r.ports);
    }
    PortSet candidates = PortSet::from_ranges(std::move(wanted)).intersected(PortSet{dyn->range});
    for (const auto& u : host.ports_in_use)
      if (u.protocol == p) candidates.erase(PortRange::single(u.port));
    for (const auto& e : *host.excluded_ranges)
      if (e.protocol == p && e.holder == ExclusionHolder::system) candidates.erase(e.range);
    PortSet blocked;
    for (const auto& range : candidates) {
      for (std::uint32_t port = range.first(); port <= range.last(); ++port) {
        if (probed++ >= max_probed_ports) break;
        if (classify_bind(probe.try_exclusive_bind(p, static_cast<Port>(port)), false) == PortBlock::excluded_by_system)
          blocked.insert(PortRange::single(static_cast<Port>(port)));
      }
    }
    // Only the probed ports are known to be inside the range; its real bounds stay unknown.
    for (const auto& range : blocked)
      add_exclusion(*host.excluded_ranges,
                    {p, IpVersion::v4, range, ExclusionHolder::system, "exclusive-bind probe: WSAEACCES 10013, no owner in the connection tables"});
  }
}

} // namespace

std::string_view to_string(BindOutcome outcome) noexcept {
  switch (outcome) {
    case BindOutcome::bound: return "bound";
    case BindOutcome::address_in_use: return "address-in-use";
    case BindOutcome::access_denied: return "access-denied";
    case BindOutcome::not_probed: return "not-probed";
  }
  return "?";
}

PortBlock classify_bind(BindOutcome outcome, bool listed_in_use) noexcept {
  switch (outcome) {
    case BindOutcome::bound: return PortBlock::free;
    case BindOutcome::address_in_use: return PortBlock::in_use;
    case BindOutcome::access_denied: return listed_in_use ? PortBlock::in_use : PortBlock::excluded_by_system;
    case BindOutcome::not_probed: return PortBlock::unknown;
  }
  return PortBlock::unknown;
}

void add_exclusion(std::vector<ExcludedRange>& list, ExcludedRange range) {
  for (auto& e : list) {
    if (e.protocol != range.protocol || e.ip != range.ip || e.range != range.range || e.holder != range.holder) continue;
    if (!range.source.empty() && e.source.find(range.source) == std::string::npos)
      e.source += (e.source.empty() ? "" : "; ") + range.source;
    return;
  }
  list.push_back(std::move(range));
}

Assessment assess(SystemProbe& host, const RequirementSource& policy, const PlanSettings& settings, ServiceDetail detail) {
  Assessment a;
  a.host = host.capture(policy.configured_port_queries(), detail);
  a.requirements = policy.requirements_for(a.host);
  if (a.host.persistent_reservations) {
    // Windows cannot enumerate persistent reservations: look up the blocks this pass needs.
    if (auto found = host.look_up_reservations(reservation_candidates(a.requirements))) a.host.persistent_reservations = std::move(found);
  }
  if (a.host.excluded_ranges) record_ownership(a.host, host.created_by_portguard());
  confirm_in_use(a.host, a.requirements, host);
  probe_system_exclusions(a.host, a.requirements, host);
  a.plan = plan(a.host, a.requirements, settings);
  return a;
}

} // namespace portguard
