// portguard check [--policy FILE] [--json]
// A monitoring plugin (Nagios / NSClient++ convention): one summary line, then details.
//   0 OK        every managed target holds what the policy requires; nothing at risk
//   1 WARNING   drift (a target lacks required ranges), a required port at risk inside the dynamic
//               range, a change waiting for a reboot / DNS restart, or another warning finding
//   2 CRITICAL  a port conflict, a required mechanism unavailable, a safety rail blocking repair,
//               or no usable policy
//   3 UNKNOWN   bad command line, or the host could not be read
#include "win32/adapter_commands.hpp"
#include "cli/options.hpp"
#include "win32/live_host.hpp"
#include "win32/paths.hpp"
#include "win32/policy_acl.hpp"

#include "portguard/config/services_file.hpp"
#include "portguard/core/guard.hpp"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <ostream>

namespace portguard::win32 {
namespace po = boost::program_options;

namespace {

// check, plan and validate refuse what the service refuses: the same ACL test.
const bool policy_writers_installed = (cli::policy_writers = &policy_write_problems, true);

struct Verdict {
  int status = cli::check_ok;
  std::vector<std::string> critical, warning;
};

const char* status_name(int status) {
  switch (status) {
    case cli::check_ok: return "OK";
    case cli::check_warning: return "WARNING";
    case cli::check_critical: return "CRITICAL";
    default: return "UNKNOWN";
  }
}

std::string range_list(const std::vector<RangeChange>& changes, std::optional<Protocol> protocol) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.range.to_string() + (protocol ? "/" + std::string(to_string(*protocol)) : ""));
  return join(out);
}

int emit_unknown(cli::Io io, bool json, const std::string& why) {
  if (json) {
    io.out << nlohmann::json{{"status", "UNKNOWN"}, {"code", cli::check_unknown}, {"summary", why}}.dump(2) << '\n';
  } else {
    io.out << "PORTGUARD UNKNOWN - " << why << '\n';
  }
  return cli::check_unknown;
}

} // namespace

int command_check(const std::vector<std::string>& args, cli::Io io) {
  po::options_description options("portguard check [options]");
  options.add_options()
      ("help,h", "show this help")
      // Resolved after parsing: a bad DataDir must still end in an UNKNOWN line monitoring can read.
      ("policy", po::value<std::string>(), "policy file (default: policy.toml in the data folder, %ProgramData%\\PortGuard)")
      ("services-file", po::value<std::string>()->default_value(config::default_services_file().string()),
       "services file that resolves port names such as \"radius\"")
      ("json", "print the result as JSON");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    io.out << "PORTGUARD UNKNOWN - bad command line: " << e.what() << '\n';
    io.err << options;
    return cli::check_unknown;
  }
  if (vm.count("help") != 0) {
    io.out << "Checks this host against the policy for monitoring (Nagios / NSClient++ plugin convention).\n"
           << "Never changes anything. Exit codes: 0 OK, 1 WARNING (drift, port at risk, pending reboot),\n"
           << "2 CRITICAL (conflict, required mechanism unavailable, repair blocked, no usable policy),\n"
           << "3 UNKNOWN (bad command line, host unreadable).\n\n" << options;
    return cli::check_ok;
  }
  const bool json = vm.count("json") != 0;
  std::string policy_file;
  try {
    policy_file = vm.count("policy") != 0 ? vm["policy"].as<std::string>() : cli::default_policy_path();
  } catch (const std::exception& e) {
    return emit_unknown(io, json, std::string("cannot find the data folder: ") + e.what());
  }

  // The verdict on the policy is the service's own (cli::load_accepted_policy): a policy the
  // service refuses protects nothing, so monitoring must not compute anything from it.
  config::Policy policy;
  try {
    policy = cli::load_accepted_policy(policy_file, vm["services-file"].as<std::string>());
  } catch (const config::PolicyError& e) {
    const auto* refused = dynamic_cast<const cli::PolicyRefusedError*>(&e);
    const std::string why = refused != nullptr ? "policy refused: writable by " + refused->writers() +
                                                     " (the service refuses it and protects nothing; restrict the permissions of " +
                                                     policy_file + " and its folder)"
                                               : std::string("no usable policy: ") + e.what();
    if (json) {
      io.out << nlohmann::json{{"status", "CRITICAL"}, {"code", cli::check_critical}, {"summary", why}}.dump(2) << '\n';
    } else {
      io.out << "PORTGUARD CRITICAL - " << why << '\n';
    }
    return cli::check_critical;
  }

  Assessment a;
  std::vector<PendingEffect> pending;
  try {
    LiveHost live;
    a = assess(live, policy, ServiceDetail::state);
    pending = still_pending(load_pending_effects(state_dir()), a.host);
  } catch (const std::exception& e) {
    return emit_unknown(io, json, std::string("cannot read the host: ") + e.what());
  }

  Verdict v;
  const auto& forced = policy.plan.targets;
  std::size_t compliant = 0, managed = 0;
  for (const auto& t : a.plan.targets) {
    if (!t.available || (!t.effective && !t.forced)) continue;
    ++managed;
    const std::string name = describe_target(t.target, t.protocol);
    if (t.added.empty() && t.removed.empty()) {
      ++compliant;
      continue;
    }
    std::string text = "drift on " + name + ":";
    if (!t.added.empty()) text += " missing " + range_list(t.added, t.protocol);
    if (!t.removed.empty()) text += " extra " + range_list(t.removed, t.protocol);
    v.warning.push_back(text);
  }
  // Order matters: the first line becomes the summary. Drift, then what waits for a reboot, then
  // the planner's findings.
  for (const auto& p : pending) {
    v.warning.push_back("pending " + std::string(p.takes_effect == TakesEffect::next_boot ? "reboot" : "DNS restart") + ": " +
                        describe_target(p.target) + " was changed and takes effect at the " + std::string(to_string(p.takes_effect)));
  }
  std::size_t conflicts = 0, at_risk = 0;
  for (const auto& f : a.plan.findings) {
    const bool required_unavailable = f.code == "unavailable" && f.target && forced &&
                                      std::find(forced->begin(), forced->end(), *f.target) != forced->end();
    if (f.code == "conflict") ++conflicts;
    if (f.code == "at-risk" && f.severity != Severity::info) ++at_risk;
    if (f.severity == Severity::error || f.blocks_repair || required_unavailable) {
      v.critical.push_back("[" + f.code + "] " + f.message);
    } else if (f.severity == Severity::warning) {
      v.warning.push_back("[" + f.code + "] " + f.message);
    }
  }
  v.status = !v.critical.empty() ? cli::check_critical : !v.warning.empty() ? cli::check_warning : cli::check_ok;

  std::string summary;
  if (v.status == cli::check_ok) {
    summary = std::to_string(compliant) + (compliant == 1 ? " target" : " targets") + " compliant, " + std::to_string(a.requirements.size()) +
              " required port ranges";
  } else {
    const auto& first = v.status == cli::check_critical ? v.critical.front() : v.warning.front();
    const std::size_t more = v.critical.size() + v.warning.size() - 1;
    summary = first + (more ? " (+" + std::to_string(more) + " more)" : "");
  }
  const std::string perf = "targets=" + std::to_string(managed) + " compliant=" + std::to_string(compliant) + " conflicts=" +
                           std::to_string(conflicts) + " at_risk=" + std::to_string(at_risk) + " pending=" + std::to_string(pending.size());
  if (json) {
    nlohmann::json j{{"status", status_name(v.status)}, {"code", v.status}, {"summary", summary}, {"critical", v.critical},
                     {"warning", v.warning}, {"targets_managed", managed}, {"targets_compliant", compliant}, {"conflicts", conflicts},
                     {"at_risk", at_risk}, {"pending", pending.size()}, {"policy", policy.source}};
    io.out << j.dump(2) << '\n';
  } else {
    io.out << "PORTGUARD " << status_name(v.status) << " - " << summary << " | " << perf << '\n';
    for (const auto& c : v.critical) io.out << "CRITICAL: " << c << '\n';
    for (const auto& w : v.warning) io.out << "WARNING: " << w << '\n';
  }
  return v.status;
}

} // namespace portguard::win32
