// The command table. Each command lives in its own file; add one line here to offer it.
#include "portguard/commands/command.hpp"
#include "portguard/commands/policy_commands.hpp"
#include "portguard/commands/options.hpp"

#ifdef _WIN32
#include "portguard/commands/commands.hpp"
#include "portguard/commands/adapter_commands.hpp"
#include "portguard/commands/service_commands.hpp"
#endif

#include <array>
#include <ostream>

namespace portguard::cli {

std::span<const Command> commands() {
  static const auto table = std::to_array<Command>({
      {"validate", "check a policy file and print every problem", &command_validate},
      {"plan", "show what the guard would reserve on a host, and why (offline with --snapshot)", &command_plan},
      {"why", "why can't this port be bound? who holds it, what excludes or reserves it, what to do", &command_why},
#ifdef _WIN32
      {"discover", "list installed services, the ports they need and why, and who holds them", &win32::command_discover},
      {"snapshot", "write the JSON snapshot of this host (-o FILE) to plan it anywhere", &win32::command_snapshot},
      {"check", "monitoring check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios convention)", &win32::command_check},
      {"repair", "make this host hold the reservations the policy requires (--dry-run to preview)", &win32::command_repair},
      {"rollback", "list the backups taken before each change (--list) or restore one (--restore ID)", &win32::command_rollback},
      {"run", "run the guard: as the PortGuard service, or with --console in this console", &win32::command_run},
      {"install-service", "register the PortGuard service, its recovery actions and event source", &win32::command_install_service},
      {"uninstall-service", "remove the PortGuard service (and what protect added)", &win32::command_uninstall_service},
      {"protect", "make a service (e.g. DNS) wait for PortGuard at boot (DependOnService)", &win32::command_protect},
      {"secure-data-dir", "give the data folder its permissions (the MSI does it; needed before Windows Installer 5)", &win32::command_secure_data_dir},
      {"unprotect", "undo protect for a service", &win32::command_unprotect},
#else
      {"run", "run the guard (Windows only)", [](const std::vector<std::string>& args, Io io) {
         // Same options and --help as the Windows command, so the docs hold for both builds.
         boost::program_options::variables_map vm;
         if (const auto stop = parse_command_line("run", run_options(), run_about, args, vm, io)) return *stop;
         io.err << "portguard run: the guard service runs on Windows only; use 'plan' with --snapshot here.\n";
         return static_cast<int>(exit_error);
       }},
#endif
  });
  return table;
}

} // namespace portguard::cli
