// portguard discover [--policy FILE] [--json] [--all]
// The installed services, the ports they need and why, and who holds those ports right now.
// Exit: 0 printed, 1 policy invalid, 2 host or policy unreadable, 64 bad command line.
#include "portguard/commands/host.hpp"
#include "portguard/commands/options.hpp"
#include "portguard/commands/adapter_commands.hpp"
#include "portguard/adapters/live_host.hpp"
#include "portguard/commands/win32_host.hpp"

#include "portguard/core/text.hpp"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <iomanip>
#include <set>
#include <map>
#include <ostream>
#include <sstream>

namespace portguard::win32 {
namespace po = boost::program_options;

namespace {

std::vector<PortInUse> holders(const HostSnapshot& host, const Requirement& r) {
  std::vector<PortInUse> out;
  for (const auto& u : host.ports_in_use) {
    if (u.protocol == r.protocol && r.ports.contains(u.port)) out.push_back(u);
  }
  return out;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s + "  ";
}

/// What `discover --help` says before the options.
constexpr std::string_view discover_about =
    "Lists the installed services, the ports they need and why, and who holds those ports now.\n"
    "Never changes anything. Exit codes: 0 printed, 1 policy invalid, 2 host or policy unreadable,\n"
    "64 bad command line.\n\n";

/// The policy's requirements by service, keyed by the lower-case name (the policy and the Service
/// Control Manager may spell a name in different cases).
using RequirementsByService = std::map<std::string, std::vector<const Requirement*>>;

RequirementsByService requirements_by_service(const Assessment& a) {
  RequirementsByService by_service;
  for (const auto& r : a.requirements) by_service[lower_ascii(r.service)].push_back(&r);
  return by_service;
}

const std::vector<const Requirement*>& needs_of(const RequirementsByService& by_service, const std::string& name) {
  static const std::vector<const Requirement*> none;
  const auto it = by_service.find(lower_ascii(name));
  return it == by_service.end() ? none : it->second;
}

/// One service of `discover --json`: `s` null for a service the policy names but that is not installed.
nlohmann::json service_json(const HostSnapshot& host, const RequirementsByService& by_service, const std::string& name, const ServiceInfo* s) {
  nlohmann::json e;
  e["name"] = s ? s->name : name;
  e["installed"] = s != nullptr;
  e["display_name"] = s ? s->display_name : "";
  e["state"] = s ? std::string(to_string(s->state)) : "";
  e["start_type"] = s ? std::string(to_string(s->start_type)) : "";
  e["pid"] = s ? s->pid : 0;
  e["needs"] = nlohmann::json::array();
  for (const Requirement* r : needs_of(by_service, name)) {
    nlohmann::json n{{"protocol", to_string(r->protocol)}, {"ports", r->ports.to_string()}, {"kind", to_string(r->provenance.kind)},
                     {"source", r->provenance.source}, {"reason", r->provenance.reason}};
    n["held_by"] = nlohmann::json::array();
    for (const auto& h : holders(host, *r)) {
      n["held_by"].push_back({{"port", h.port}, {"pid", h.pid}, {"process", h.process}, {"service", h.service}, {"holder", h.describe_holder()}});
    }
    e["needs"].push_back(std::move(n));
  }
  return e;
}

nlohmann::json discover_json(const HostSnapshot& host, const PolicyChoice& choice, const RequirementsByService& by_service, bool all) {
  nlohmann::json j;
  j["hostname"] = host.hostname;
  j["windows"] = host.version.describe();
  j["policy"] = choice.from_file ? choice.policy.source : "";
  j["dynamic_ranges"] = nlohmann::json::array();
  for (const auto& d : host.dynamic_ranges) {
    if (d.ip != IpVersion::v4) continue;
    j["dynamic_ranges"].push_back({{"protocol", to_string(d.protocol)}, {"range", d.range.to_string()}, {"assumed", d.assumed}, {"source", d.source}});
  }
  j["services"] = nlohmann::json::array();
  std::set<std::string> listed;
  for (const auto& s : host.services) {
    listed.insert(lower_ascii(s.name));
    if (by_service.count(lower_ascii(s.name)) != 0 || all) j["services"].push_back(service_json(host, by_service, s.name, &s));
  }
  for (const auto& [k, reqs] : by_service) {
    if (listed.count(k) == 0) j["services"].push_back(service_json(host, by_service, reqs.front()->service, nullptr));
  }
  return j;
}

/// The table rows of one service: one per port it needs, or one with dashes.
void print_service_rows(std::ostream& out, const HostSnapshot& host, const RequirementsByService& by_service, const std::string& name,
                        const ServiceInfo* s) {
  const std::string state_pid = pad(s ? std::string(to_string(s->state)) : "not installed", 13) + pad(s && s->pid ? std::to_string(s->pid) : "-", 6);
  const auto& reqs = needs_of(by_service, name);
  if (reqs.empty()) {
    out << pad(name, 20) << state_pid << pad("-", 16) << pad("-", 34) << "-\n";
    return;
  }
  for (const Requirement* r : reqs) {
    std::vector<std::string> held;
    for (const auto& h : holders(host, *r)) held.push_back(std::to_string(h.port) + ": " + h.describe_holder());
    const auto dyn = host.dynamic_range(r->protocol);
    std::string why = r->provenance.reason + " (" + r->provenance.source + ")";
    if (dyn && dyn->range.overlaps(r->ports)) why += " [inside the dynamic range]";
    out << pad(name, 20) << state_pid << pad(r->ports.to_string() + "/" + std::string(to_string(r->protocol)), 16)
        << pad(held.empty() ? "free" : join(held), 34) << why << '\n';
  }
}

void print_discover_table(std::ostream& out, const HostSnapshot& host, const PolicyChoice& choice, const std::string& policy_file,
                          const RequirementsByService& by_service, bool all) {
  out << "Host " << (host.hostname.empty() ? "(unnamed)" : host.hostname) << ": " << host.version.describe() << '\n';
  out << "Policy: " << (choice.from_file ? choice.policy.source : "none found at " + policy_file + "; using the built-in catalog") << '\n';
  for (const auto& d : host.dynamic_ranges) {
    if (d.ip != IpVersion::v4) continue;
    out << "Dynamic port range " << to_string(d.protocol) << ": " << d.range.to_string() << " (" << d.source << (d.assumed ? ", assumed" : "")
        << ")\n";
  }
  out << '\n' << pad("SERVICE", 20) << pad("STATE", 13) << pad("PID", 6) << pad("NEEDS", 16) << pad("HELD BY", 34) << "WHY\n";
  std::size_t without = 0;
  std::set<std::string> shown;
  for (const auto& s : host.services) {
    shown.insert(lower_ascii(s.name));
    if (by_service.count(lower_ascii(s.name)) != 0 || all) print_service_rows(out, host, by_service, s.name, &s);
    else ++without;
  }
  for (const auto& [k, reqs] : by_service) {
    if (shown.count(k) == 0) print_service_rows(out, host, by_service, reqs.front()->service.empty() ? "(policy)" : reqs.front()->service, nullptr);
  }
  if (without != 0 && !all) out << '\n' << without << " other installed services need no known port (--all lists them).\n";
}

} // namespace

int command_discover(const std::vector<std::string>& args, cli::Io io) {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help");
  cli::add_policy_option(options, io.host, "policy file; when it does not exist, the built-in catalog of well-known services is used");
  cli::add_services_file_option(options, io.host);
  options.add_options()
      ("all", "also list installed services that need no port")
      ("json", "print JSON instead of a table");
  po::variables_map vm;
  if (const auto stop = cli::parse_command_line("discover", options, discover_about, args, vm, io)) return *stop;
  const std::string policy_file = vm["policy"].as<std::string>();
  PolicyChoice choice;
  try {
    choice = choose_policy(policy_file, vm["services-file"].as<std::string>(), true);
  } catch (const config::PolicyError& e) {
    return cli::report_policy_error(e, "discover", policy_file, io);
  }
  LiveHost& live = win32_host(io).live_host();
  const Assessment a = assess(live, choice.policy, ServiceDetail::full);
  const RequirementsByService by_service = requirements_by_service(a);
  const bool all = vm.count("all") != 0;
  if (vm.count("json") != 0) io.out << discover_json(a.host, choice, by_service, all).dump(2) << '\n';
  else print_discover_table(io.out, a.host, choice, policy_file, by_service, all);
  return cli::exit_ok;
}

} // namespace portguard::win32
