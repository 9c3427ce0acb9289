#pragma once
// `portguard validate` and `portguard plan`: the policy as code, checked and planned offline.
#include "cli/command.hpp"

#include "portguard/config/policy.hpp"
#include "portguard/core/assess.hpp"

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

} // namespace portguard::cli
