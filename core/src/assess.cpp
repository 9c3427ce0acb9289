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

} // namespace

Assessment assess(SystemProbe& host, const RequirementSource& policy, const PlanSettings& settings, ServiceDetail detail) {
  Assessment a;
  a.host = host.capture(policy.configured_port_queries(), detail);
  a.requirements = policy.requirements_for(a.host);
  if (a.host.persistent_reservations) {
    // Windows cannot enumerate persistent reservations: look up the blocks this pass needs.
    if (auto found = host.look_up_reservations(reservation_candidates(a.requirements))) a.host.persistent_reservations = std::move(found);
  }
  confirm_in_use(a.host, a.requirements, host);
  a.plan = plan(a.host, a.requirements, settings);
  return a;
}

} // namespace portguard
