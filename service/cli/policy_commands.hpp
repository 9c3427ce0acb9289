#pragma once
// `portguard validate` and `portguard plan`: the policy as code, checked and planned offline.
#include "cli/command.hpp"

#include "portguard/core/ports.hpp"
#include "portguard/core/snapshot.hpp"

#include <vector>

namespace portguard::cli {

int command_validate(const std::vector<std::string>& args, Io io);
int command_plan(const std::vector<std::string>& args, Io io);

/// How `portguard plan` without --snapshot captures the live host. nullptr in builds that cannot
/// (Linux): then --snapshot is required. The Windows build sets it to its SystemProbe (e.g. from
/// wmain, before run_cli) so cmd_plan.cpp stays portable. Throws on failure like any probe.
using CaptureLiveHostFn = HostSnapshot (*)(const std::vector<ConfiguredPortQuery>& configured_ports);
extern CaptureLiveHostFn capture_live_host;

} // namespace portguard::cli
