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

void confirm_in_use(HostSnapshot& host, const Requirements& requirements, SystemProbe& probe) {
  std::uint32_t probed = 0;
  PortSet done[2];
  for (const auto& r : requirements) {
    PortSet& seen = done[static_cast<int>(r.protocol)];
    for (std::uint32_t p = r.ports.first(); p <= r.ports.last() && probed < max_probed_ports; ++p) {
      const auto port = static_cast<Port>(p);
      if (seen.contains(port)) continue;
      seen.insert(PortRange::single(port));
      const bool listed = std::any_of(host.ports_in_use.begin(), host.ports_in_use.end(),
                                      [&](const PortInUse& u) { return u.protocol == r.protocol && u.port == port; });
      if (listed) continue;
      ++probed;
      // The tables can miss a socket (another compartment, a race): an exclusive bind cannot.
      if (probe.port_in_use(r.protocol, port)) host.ports_in_use.push_back(PortInUse{r.protocol, port, 0, "", ""});
    }
  }
  std::sort(host.ports_in_use.begin(), host.ports_in_use.end(),
            [](const PortInUse& a, const PortInUse& b) { return std::tie(a.protocol, a.port, a.pid) < std::tie(b.protocol, b.port, b.pid); });
}

} // namespace

Assessment assess(LiveHost& live, const config::Policy& policy) {
  Assessment a;
  a.host = live.probe.capture(config::configured_port_queries(policy));
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
  return live.probe.capture(queries);
}

void print_policy_error(const config::PolicyError& e, const std::string& command, const std::string& file, cli::Io io) {
  for (const auto& d : e.diagnostics()) io.err << d.to_string() << '\n';
  io.err << "portguard " << command << ": the policy " << file << " is "
         << (dynamic_cast<const config::PolicyReadError*>(&e) ? "unreadable" : "invalid") << "; fix it (portguard validate) and try again\n";
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
