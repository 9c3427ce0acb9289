// portguard validate --policy FILE [--services-file F] [--json]
// Exit: 0 valid, 1 invalid (every problem printed), 2 unreadable, 64 bad command line.
#include "portguard/commands/policy_commands.hpp"
#include "portguard/commands/host.hpp"
#include "portguard/commands/options.hpp"

#include "portguard/config/policy.hpp"
#include "portguard/core/target.hpp"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <ostream>

namespace portguard::cli {

namespace po = boost::program_options;

namespace {

nlohmann::json to_json(const config::Diagnostic& d) {
  return {{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message}, {"text", d.to_string()}};
}

std::string targets_of(const config::Policy& p) {
  if (!p.plan.targets) return "every target effective on the host";
  std::string out;
  for (Target t : *p.plan.targets) out += (out.empty() ? "" : ", ") + std::string(to_string(t));
  return out;
}

nlohmann::json summary_json(const config::Policy& p) {
  nlohmann::json targets = nullptr;
  if (p.plan.targets) {
    targets = nlohmann::json::array();
    for (Target t : *p.plan.targets) targets.push_back(std::string(to_string(t)));
  }
  nlohmann::json reservations = nlohmann::json::array();
  for (const auto& r : p.reservations) {
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& range : r.ports) ports.push_back(range.to_string());
    nlohmann::json protocols = nlohmann::json::array();
    for (Protocol pr : r.protocols) protocols.push_back(std::string(to_string(pr)));
    reservations.push_back({{"source", r.source}, {"service", r.service}, {"ports", ports}, {"protocols", protocols},
                            {"reason", r.reason}, {"when_installed", r.when_installed ? nlohmann::json(*r.when_installed) : nlohmann::json(nullptr)}});
  }
  return {
      {"mode", std::string(to_string(p.plan.mode))},
      {"enforcement", p.enforcement == config::Enforcement::audit ? "audit" : "enforce"},
      {"targets", targets},
      {"recheck_interval_seconds", p.recheck_interval.count()},
      {"limits", {{"max_reserved_ports", p.plan.limits.max_reserved_ports}, {"min_free_dynamic_ports", p.plan.limits.min_free_dynamic_ports}}},
      {"allow", {{"removals", p.plan.allow.removals}, {"large_reservations", p.plan.allow.large_reservations},
                 {"shrink_dynamic", p.plan.allow.shrink_dynamic}, {"empty_value", p.plan.allow.empty_value}}},
      {"reservations", reservations},
      {"catalog", {{"enabled", p.use_catalog}, {"source", p.catalog.source}, {"services", p.catalog.entries.size()},
                   {"exclude", p.catalog_exclude}, {"include", p.catalog_include}, {"overrides", p.catalog_overrides.size()}}},
      {"discovery", {{"registry_ports", p.discover_registry_ports}, {"exclude", p.discovery_exclude}}},
  };
}

} // namespace

int command_validate(const std::vector<std::string>& args, Io io) {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help");
  add_policy_option(options, io.host, "policy file to check");
  add_services_file_option(options, io.host);
  options.add_options()("json", "print the result as JSON (for tooling)");
  constexpr std::string_view about =
      "Checks a policy file and prints every problem (file:line:column: what is wrong; what to write).\n"
      "Exit codes: 0 valid, 1 invalid, 2 unreadable, 64 bad command line.\n\n";
  po::variables_map vm;
  if (const auto stop = parse_command_line("validate", options, about, args, vm, io)) return *stop;
  const std::string file = vm["policy"].as<std::string>();
  const bool json = vm.count("json") != 0;
  try {
    const config::Policy p = load_accepted_policy(io.host, file, vm["services-file"].as<std::string>());
    if (json) {
      io.out << nlohmann::json{{"file", file}, {"valid", true}, {"readable", true}, {"errors", nlohmann::json::array()}, {"policy", summary_json(p)}}.dump(2) << '\n';
    } else {
      io.out << file << ": valid\n"
             << "  mode " << to_string(p.plan.mode) << ", " << (p.enforcement == config::Enforcement::audit ? "audit (never writes)" : "enforce")
             << ", targets: " << targets_of(p) << ", re-check every " << p.recheck_interval.count() << " s\n"
             << "  " << p.reservations.size() << " [[reserve]] entr" << (p.reservations.size() == 1 ? "y" : "ies")
             << "; catalog " << (p.use_catalog ? "on" : "off") << " (" << p.catalog.source << ", " << p.catalog.entries.size() << " services, "
             << p.catalog_exclude.size() << " excluded, " << p.catalog_overrides.size() << " overridden)"
             << "; registry discovery " << (p.discover_registry_ports ? "on" : "off") << '\n';
      // [guard.dynamic_range] (issue 16): said only when the policy guards the range.
      for (const auto& d : p.plan.dynamic_ranges)
        io.out << "  dynamic port range guarded: " << to_string(d.protocol) << ' ' << d.range.to_string() << " (" << d.source << ")\n";
      if (!p.group_policy.empty())
        io.out << "  merged with " << p.group_policy.size() << " Group Policy value" << (p.group_policy.size() == 1 ? "" : "s") << " from "
               << config::group_policy_keys::root << " (Group Policy wins for the settings it sets; docs/policy.md)\n";
    }
    return exit_ok;
  } catch (const config::PolicyError& e) {
    const bool unreadable = dynamic_cast<const config::PolicyReadError*>(&e) != nullptr;
    if (json) {
      nlohmann::json errors = nlohmann::json::array();
      for (const auto& d : e.diagnostics()) errors.push_back(to_json(d));
      io.out << nlohmann::json{{"file", file}, {"valid", false}, {"readable", !unreadable}, {"errors", errors}, {"policy", nullptr}}.dump(2)
             << '\n';
    } else {
      for (const auto& d : e.diagnostics()) io.out << d.to_string() << '\n';
      const auto n = e.diagnostics().size();
      const std::string problems = " (" + std::to_string(n) + " problem" + (n == 1 ? "" : "s") + ")";
      if (dynamic_cast<const config::GroupPolicyError*>(&e) != nullptr)
        io.err << file << ": the Group Policy settings under " << config::group_policy_keys::root << " are invalid" << problems
               << "; correct them in the GPO (PortGuard.admx, docs/policy.md) and run gpupdate /target:computer; a running guard keeps using its last known good policy.\n";
      else
        io.err << file << ": " << (unreadable ? "cannot be read" : "invalid") << problems << "; a running guard keeps using its last known good policy.\n";
    }
    return unreadable ? exit_error : exit_failed;
  }
}

} // namespace portguard::cli
