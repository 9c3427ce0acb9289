#pragma once
// `portguard validate` and `portguard plan`: the policy as code, checked and planned offline.
#include "portguard/commands/command.hpp"

#include "portguard/config/policy.hpp"
#include "portguard/core/assess.hpp"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace portguard::cli {

int command_validate(const std::vector<std::string>& args, Io io);
int command_plan(const std::vector<std::string>& args, Io io);
int command_why(const std::vector<std::string>& args, Io io);

/// Reads a --snapshot file for `command` (plan, why). On failure prints why on stderr
/// ("portguard plan: the snapshot X is a directory; ...", a JSON error naming its path) and returns
/// nullopt: the command exits exit_error.
std::optional<HostSnapshot> read_snapshot_file(const std::string& file, std::string_view command, Io io);

/// The options of `plan` and `why`, in this order: --help, --policy, --snapshot, --services-file, --json.
boost::program_options::options_description assessment_options(Host& host, const char* policy_help, const char* snapshot_help, const char* json_help);

/// What `plan` and `why` answer from: the policy --policy names, accepted as the service accepts it
/// (with --services-file), and the assessment of the host --snapshot names, or of the live host
/// without it (Host::live() must then be true). On failure prints why on stderr and returns the
/// command's exit code (report_policy_error's, or exit_error for an unreadable snapshot).
std::optional<int> assess_policy_or_snapshot(const boost::program_options::variables_map& vm, std::string_view command, Io io,
                                             Assessment& assessment);

} // namespace portguard::cli
