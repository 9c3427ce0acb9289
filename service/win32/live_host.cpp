#include "win32/live_host.hpp"

#include "win32/paths.hpp"

#include <ostream>

namespace portguard::win32 {

LiveHost::LiveHost()
    : data_dir(win32::data_dir()),
      ledger(reservation_ledger_file()),
      reservations(&ledger),
      probe(registry, reservations),
      backups(backups_dir(), clock),
      applier(registry, reservations, backups, &ledger) {}

PolicyChoice choose_policy(const std::string& file, const std::string& services_file, bool optional) {
  std::error_code ec;
  if (optional && !std::filesystem::exists(file, ec)) {
    PolicyChoice c;
    c.policy.source = "<no policy: built-in catalog>";
    c.policy.catalog = config::builtin_catalog();
    return c;
  }
  return PolicyChoice{config::load_policy(file, services_file), true};
}

namespace {

constexpr std::uint32_t max_probed_ports = 4096;   // bounds the exclusive-bind probes per run

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

Assessment assess(LiveHost& live, const config::Policy& policy, ServiceDetail detail) {
  Assessment a;
  a.host = live.probe.capture(config::configured_port_queries(policy), detail);
  a.requirements = config::requirements_for(policy, a.host);
  if (live.reservations.available()) {
    // Windows cannot enumerate persistent reservations: look up the blocks the policy needs.
    std::vector<PortRange> candidates;
    for (const auto& r : a.requirements) candidates.push_back(r.ports);
    live.reservations.set_candidates(candidates);
    std::vector<PersistentReservation> all = live.reservations.list(Protocol::udp);
    for (auto& r : live.reservations.list(Protocol::tcp)) all.push_back(r);
    a.host.persistent_reservations = std::move(all);
  }
  confirm_in_use(a.host, a.requirements, live.probe);
  a.plan = plan(a.host, a.requirements, policy.plan);
  return a;
}

HostSnapshot capture_for_plan(const std::vector<ConfiguredPortQuery>& queries) {
  LiveHost live;
  return live.probe.capture(queries, ServiceDetail::state);
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += separator;
    out += s;
  }
  return out;
}

} // namespace portguard::win32
