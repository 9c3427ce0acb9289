#pragma once
// The ops commands that read or change the live host through the Win32 adapters (docs/cli.md).
#include "portguard/commands/command.hpp"

namespace portguard::win32 {
int command_discover(const std::vector<std::string>& args, cli::Io io);
int command_snapshot(const std::vector<std::string>& args, cli::Io io);
int command_check(const std::vector<std::string>& args, cli::Io io);
int command_repair(const std::vector<std::string>& args, cli::Io io);
int command_rollback(const std::vector<std::string>& args, cli::Io io);
} // namespace portguard::win32
