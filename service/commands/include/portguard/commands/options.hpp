#pragma once
// What every command's command line has in common: one parser with the same usage-error and
// --help behaviour, usage lines generated from the option definitions (docs/cli.md's usage lines
// are generated from them too: scripts/gen_cli_docs.py), and one way to report a policy that
// cannot be used.
#include "portguard/commands/command.hpp"

#include "portguard/config/group_policy.hpp"
#include "portguard/config/policy.hpp"

#include <boost/program_options.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portguard::cli {

/// "portguard plan [--policy FILE] [--snapshot HOST.json] ...": every option but --help, in
/// definition order, with its value name (po::value()->value_name()); a repeatable (composing)
/// option ends in "...". The one usage line `--help` prints and docs/cli.md shows.
std::string usage_line(std::string_view command, const boost::program_options::options_description& options,
                       std::string_view operand = {});

/// The one argument a command takes besides options (`portguard why PORT[/udp|/tcp]`): its name
/// in the usage line and the key it is stored under in the variables map. Required when named.
struct Operand {
  std::string_view usage;   // "PORT[/udp|/tcp]"
  std::string_view key;     // "port"
};

/// Parses `args` into `vm`. Returns what is wrong with the command line (an unknown option, a
/// missing value, an argument that is not an option, e.g. `validate bad.toml`: then naming the
/// option it probably meant), or nullopt when it is fine.
std::optional<std::string> parse_options(const boost::program_options::options_description& options, const std::vector<std::string>& args,
                                         boost::program_options::variables_map& vm, const Operand& operand = {});

/// Parses `args` against `options` (which must offer "help,h"). On a bad command line prints
/// "portguard <command>: <what>" and the usage on stderr and returns exit_usage; on --help prints
/// the usage line, `about` (ending in a blank line) and the options on stdout and returns exit_ok;
/// otherwise fills `vm` and returns nullopt: the command goes on.
std::optional<int> parse_command_line(std::string_view command, const boost::program_options::options_description& options,
                                      std::string_view about, const std::vector<std::string>& args,
                                      boost::program_options::variables_map& vm, Io io, const Operand& operand = {});

/// The options of `portguard run`, shared by the Windows command and the Linux build's stub (which
/// answers --help the same way and otherwise says the guard runs on Windows only).
boost::program_options::options_description run_options();
inline constexpr std::string_view run_about =
    "Runs the guard: as the PortGuard service when the Service Control Manager starts it,\n"
    "or with --console in this console (Ctrl+C stops it).\n"
    "Exit codes: 0 normal stop, 2 the guard failed, 64 bad command line (or run without --console\n"
    "when not started by the Service Control Manager).\n\n";

/// The options several commands share, defined once so their names, value names, defaults and
/// help read the same everywhere (docs/cli.md is generated from them). Each adds one option.
/// --policy FILE, defaulting to the installed policy (Host::default_policy_file()).
void add_policy_option(boost::program_options::options_description& options, Host& host, const char* help = "policy file");
/// --snapshot HOST.json: a captured host (docs/snapshot.md) instead of the live one.
void add_snapshot_option(boost::program_options::options_description& options, const char* help);
/// --services-file FILE, defaulting to the system's services file.
void add_services_file_option(boost::program_options::options_description& options, Host& host);

/// Prints every diagnostic and one line saying what to do; returns the command's exit code:
/// exit_error for an unreadable policy, exit_failed for an invalid one.
int report_policy_error(const config::PolicyError& e, std::string_view command, const std::string& file, Io io);

/// A policy that is readable and valid but that the service refuses because accounts other than
/// SYSTEM, Administrators and the owner can write it (event 3007).
class PolicyRefusedError : public config::PolicyError {
public:
  PolicyRefusedError(const std::string& file, std::string writers);
  const std::string& writers() const noexcept { return writers_; }

private:
  std::string writers_;
};

/// The one acceptance of a policy file, shared by validate, plan, check and the service: readable,
/// valid, and not writable by anyone who should not steer a SYSTEM service, merged with the
/// machine's Group Policy settings (docs/policy.md, precedence). Throws PolicyError (unreadable:
/// PolicyReadError; bad Group Policy values: GroupPolicyError) or PolicyRefusedError. Permissions
/// that cannot be read do not refuse the policy (the service logs them and goes on the same way).
/// `host` answers who may write the file (Host::policy_writers) and the Group Policy settings.
config::Policy load_accepted_policy(Host& host, const std::filesystem::path& file, const std::filesystem::path& services_file);

} // namespace portguard::cli
