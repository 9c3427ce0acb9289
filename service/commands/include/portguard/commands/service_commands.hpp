#pragma once
// Service management commands (docs/cli.md, docs/service.md).
#include "portguard/commands/command.hpp"

namespace portguard::win32 {
int command_install_service(const std::vector<std::string>& args, cli::Io io);
int command_uninstall_service(const std::vector<std::string>& args, cli::Io io);
int command_protect(const std::vector<std::string>& args, cli::Io io);
int command_secure_data_dir(const std::vector<std::string>& args, cli::Io io);
int command_unprotect(const std::vector<std::string>& args, cli::Io io);
} // namespace portguard::win32
