#pragma once
// What every command's command line has in common: one parser with the same usage-error and
// --help behaviour, and one way to report a policy that cannot be used.
#include "cli/command.hpp"

#include "portguard/config/policy.hpp"

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portguard::cli {

/// Parses `args` against `options` (which must offer "help,h"). On a bad command line prints
/// "portguard <command>: <what>" and the options on stderr and returns exit_usage; on --help
/// prints `about` (ending in a blank line) and the options on stdout and returns exit_ok; otherwise fills `vm` and returns
/// nullopt: the command goes on.
std::optional<int> parse_command_line(std::string_view command, const boost::program_options::options_description& options,
                                      std::string_view about, const std::vector<std::string>& args,
                                      boost::program_options::variables_map& vm, Io io);

/// Prints every diagnostic and one line saying what to do; returns the command's exit code:
/// exit_error for an unreadable policy, exit_failed for an invalid one.
int report_policy_error(const config::PolicyError& e, std::string_view command, const std::string& file, Io io);

} // namespace portguard::cli
