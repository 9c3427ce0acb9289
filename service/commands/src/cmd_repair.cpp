// portguard repair [--dry-run] [--policy FILE] [--json]
// Applies the plan to this host: every value validated before it is written, compared-and-swapped
// against what the plan was made from, backed up first, verified after.
// Exit: 0 done (or nothing to do), 1 refused (safety rail, audit mode, value kept changing, invalid
// policy), 2 a target failed or the host could not be read, 64 bad command line.
#include "portguard/commands/adapter_commands.hpp"
#include "portguard/commands/options.hpp"
#include "portguard/commands/host.hpp"
#include "portguard/adapters/live_host.hpp"
#include "portguard/commands/win32_host.hpp"

#include "portguard/core/guard.hpp"
#include "portguard/core/text.hpp"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <ostream>

namespace portguard::win32 {
namespace po = boost::program_options;

namespace {

void record_pending(const ApplyReport& report, LiveHost& live) {
  const auto state_dir = live.layout().state_dir();
  auto pending = load_pending_effects(state_dir);
  const auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(live.clock().now().time_since_epoch()).count());
  if (record_pending_effects(pending, report, now)) save_pending_effects(state_dir, pending);
}

/// The --json object; a refused repair (nothing written) has the same members, with `refused` saying why.
nlohmann::json report_json(const ApplyReport& report, bool dry_run, const std::string& refused) {
  nlohmann::json j{{"ok", report.ok() && refused.empty()}, {"dry_run", dry_run}, {"changed", report.changed()}, {"replans", report.replans},
                   {"refused", refused.empty() ? nlohmann::json(nullptr) : nlohmann::json(refused)}};
  j["outcomes"] = nlohmann::json::array();
  for (const auto& o : report.outcomes) {
    j["outcomes"].push_back({{"target", describe_target(o.target, o.protocol)}, {"changed", o.changed}, {"backup_id", o.backup_id},
                             {"error", o.error}, {"takes_effect", to_string(o.takes_effect)}, {"before", o.before}, {"after", o.after}});
  }
  for (const auto& o : report.ranges) {   // [guard.dynamic_range] (issue 16)
    j["outcomes"].push_back({{"target", dynamic_range_key(o.protocol)}, {"method", o.method}, {"changed", o.changed}, {"backup_id", o.backup_id},
                             {"error", o.error}, {"takes_effect", to_string(o.takes_effect)}, {"before", o.before}, {"after", o.after}});
  }
  return j;
}

/// What a refusal prints: the reason on stderr (ending in what was not changed), and with --json
/// the report object saying the same. Returns exit_failed, unless `exit_code` says otherwise.
int refuse(cli::Io io, bool json, bool dry_run, const std::string& message, const std::string& refused, int exit_code = cli::exit_failed) {
  io.err << "portguard repair: " << message;
  if (json) io.out << report_json({}, dry_run, refused).dump(2) << '\n';
  return exit_code;
}

/// "; backup ID; takes effect at the next reboot" after a change that was written.
void print_backup_and_effect(std::ostream& out, const std::string& backup_id, TakesEffect takes_effect) {
  out << "; backup " << backup_id << "; takes effect " << (takes_effect == TakesEffect::immediately ? "" : "at the ") << to_string(takes_effect);
}

/// The text report: one line per target written (or that would be), and per failure.
void print_report(std::ostream& out, const ApplyReport& report, bool dry_run) {
  if (report.outcomes.empty() && report.ranges.empty()) out << "Nothing to do: every managed target already holds what the policy requires.\n";
  if (report.replanned()) out << "Another writer changed a value meanwhile; re-planned " << report.replans << " time(s).\n";
  for (const auto& o : report.outcomes) {
    const std::string name = describe_target(o.target, o.protocol);
    if (!o.error.empty()) {
      out << name << ": FAILED: " << o.error << '\n';
      continue;
    }
    out << name << ": " << (dry_run ? "would write" : "written") << " [" << join(o.after) << "] (was [" << join(o.before) << "])";
    if (!dry_run) print_backup_and_effect(out, o.backup_id, o.takes_effect);
    out << '\n';
  }
  for (const auto& o : report.ranges) {   // [guard.dynamic_range] (issue 16)
    const std::string name = dynamic_range_key(o.protocol);
    if (!o.error.empty()) {
      out << name << ": FAILED: " << o.error << '\n';
    } else if (o.changed) {
      out << name << ": " << (dry_run ? "would set" : "set") << " " << o.after << " through " << o.method << " (was " << o.before << ")";
      if (!dry_run) print_backup_and_effect(out, o.backup_id, o.takes_effect);
      out << '\n';
    }
  }
}

} // namespace

int command_repair(const std::vector<std::string>& args, cli::Io io) {
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help")
      ("dry-run,n", "check everything and show what would be written; write nothing");
  cli::add_policy_option(options, io.host);
  cli::add_services_file_option(options, io.host);
  options.add_options()
      ("max-replans", po::value<int>()->value_name("N")->default_value(3), "re-plans allowed when another tool changes a value meanwhile")
      ("json", "print the outcome as JSON");
  constexpr std::string_view about =
      "Makes this host hold the reservations the policy requires. Every change is validated,\n"
      "compared against the value the plan was made from (re-planned when someone changed it),\n"
      "backed up to %ProgramData%\\PortGuard\\backups first (see 'portguard rollback') and read back.\n"
      "Refuses when a safety rail fires and the policy does not allow it.\n"
      "Exit codes: 0 done or nothing to do, 1 refused, 2 a change failed or the host is unreadable,\n"
      "64 bad command line.\n\n";
  po::variables_map vm;
  if (const auto stop = cli::parse_command_line("repair", options, about, args, vm, io)) return *stop;
  const bool json = vm.count("json") != 0;
  const bool dry_run = vm.count("dry-run") != 0;
  const std::string policy_file = vm["policy"].as<std::string>();
  config::Policy policy;
  try {
    policy = cli::load_accepted_policy(io.host, policy_file, vm["services-file"].as<std::string>());
  } catch (const config::PolicyError& e) {
    const int rc = cli::report_policy_error(e, "repair", policy_file, io);
    return refuse(io, json, dry_run, "nothing was changed\n", "the policy " + policy_file + " cannot be used: " + e.what(), rc);
  }
  if (policy.enforcement == config::Enforcement::audit && !dry_run) {
    const bool by_gpo = config::set_by_group_policy(policy, config::group_policy_keys::enforcement_value);
    return refuse(io, json, dry_run,
                  (by_gpo ? "Group Policy (" + std::string(config::group_policy_keys::root) + ", Enforcement)" : "the policy " + policy.source) +
                      " is in audit mode (report, never write); nothing was changed. Use --dry-run to see what enforce would do.\n",
                  "the policy is in audit mode");
  }

  LiveHost& live = win32_host(io).live_host();
  const Assessment first = assess(live, policy, ServiceDetail::state);
  ApplyOptions apply_options;
  apply_options.dry_run = dry_run;
  apply_options.max_replans = vm["max-replans"].as<int>();
  apply_options.reason = "portguard repair (policy " + policy.source + ")";
  ApplyReport report;
  try {
    report = live.applier().apply(first.plan, [&] { return assess(live, policy, ServiceDetail::state).plan; }, apply_options);
  } catch (const RefusedError& e) {
    return refuse(io, json, dry_run, std::string(e.what()) + "\nNothing was changed.\n", e.what());
  }
  if (!dry_run) record_pending(report, live);

  if (json) io.out << report_json(report, dry_run, "").dump(2) << '\n';
  else print_report(io.out, report, dry_run);
  if (!report.ok()) {
    io.err << "portguard repair: some changes failed (see above); 'portguard rollback --list' shows the backups\n";
    return cli::exit_error;
  }
  return cli::exit_ok;
}

} // namespace portguard::win32
