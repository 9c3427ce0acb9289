// portguard rollback [--list] | --restore ID [--dry-run]
// Lists the backups PortGuard took before each change, newest first, and restores one byte-exact
// (the value it replaces is backed up first, so a rollback can itself be rolled back).
// Exit: 0 done, 1 no such backup, 2 the restore failed or a backup is unreadable, 64 bad command line.
#include "portguard/commands/adapter_commands.hpp"
#include "portguard/commands/options.hpp"
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

/// What `rollback --help` says before the options.
constexpr std::string_view rollback_about =
    "Lists the backups taken before every change (%ProgramData%\\PortGuard\\backups, the newest 50\n"
    "are kept) and restores one exactly as it was, backing up the current value first.\n"
    "Exit codes: 0 done, 1 no such backup, 2 restore failed, 64 bad command line.\n\n";

/// What a backup is of: "reserved-ports", "dynamic-range/udp (MSFT_NetUDPSetting)".
std::string backup_subject(const Backup& b) {
  if (b.dynamic_range) return dynamic_range_key(b.dynamic_range->protocol) + " (" + b.dynamic_range->method + ")";
  return describe_target(b.target, b.protocol);
}

/// --restore of a dynamic-range backup ([guard.dynamic_range], issue 16).
int restore_dynamic_range(LiveHost& live, const Backup& b, bool dry_run, bool json, cli::Io io) {
  const RangeOutcome o = live.applier().restore_dynamic_range(b, dry_run);
  const std::string name = backup_subject(b);
  if (json) {
    io.out << nlohmann::json{{"ok", o.error.empty()}, {"target", name}, {"restored", b.id}, {"backup_of_current", o.backup_id},
                             {"error", o.error}, {"before", o.before}, {"after", o.after}, {"dry_run", dry_run}}
                  .dump(2)
           << '\n';
  } else if (!o.error.empty()) {
    io.out << name << ": FAILED: " << o.error << '\n';
  } else if (dry_run) {
    io.out << name << ": would restore backup " << b.id << " [" << o.after << "] (now [" << o.before << "])\n";
  } else {
    io.out << name << ": restored backup " << b.id << " [" << o.after << "] (was [" << o.before << "]; that range is in backup " << o.backup_id
           << "); takes effect " << (o.takes_effect == TakesEffect::immediately ? "" : "at the ") << to_string(o.takes_effect) << '\n';
  }
  return o.error.empty() ? cli::exit_ok : cli::exit_error;
}

std::string previous_text(const Backup& b) {
  if (b.dynamic_range) return b.dynamic_range->previous.to_string();
  if (b.target == Target::persistent_reservation) {
    const auto blocks = describe_reservations(b.previous_reservations);
    return blocks.empty() ? "(no reservations)" : join(blocks);
  }
  if (!b.previous.present) return "(value absent)";
  std::vector<std::string> quoted;
  for (const auto& s : b.previous.strings) quoted.push_back("\"" + s + "\"");
  return (quoted.empty() ? "(empty list)" : join(quoted)) + (b.previous.type_problem.empty() ? "" : " [" + b.previous.type_problem + "]");
}

/// --list: the backups, newest first; an unreadable one is named on stderr and skipped.
int list_backups(LiveHost& live, bool json, cli::Io io) {
  std::vector<std::string> problems;
  const auto all = live.backups().list(&problems);
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& b : all) {
      j.push_back({{"id", b.id}, {"created_at", b.created_at}, {"target", backup_subject(b)}, {"reason", b.reason},
                   {"previous", previous_text(b)}});
    }
    io.out << j.dump(2) << '\n';
  } else if (all.empty()) {
    io.out << "No backups in " << live.backups().directory().string() << ": PortGuard has changed nothing on this host yet.\n";
  } else {
    for (const auto& b : all) {
      io.out << b.id << "  " << b.created_at << "  " << backup_subject(b) << "  was " << previous_text(b) << "  ("
             << b.reason << ")\n";
    }
  }
  for (const auto& p : problems) io.err << "portguard rollback: skipped an unreadable backup: " << p << '\n';
  return problems.empty() ? cli::exit_ok : cli::exit_error;
}

/// --restore ID [--dry-run]: the backup put back (the value it replaces backed up first).
int restore_backup(LiveHost& live, const std::string& id, bool dry_run, bool json, cli::Io io) {
  TargetOutcome o;
  try {
    if (const auto found = live.backups().load(id); found && found->dynamic_range)
      return restore_dynamic_range(live, *found, dry_run, json, io);
    o = live.applier().restore(id, dry_run);
  } catch (const InputError& e) {
    io.err << "portguard rollback: " << e.what() << '\n';
    return cli::exit_failed;
  }
  const std::string name = describe_target(o.target, o.protocol);
  // A backup of a value that did not exist restores "no value": the value is deleted, not emptied.
  const auto backup = live.backups().load(id);
  const bool deletes_value = backup && backup->target != Target::persistent_reservation && !backup->previous.present;
  const std::string restored = deletes_value ? ": deleted the value (it did not exist when the backup was taken)" : " [" + join(o.after) + "]";
  if (json) {
    io.out << nlohmann::json{{"ok", o.error.empty()}, {"target", name}, {"restored", id}, {"backup_of_current", o.backup_id},
                             {"error", o.error}, {"before", o.before}, {"after", o.after}, {"deletes_value", deletes_value},
                             {"dry_run", dry_run}}
                  .dump(2)
           << '\n';
  } else if (!o.error.empty()) {
    io.out << name << ": FAILED: " << o.error << '\n';
  } else if (dry_run) {
    io.out << name << ": would restore backup " << id
           << (deletes_value ? ": would delete the value (it did not exist when the backup was taken)" : " [" + join(o.after) + "]")
           << " (now [" << join(o.before) << "])\n";
  } else {
    io.out << name << ": restored backup " << id << restored << " (was [" << join(o.before) << "]; that value is in backup "
           << o.backup_id << "); takes effect " << (o.takes_effect == TakesEffect::immediately ? "" : "at the ") << to_string(o.takes_effect) << '\n';
  }
  return o.error.empty() ? cli::exit_ok : cli::exit_error;
}

} // namespace

int command_rollback(const std::vector<std::string>& args, cli::Io io) {
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help")
      ("list,l", "list the backups, newest first (the default)")
      ("restore", po::value<std::string>()->value_name("ID"), "restore the backup with this ID")
      ("dry-run,n", "with --restore: show what would be restored; write nothing")
      ("json", "print JSON");
  po::variables_map vm;
  if (const auto stop = cli::parse_command_line("rollback", options, rollback_about, args, vm, io)) return *stop;
  if (vm.count("restore") != 0 && vm.count("list") != 0) {
    io.err << "portguard rollback: use either --list or --restore ID\n";
    return cli::exit_usage;
  }
  const bool json = vm.count("json") != 0;
  LiveHost& live = win32_host(io).live_host();
  if (vm.count("restore") == 0) return list_backups(live, json, io);
  return restore_backup(live, vm["restore"].as<std::string>(), vm.count("dry-run") != 0, json, io);
}

} // namespace portguard::win32
