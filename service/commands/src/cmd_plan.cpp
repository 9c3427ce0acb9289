// portguard plan --policy FILE --snapshot host.json [--services-file F] [--json]
// Offline planning: what the guard would do on the captured host, and why. Never writes.
// Exit: 0 plan printed, 1 policy invalid, 2 policy or snapshot unreadable (or capture failed),
// 64 bad command line.
#include "portguard/commands/policy_commands.hpp"
#include "portguard/commands/host.hpp"
#include "portguard/commands/options.hpp"

#include "portguard/config/policy.hpp"
#include "portguard/core/plan.hpp"
#include "portguard/core/snapshot_json.hpp"

#include <boost/program_options.hpp>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

namespace portguard::cli {

std::optional<HostSnapshot> read_snapshot_file(const std::string& file, std::string_view command, Io io) {
  // A folder opens as an empty stream on some platforms: say what it is, as validate does.
  if (std::error_code ec; std::filesystem::is_directory(file, ec)) {
    io.err << "portguard " << command << ": the snapshot " << file << " is a directory; name the snapshot file itself\n";
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    io.err << "portguard " << command << ": cannot read the snapshot " << file << " (missing or not readable)\n";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return snapshot_from_json(text.str(), file);
  } catch (const SnapshotError& e) {
    io.err << "portguard " << command << ": " << e.what() << '\n';
    return std::nullopt;
  }
}

namespace po = boost::program_options;

po::options_description assessment_options(Host& host, const char* policy_help, const char* snapshot_help, const char* json_help) {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help");
  add_policy_option(options, host, policy_help);
  add_snapshot_option(options, snapshot_help);
  add_services_file_option(options, host);
  options.add_options()("json", json_help);
  return options;
}

std::optional<int> assess_policy_or_snapshot(const po::variables_map& vm, std::string_view command, Io io, Assessment& assessment) {
  const std::string policy_file = vm["policy"].as<std::string>();
  config::Policy policy;
  try {
    policy = load_accepted_policy(io.host, policy_file, vm["services-file"].as<std::string>());
  } catch (const config::PolicyError& e) {
    return report_policy_error(e, command, policy_file, io);
  }
  // The snapshot file, or the live host: either way the one assessment the guard and `check` run.
  if (vm.count("snapshot") != 0) {
    auto host = read_snapshot_file(vm["snapshot"].as<std::string>(), command, io);
    if (!host) return exit_error;
    SnapshotProbe probe(std::move(*host));
    assessment = assess(probe, config::PolicyRequirements(policy), policy.plan, ServiceDetail::state);
  } else {
    assessment = io.host.assess(policy, ServiceDetail::state);
  }
  return std::nullopt;
}

int command_plan(const std::vector<std::string>& args, Io io) {
  const po::options_description options =
      assessment_options(io.host, "policy file", "host snapshot JSON (docs/snapshot.md) to plan against; without it the live host (Windows only)",
                         "print the plan as JSON");
  constexpr std::string_view about =
      "Plans the reservations the policy demands on a host, target by target, with the reason for\n"
      "every range and the risks found. Never changes anything.\n"
      "Exit codes: 0 plan printed, 1 policy invalid, 2 unreadable input, 64 bad command line.\n\n";
  po::variables_map vm;
  if (const auto stop = parse_command_line("plan", options, about, args, vm, io)) return *stop;
  if (vm.count("snapshot") == 0 && !io.host.live()) {
    io.err << "portguard plan: --snapshot FILE is required in this build (capturing the live host needs Windows)\n";
    return exit_usage;
  }

  Assessment assessment;
  if (const auto failed = assess_policy_or_snapshot(vm, "plan", io, assessment)) return *failed;
  const ReservationPlan& result = assessment.plan;
  io.out << (vm.count("json") != 0 ? render_json(result) : render_text(result));
  if (vm.count("json") != 0) io.out << '\n';
  return exit_ok;
}

} // namespace portguard::cli
