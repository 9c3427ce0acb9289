// portguard check [--policy FILE] [--json]
// A monitoring plugin (Nagios / NSClient++ convention): one summary line, then details.
//   0 OK        every managed target holds what the policy requires; nothing at risk
//   1 WARNING   drift (a target lacks required ranges), a required port at risk inside the dynamic
//               range, a change waiting for a reboot / DNS restart, or another warning finding
//   2 CRITICAL  a port conflict, a required mechanism unavailable, a safety rail blocking repair,
//               a value that already breaks a rail (starves the dynamic range, too many ports),
//               or no usable policy
// The verdict is portguard::judge (core/verdict.hpp): OK exactly when the guard's pass on the same
// host stays quiet.
//   3 UNKNOWN   bad command line, or the host could not be read
#include "portguard/commands/adapter_commands.hpp"
#include "portguard/commands/options.hpp"
#include "portguard/commands/host.hpp"
#include "portguard/adapters/live_host.hpp"
#include "portguard/commands/win32_host.hpp"
#include "portguard/adapters/policy_acl.hpp"

#include "portguard/core/guard.hpp"
#include "portguard/core/verdict.hpp"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ostream>

namespace portguard::win32 {
namespace po = boost::program_options;

namespace {

/// The counters of the performance data and of --json. Each means what the status means:
/// `conflicts` counts the held ports that make the check CRITICAL, `unknown_holders` the ports held
/// by a process whose owner Windows did not name (a WARNING: it may be the right service).
struct Counters {
  std::size_t targets_managed = 0, targets_compliant = 0, conflicts = 0, unknown_holders = 0, at_risk = 0, pending = 0;
};

/// One check result, whatever path produced it: every output (text or JSON, OK or UNKNOWN) has the
/// same members, so a monitoring parser never meets a different shape when it matters most.
struct Verdict {
  int status = cli::check_ok;
  std::string summary;
  std::vector<std::string> critical, warning;
  std::optional<Counters> counters;   // nullopt: the host was not assessed (no policy, UNKNOWN)
  std::optional<std::string> policy;  // the policy file, when known
};

const char* status_name(int status) {
  switch (status) {
    case cli::check_ok: return "OK";
    case cli::check_warning: return "WARNING";
    case cli::check_critical: return "CRITICAL";
    default: return "UNKNOWN";
  }
}

std::string perfdata(const Counters& c) {
  return "targets=" + std::to_string(c.targets_managed) + " compliant=" + std::to_string(c.targets_compliant) + " conflicts=" +
         std::to_string(c.conflicts) + " unknown_holders=" + std::to_string(c.unknown_holders) + " at_risk=" + std::to_string(c.at_risk) +
         " pending=" + std::to_string(c.pending);
}

int emit(cli::Io io, bool json, const Verdict& v) {
  if (json) {
    const auto counter = [&](std::size_t Counters::*member) { return v.counters ? nlohmann::json((*v.counters).*member) : nlohmann::json(nullptr); };
    nlohmann::json j{{"status", status_name(v.status)},
                     {"code", v.status},
                     {"summary", v.summary},
                     {"critical", v.critical},
                     {"warning", v.warning},
                     {"targets_managed", counter(&Counters::targets_managed)},
                     {"targets_compliant", counter(&Counters::targets_compliant)},
                     {"conflicts", counter(&Counters::conflicts)},
                     {"unknown_holders", counter(&Counters::unknown_holders)},
                     {"at_risk", counter(&Counters::at_risk)},
                     {"pending", counter(&Counters::pending)},
                     {"policy", v.policy ? nlohmann::json(*v.policy) : nlohmann::json(nullptr)}};
    io.out << j.dump(2) << '\n';
  } else {
    io.out << "PORTGUARD " << status_name(v.status) << " - " << v.summary << (v.counters ? " | " + perfdata(*v.counters) : "") << '\n';
    for (const auto& c : v.critical) io.out << "CRITICAL: " << c << '\n';
    for (const auto& w : v.warning) io.out << "WARNING: " << w << '\n';
  }
  return v.status;
}

/// A check that could not judge the host: UNKNOWN, the reason as summary.
int emit_unknown(cli::Io io, bool json, const std::string& why, std::optional<std::string> policy = std::nullopt) {
  return emit(io, json, Verdict{cli::check_unknown, why, {}, {}, std::nullopt, std::move(policy)});
}

/// "drift on reserved-ports: missing 1812-1812 (and 2 other problems, listed below)": the count
/// says problems, not ranges, so it cannot be read as more missing ranges.
std::string summary_of(const Verdict& v, std::size_t required_ranges) {
  if (v.status == cli::check_ok) {
    const std::size_t compliant = v.counters ? v.counters->targets_compliant : 0;
    return std::to_string(compliant) + (compliant == 1 ? " target" : " targets") + " compliant, " + std::to_string(required_ranges) +
           (required_ranges == 1 ? " required port range" : " required port ranges");
  }
  const auto& first = v.status == cli::check_critical ? v.critical.front() : v.warning.front();
  const std::size_t others = v.critical.size() + v.warning.size() - 1;
  if (others == 0) return first;
  return first + " (and " + std::to_string(others) + " other problem" + (others == 1 ? "" : "s") + ", listed below)";
}

/// The verdict is the core's (portguard/core/verdict.hpp), tested against the guard's pass.
Verdict verdict_of(const Assessment& a, const std::vector<PendingEffect>& pending, const std::string& policy_source) {
  const CheckVerdict verdict = judge(a.plan, pending);
  Verdict v;
  v.status = static_cast<int>(verdict.status);
  v.critical = verdict.critical;
  v.warning = verdict.warning;
  v.policy = policy_source;
  v.counters = Counters{verdict.managed, verdict.compliant, verdict.conflicts, verdict.unknown_holders, verdict.at_risk, pending.size()};
  v.summary = summary_of(v, distinct_port_ranges(a.requirements));
  return v;
}

} // namespace

int command_check(const std::vector<std::string>& args, cli::Io io) {
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help")
      // Resolved after parsing: a bad DataDir must still end in an UNKNOWN line monitoring can read.
      ("policy", po::value<std::string>()->value_name("FILE"), "policy file (default: policy.toml in the data folder, %ProgramData%\\PortGuard)");
  cli::add_services_file_option(options, io.host);
  options.add_options()("json", "print the result as JSON");
  // Asked for before the command line is known to be good: a bad one is answered in JSON too.
  const bool json = std::find(args.begin(), args.end(), "--json") != args.end();
  po::variables_map vm;
  if (const auto wrong = cli::parse_options(options, args, vm)) {
    io.err << "Usage: " << cli::usage_line("check", options) << '\n';
    return emit_unknown(io, json, "bad command line: " + *wrong);
  }
  if (vm.count("help") != 0) {
    io.out << "Usage: " << cli::usage_line("check", options) << "\n\n"
           << "Checks this host against the policy for monitoring (Nagios / NSClient++ plugin convention).\n"
           << "Never changes anything. Exit codes: 0 OK, 1 WARNING (drift, port at risk, pending reboot),\n"
           << "2 CRITICAL (conflict, required mechanism unavailable, repair blocked, no usable policy),\n"
           << "3 UNKNOWN (bad command line, host unreadable).\n\n" << options;
    return cli::check_ok;
  }
  std::string policy_file;
  try {
    policy_file = vm.count("policy") != 0 ? vm["policy"].as<std::string>() : io.host.default_policy_file();
  } catch (const std::exception& e) {
    return emit_unknown(io, json, std::string("cannot find the data folder: ") + e.what());
  }

  // The verdict on the policy is the service's own (cli::load_accepted_policy): a policy the
  // service refuses protects nothing, so monitoring must not compute anything from it.
  config::Policy policy;
  try {
    policy = cli::load_accepted_policy(io.host, policy_file, vm["services-file"].as<std::string>());
  } catch (const config::PolicyError& e) {
    const auto* refused = dynamic_cast<const cli::PolicyRefusedError*>(&e);
    const std::string why = refused != nullptr ? "policy refused: writable by " + refused->writers() +
                                                     " (the service refuses it and protects nothing; restrict the permissions of " +
                                                     policy_file + " and its folder)"
                                               : std::string("no usable policy: ") + e.what();
    return emit(io, json, Verdict{cli::check_critical, why, {why}, {}, std::nullopt, policy_file});
  }

  Assessment a;
  std::vector<PendingEffect> pending;
  try {
    LiveHost& live = win32_host(io).live_host();   // here: a bad DataDir is UNKNOWN too
    a = assess(live, policy, ServiceDetail::state);
    pending = still_pending(load_pending_effects(live.layout().state_dir()), a.host);
  } catch (const std::exception& e) {
    return emit_unknown(io, json, std::string("cannot read the host: ") + e.what(), policy.source);
  }

  return emit(io, json, verdict_of(a, pending, policy.source));
}

} // namespace portguard::win32
