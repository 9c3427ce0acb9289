#pragma once
// Commands that need a live Windows host.
#include "portguard/commands/command.hpp"

namespace portguard::win32 {
int command_run(const std::vector<std::string>& args, cli::Io io);
} // namespace portguard::win32
