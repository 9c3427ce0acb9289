// portguard discover [--policy FILE] [--json] [--all]
// The installed services, the ports they need and why, and who holds those ports right now.
// Exit: 0 printed, 1 policy invalid, 2 host or policy unreadable, 64 bad command line.
#include "cli/policy_commands.hpp"
#include "cli/options.hpp"
#include "win32/adapter_commands.hpp"
#include "win32/live_host.hpp"

#include "portguard/config/services_file.hpp"
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

// `portguard plan` on Windows captures the live host through this file's object: it is linked
// whenever the command table is, so the hook is set before main runs.
const bool plan_hook_installed = (cli::assess_live_host = &assess_for_plan, true);
// ... and `portguard why` binds a port the same way the assessment's probe does.
const bool why_hook_installed = (cli::probe_live_port = &exclusive_bind, true);

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

} // namespace

int command_discover(const std::vector<std::string>& args, cli::Io io) {
  (void)plan_hook_installed;
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help")
      ("policy", po::value<std::string>()->value_name("FILE")->default_value(cli::default_policy_path()),
       "policy file; when it does not exist, the built-in catalog of well-known services is used")
      ("services-file", po::value<std::string>()->value_name("FILE")->default_value(config::default_services_file().string()),
       "services file that resolves port names such as \"radius\"")
      ("all", "also list installed services that need no port")
      ("json", "print JSON instead of a table");
  constexpr std::string_view about =
      "Lists the installed services, the ports they need and why, and who holds those ports now.\n"
      "Never changes anything. Exit codes: 0 printed, 1 policy invalid, 2 host or policy unreadable,\n"
      "64 bad command line.\n\n";
  po::variables_map vm;
  if (const auto stop = cli::parse_command_line("discover", options, about, args, vm, io)) return *stop;
  const std::string policy_file = vm["policy"].as<std::string>();
  PolicyChoice choice;
  try {
    choice = choose_policy(policy_file, vm["services-file"].as<std::string>(), true);
  } catch (const config::PolicyError& e) {
    return cli::report_policy_error(e, "discover", policy_file, io);
  }
  LiveHost live;
  const Assessment a = assess(live, choice.policy, ServiceDetail::full);
  const HostSnapshot& host = a.host;

  std::map<std::string, std::vector<const Requirement*>> by_service;   // key: lower-case name
  for (const auto& r : a.requirements) by_service[lower_ascii(r.service)].push_back(&r);

  if (vm.count("json") != 0) {
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
    auto emit = [&](const std::string& name, const ServiceInfo* s) {
      nlohmann::json e;
      e["name"] = s ? s->name : name;
      e["installed"] = s != nullptr;
      e["display_name"] = s ? s->display_name : "";
      e["state"] = s ? std::string(to_string(s->state)) : "";
      e["start_type"] = s ? std::string(to_string(s->start_type)) : "";
      e["pid"] = s ? s->pid : 0;
      e["needs"] = nlohmann::json::array();
      for (const Requirement* r : by_service[lower_ascii(name)]) {
        nlohmann::json n{{"protocol", to_string(r->protocol)}, {"ports", r->ports.to_string()}, {"kind", to_string(r->provenance.kind)},
                         {"source", r->provenance.source}, {"reason", r->provenance.reason}};
        n["held_by"] = nlohmann::json::array();
        for (const auto& h : holders(host, *r)) {
          n["held_by"].push_back({{"port", h.port}, {"pid", h.pid}, {"process", h.process}, {"service", h.service}, {"holder", h.describe_holder()}});
        }
        e["needs"].push_back(std::move(n));
      }
      j["services"].push_back(std::move(e));
    };
    for (const auto& s : host.services) {
      listed.insert(lower_ascii(s.name));
      if (by_service.count(lower_ascii(s.name)) != 0 || vm.count("all") != 0) emit(s.name, &s);
    }
    for (const auto& [k, reqs] : by_service) {
      if (listed.count(k) == 0) emit(reqs.front()->service, nullptr);
    }
    io.out << j.dump(2) << '\n';
    return cli::exit_ok;
  }

  io.out << "Host " << (host.hostname.empty() ? "(unnamed)" : host.hostname) << ": " << host.version.describe() << '\n';
  io.out << "Policy: " << (choice.from_file ? choice.policy.source : "none found at " + policy_file + "; using the built-in catalog") << '\n';
  for (const auto& d : host.dynamic_ranges) {
    if (d.ip != IpVersion::v4) continue;
    io.out << "Dynamic port range " << to_string(d.protocol) << ": " << d.range.to_string() << " (" << d.source << (d.assumed ? ", assumed" : "")
           << ")\n";
  }
  io.out << '\n'
         << pad("SERVICE", 20) << pad("STATE", 13) << pad("PID", 6) << pad("NEEDS", 16) << pad("HELD BY", 34) << "WHY\n";
  std::size_t without = 0;
  std::set<std::string> shown;
  auto row = [&](const std::string& name, const ServiceInfo* s) {
    const auto& reqs = by_service[lower_ascii(name)];
    if (reqs.empty()) {
      io.out << pad(name, 20) << pad(s ? std::string(to_string(s->state)) : "not installed", 13) << pad(s && s->pid ? std::to_string(s->pid) : "-", 6)
             << pad("-", 16) << pad("-", 34) << "-\n";
      return;
    }
    for (const Requirement* r : reqs) {
      std::vector<std::string> held;
      for (const auto& h : holders(host, *r)) held.push_back(std::to_string(h.port) + ": " + h.describe_holder());
      const auto dyn = host.dynamic_range(r->protocol);
      std::string why = r->provenance.reason + " (" + r->provenance.source + ")";
      if (dyn && dyn->range.overlaps(r->ports)) why += " [inside the dynamic range]";
      io.out << pad(name, 20) << pad(s ? std::string(to_string(s->state)) : "not installed", 13) << pad(s && s->pid ? std::to_string(s->pid) : "-", 6)
             << pad(r->ports.to_string() + "/" + std::string(to_string(r->protocol)), 16) << pad(held.empty() ? "free" : join(held), 34) << why << '\n';
    }
  };
  for (const auto& s : host.services) {
    shown.insert(lower_ascii(s.name));
    if (by_service.count(lower_ascii(s.name)) != 0) {
      row(s.name, &s);
    } else if (vm.count("all") != 0) {
      row(s.name, &s);
    } else {
      ++without;
    }
  }
  for (const auto& [k, reqs] : by_service) {
    if (shown.count(k) == 0) row(reqs.front()->service.empty() ? "(policy)" : reqs.front()->service, nullptr);
  }
  if (without != 0 && vm.count("all") == 0) io.out << '\n' << without << " other installed services need no known port (--all lists them).\n";
  return cli::exit_ok;
}

} // namespace portguard::win32
