#pragma once
// The portguard command line: one binary, one sub-command per job. Every command parses its own
// options with Boost.Program_options, prints results on stdout and errors on stderr, and returns
// one of the documented exit codes (docs/cli.md).
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace portguard::cli {

/// Exit codes of every command but `check` (which follows the Nagios plugin convention, below).
enum ExitCode : int {
  exit_ok = 0,          // done; nothing wrong
  exit_failed = 1,      // ran, and the answer is "no" (invalid policy, repair refused, ...)
  exit_error = 2,       // could not do the job (I/O, Win32 error, unreadable input)
  exit_usage = 64,      // bad command line (EX_USAGE from sysexits.h)
};

/// `portguard check`: Nagios / NSClient++ plugin convention.
enum CheckStatus : int { check_ok = 0, check_warning = 1, check_critical = 2, check_unknown = 3 };

class Host;

struct Io {
  std::ostream& out;
  std::ostream& err;
  Host& host;   // the machine the command runs on (cli/host.hpp)
};

using CommandFn = int (*)(const std::vector<std::string>& args, Io io);

struct Command {
  std::string_view name;
  std::string_view summary;   // one line for `portguard --help`
  CommandFn run;
};

/// Every command this build offers (the Windows build offers more than the Linux one).
std::span<const Command> commands();

/// Entry point shared by main() and wmain(): args excludes the program name.
int run_cli(const std::vector<std::string>& args, Io io);

} // namespace portguard::cli
