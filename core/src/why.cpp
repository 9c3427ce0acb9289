// `portguard why`: one port, read against one assessment. The order of the checks follows what a
// bind meets: a system exclusion refuses everyone, a holder refuses everyone else, the dynamic range
// and the reservations decide whether a random allocation can take the port later.
#include "portguard/core/why.hpp"

#include "portguard/core/error.hpp"
#include "portguard/core/port_list_codec.hpp"
#include "portguard/core/target.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace portguard {
namespace {

std::string upper(Protocol p) { return p == Protocol::udp ? "UDP" : "TCP"; }

std::string label(PortQuery q) { return upper(q.protocol) + " " + std::to_string(q.port); }

/// Same test as the planner's: the holder is (or hosts) a service that needs the port.
bool held_by_owner(const HostSnapshot& host, const PortInUse& holder, const std::vector<Requirement>& required) {
  return std::any_of(required.begin(), required.end(), [&](const Requirement& r) {
    const ServiceInfo* s = r.service.empty() ? nullptr : host.find_service(r.service);
    return holder.hosts(r.service) || holder.kernel_listener_of(r.service) || (holder.pid != 0 && s != nullptr && s->pid == holder.pid);
  });
}

std::vector<std::string> reservations_holding(const HostSnapshot& host, PortQuery q) {
  std::vector<std::string> out;
  if (host.reserved_ports.present && parse_port_list(host.reserved_ports.strings, EntryDetail::none).ports.contains(q.port)) {
    out.push_back(is_effective(Target::reserved_ports, host.version)
                      ? "ReservedPorts (Tcpip\\Parameters; effective from the next boot)"
                      : "ReservedPorts lists it, but " + host.version.describe() + " ignores ReservedPorts (KB 812873)");
  }
  if (host.persistent_reservations) {
    for (const auto& r : *host.persistent_reservations) {
      if (r.protocol != q.protocol || r.start == 0 || r.count == 0) continue;
      const auto block = PortRange::make(r.start, std::min(long{r.start} + r.count - 1, 65535L));
      if (block.contains(q.port)) out.push_back("persistent reservation " + block.to_string() + "/" + std::string(to_string(q.protocol)));
    }
  }
  if (q.protocol == Protocol::udp && host.dns_socket_pool_excluded.present &&
      parse_port_list(host.dns_socket_pool_excluded.strings, EntryDetail::none).ports.contains(q.port))
    out.push_back("the DNS socket pool exclusions (DNS\\Parameters\\SocketPoolExcludedPortRanges)");
  return out;
}

bool concerns(const Finding& f, PortQuery q) {
  if (f.holder && f.holder->protocol == q.protocol && f.holder->port == q.port) return true;
  return f.protocol == q.protocol && f.range && f.range->contains(q.port);
}

std::string reserve_snippet(PortQuery q) {
  return "a [[reserve]] entry with ports = [" + std::to_string(q.port) + "], protocol = \"" + std::string(to_string(q.protocol)) +
         "\" and the service that binds it";
}

void advise(const HostSnapshot& host, PortAnswer& a) {
  const bool required = !a.required_by.empty();
  const std::string port = label(a.query);
  switch (a.state) {
    case PortState::excluded_by_system:
      a.advice.push_back("Nothing can bind " + port + " while HNS/WinNAT hold the range; it is made again each time they start. "
                         "Keep the port out of it from the next boot on: " +
                         (required ? std::string("it is in the policy already; ") : "add it to the policy (" + reserve_snippet(a.query) + "), ") +
                         "run portguard protect --service hns so that HNS waits for PortGuard, and restart the host "
                         "(docs/docker-wsl.md). Do not restart winnat on a running host: it breaks running WSL distributions.");
      break;
    case PortState::in_use:
      for (const auto& h : a.holders)
        a.advice.push_back(h.describe_holder() + " holds " + port + ": stop or reconfigure it" +
                           (required ? " so that the service that needs the port can bind it." : " if another program needs the port."));
      break;
    case PortState::in_use_by_owner:
    case PortState::free: break;
  }
  const bool warned = std::any_of(a.findings.begin(), a.findings.end(), [](const Finding& f) {
    return f.code == "at-risk" && f.severity != Severity::info;
  });
  if (warned) {
    a.advice.push_back(a.state == PortState::in_use
                           ? "Then run portguard repair to reserve it, so that no random allocation takes it again (portguard plan shows the change first)."
                           : "Run portguard repair to reserve it (portguard plan shows the change first).");
  } else if (!required && a.in_dynamic_range && a.reserved_by.empty() && a.state != PortState::excluded_by_system &&
             std::none_of(a.exclusions.begin(), a.exclusions.end(), [](const ExcludedRange& e) { return e.administered(); })) {
    a.advice.push_back("It lies inside the dynamic range and nothing reserves it, so any program asking for a random port can take "
                       "it. If something needs it, add it to the policy (" + reserve_snippet(a.query) + ") and run portguard repair.");
  }
  if (host.version.major >= 6 && !a.exclusions_known)
    a.advice.push_back("This snapshot does not list excluded ranges (captured before PortGuard read them): capture it again with "
                       "portguard snapshot to see them.");
  if (a.advice.empty()) a.advice.push_back("Nothing to do.");
}

std::string exclusion_line(const ExcludedRange& e, bool both_ip_versions) {
  return e.range.to_string() + "/" + std::string(to_string(e.protocol)) + " " +
         (both_ip_versions ? std::string("IPv4+IPv6") : e.ip == IpVersion::v4 ? std::string("IPv4") : std::string("IPv6")) + ", " +
         std::string(e.describe_holder()) + (e.source.empty() ? std::string() : " [" + e.source + "]");
}

/// The exclusions as lines, the IPv4 and IPv6 rows of one range (same holder) shown once.
std::vector<std::string> exclusion_lines(const std::vector<ExcludedRange>& list) {
  std::vector<std::string> out;
  std::vector<const ExcludedRange*> done;
  for (const auto& e : list) {
    if (std::any_of(done.begin(), done.end(), [&](const ExcludedRange* d) { return d->range == e.range && d->holder == e.holder; })) continue;
    const bool both = std::any_of(list.begin(), list.end(), [&](const ExcludedRange& o) {
      return o.range == e.range && o.holder == e.holder && o.ip != e.ip;
    });
    done.push_back(&e);
    out.push_back(exclusion_line(e, both));
  }
  return out;
}

std::string state_text(const PortAnswer& a) {
  switch (a.state) {
    case PortState::free:
      return a.probe == BindOutcome::bound ? "free (an exclusive bind just succeeded and was released)"
                                           : "free (no row in the connection tables" +
                                                 std::string(a.probe == BindOutcome::not_probed ? "; nothing was bound" : "") + ")";
    case PortState::in_use_by_owner:
      return std::all_of(a.holders.begin(), a.holders.end(), [](const PortInUse& h) { return h.pid == 0 && h.process.empty(); })
                 ? "in use, most likely by the service that needs it (it runs; Windows did not name the owner)"
                 : "in use by the service that needs it";
    case PortState::in_use: return "in use: another bind fails with WSAEADDRINUSE 10048";
    case PortState::excluded_by_system:
      return "blocked: inside a range held by the system at run time (HNS/WinNAT); every bind fails with WSAEACCES 10013, and netstat shows no owner";
  }
  return "";
}

} // namespace

std::string_view to_string(PortState s) noexcept {
  switch (s) {
    case PortState::free: return "free";
    case PortState::in_use_by_owner: return "in-use-by-owner";
    case PortState::in_use: return "in-use";
    case PortState::excluded_by_system: return "excluded-by-system";
  }
  return "?";
}

std::vector<PortQuery> parse_port_query(std::string_view text) {
  const auto slash = text.find('/');
  const std::string_view number = text.substr(0, slash);
  unsigned long value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() || value < 1 || value > 65535)
    throw InputError(std::string(text), "expected a port number from 1 to 65535, optionally followed by /tcp or /udp (e.g. 3000/tcp)");
  const auto port = static_cast<Port>(value);
  if (slash == std::string_view::npos) return {{Protocol::tcp, port}, {Protocol::udp, port}};
  const auto protocol = parse_protocol(text.substr(slash + 1));
  if (!protocol) throw InputError(std::string(text), "the protocol after '/' must be tcp or udp");
  return {{*protocol, port}};
}

bool PortAnswer::clear() const noexcept {
  if (state == PortState::in_use || state == PortState::excluded_by_system) return false;
  return std::none_of(findings.begin(), findings.end(), [](const Finding& f) { return f.severity != Severity::info; });
}

PortAnswer answer_why(const Assessment& assessment, PortQuery query, BindOutcome probe) {
  const HostSnapshot& host = assessment.host;
  PortAnswer a;
  a.query = query;
  a.probe = probe;
  for (const auto& r : assessment.requirements)
    if (r.protocol == query.protocol && r.ports.contains(query.port)) a.required_by.push_back(r);
  for (const auto& u : host.ports_in_use) {
    if (u.protocol != query.protocol || u.port != query.port) continue;
    PortInUse h = host.named_holder(u);
    if (std::find(a.holders.begin(), a.holders.end(), h) == a.holders.end()) a.holders.push_back(std::move(h));
  }
  a.dynamic = host.dynamic_range(query.protocol);
  a.in_dynamic_range = a.dynamic && a.dynamic->range.contains(query.port);
  a.exclusions_known = host.excluded_ranges.has_value();
  a.exclusions = host.exclusions_covering(query.protocol, query.port);
  const bool system_known = std::any_of(a.exclusions.begin(), a.exclusions.end(), [](const ExcludedRange& e) { return !e.administered(); });
  const PortBlock probed = classify_bind(probe, !a.holders.empty());
  if (probed == PortBlock::excluded_by_system && !system_known) {
    a.exclusions.push_back({query.protocol, IpVersion::v4, PortRange::single(query.port), ExclusionHolder::system,
                            "exclusive-bind probe: WSAEACCES 10013, no owner in the connection tables"});
  }
  if (system_known || probed == PortBlock::excluded_by_system) {
    a.state = PortState::excluded_by_system;
  } else if (!a.holders.empty() || probed == PortBlock::in_use) {
    // As the planner judges it: where Windows does not name the owner (Wine, no permission) and a
    // service that needs the port runs, that service is most likely the holder.
    const bool needing_runs = std::any_of(a.required_by.begin(), a.required_by.end(), [&](const Requirement& r) {
      const ServiceInfo* s = r.service.empty() ? nullptr : host.find_service(r.service);
      return s != nullptr && s->state == ServiceState::running;
    });
    const bool owner = !a.holders.empty() && std::all_of(a.holders.begin(), a.holders.end(), [&](const PortInUse& h) {
      const bool unknown = h.pid == 0 && h.process.empty() && h.service.empty();
      return held_by_owner(host, h, a.required_by) || (unknown && needing_runs);
    });
    a.state = owner ? PortState::in_use_by_owner : PortState::in_use;
  }
  a.reserved_by = reservations_holding(host, query);
  // An administered range is a persistent reservation; say who made it, once for IPv4 and IPv6.
  for (const auto& e : a.exclusions) {
    if (!e.administered()) continue;
    const std::string block = e.range.to_string() + "/" + std::string(to_string(e.protocol));
    const std::string line = "excluded range " + block + ", " + std::string(e.describe_holder());
    std::erase(a.reserved_by, "persistent reservation " + block);
    if (std::find(a.reserved_by.begin(), a.reserved_by.end(), line) == a.reserved_by.end()) a.reserved_by.push_back(line);
  }
  for (const auto& f : assessment.plan.findings)
    if (concerns(f, query)) a.findings.push_back(f);
  advise(host, a);
  return a;
}

std::string render_why_text(const Assessment& assessment, const std::vector<PortAnswer>& answers) {
  const HostSnapshot& host = assessment.host;
  std::string out;
  for (const auto& a : answers) {
    if (!out.empty()) out += "\n";
    out += label(a.query) + " on " + (host.hostname.empty() ? std::string("this host") : host.hostname) + " (" + host.version.describe() + ")";
    out += a.clear() ? ": nothing stands in the way\n" : ": something stands in the way\n";
    out += "  state:          " + state_text(a) + "\n";
    if (a.holders.empty()) out += "  bound by:       nothing\n";
    for (const auto& h : a.holders) out += "  bound by:       " + h.describe_holder() + "\n";
    if (!a.dynamic) {
      out += "  dynamic range:  not known\n";
    } else {
      out += "  dynamic range:  " + std::string(a.in_dynamic_range ? "inside " : "outside ") + a.dynamic->range.to_string() +
             (a.dynamic->source.empty() ? std::string() : " (" + a.dynamic->source + (a.dynamic->assumed ? ", assumed" : "") + ")") + "\n";
    }
    if (host.version.major < 6 && a.exclusions.empty()) {
      out += "  excluded range: none (Windows before Vista/2008 has no excluded port ranges)\n";
    } else if (!a.exclusions_known && a.exclusions.empty()) {
      out += "  excluded range: not captured\n";
    } else if (a.exclusions.empty()) {
      out += "  excluded range: none\n";
    }
    for (const auto& line : exclusion_lines(a.exclusions)) out += "  excluded range: " + line + "\n";
    if (a.reserved_by.empty()) out += "  reserved by:    nothing\n";
    for (const auto& r : a.reserved_by) out += "  reserved by:    " + r + "\n";
    if (a.required_by.empty()) out += "  required by:    nothing in the policy\n";
    for (const auto& r : a.required_by) out += "  required by:    " + describe(r) + "\n";
    for (const auto& f : a.findings) out += "  finding:        " + std::string(to_string(f.severity)) + " " + f.code + ": " + f.message + "\n";
    for (const auto& line : a.advice) out += "  what to do:     " + line + "\n";
  }
  return out;
}

std::string render_why_json(const Assessment& assessment, const std::vector<PortAnswer>& answers) {
  using json = nlohmann::ordered_json;
  const HostSnapshot& host = assessment.host;
  json doc;
  doc["hostname"] = host.hostname;
  doc["windows"] = host.version.describe();
  auto list = json::array();
  for (const auto& a : answers) {
    json j;
    j["protocol"] = to_string(a.query.protocol);
    j["port"] = a.query.port;
    j["clear"] = a.clear();
    j["state"] = to_string(a.state);
    j["probe"] = to_string(a.probe);
    auto holders = json::array();
    for (const auto& h : a.holders)
      holders.push_back({{"pid", h.pid}, {"process", h.process}, {"service", h.service}, {"description", h.describe_holder()}});
    j["bound_by"] = std::move(holders);
    if (a.dynamic) {
      j["dynamic_range"] = {{"first", a.dynamic->range.first()},
                            {"last", a.dynamic->range.last()},
                            {"source", a.dynamic->source},
                            {"assumed", a.dynamic->assumed},
                            {"contains_port", a.in_dynamic_range}};
    } else {
      j["dynamic_range"] = nullptr;
    }
    if (a.exclusions_known || !a.exclusions.empty()) {
      auto excl = json::array();
      for (const auto& e : a.exclusions)
        excl.push_back({{"protocol", to_string(e.protocol)},
                        {"ip", to_string(e.ip)},
                        {"first", e.range.first()},
                        {"last", e.range.last()},
                        {"holder", to_string(e.holder)},
                        {"administered", e.administered()},
                        {"source", e.source}});
      j["excluded_ranges"] = std::move(excl);
    } else {
      j["excluded_ranges"] = nullptr;
    }
    j["reserved_by"] = a.reserved_by;
    auto required = json::array();
    for (const auto& r : a.required_by)
      required.push_back({{"service", r.service},
                          {"ports", r.ports.to_string()},
                          {"provenance", {{"kind", to_string(r.provenance.kind)}, {"source", r.provenance.source}, {"reason", r.provenance.reason}}},
                          {"description", describe(r)}});
    j["required_by"] = std::move(required);
    auto findings = json::array();
    for (const auto& f : a.findings) findings.push_back({{"code", f.code}, {"severity", to_string(f.severity)}, {"message", f.message}});
    j["findings"] = std::move(findings);
    j["advice"] = a.advice;
    list.push_back(std::move(j));
  }
  doc["ports"] = std::move(list);
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace portguard
