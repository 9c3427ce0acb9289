#include "portguard/commands/service_commands.hpp"
#include "portguard/commands/options.hpp"

#include "portguard/core/error.hpp"
#include "portguard/adapters/data_layout.hpp"
#include "portguard/adapters/policy_acl.hpp"
#include "portguard/adapters/registry_store.hpp"
#include "portguard/commands/win32_host.hpp"
#include "portguard/install/boot_protection.hpp"
#include "portguard/install/service_registration.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <ostream>

namespace portguard::win32 {
namespace {

namespace po = boost::program_options;

/// Service names from repeated --service options, each of which may itself be a comma-separated
/// list ("DNS,NTDS": how the MSI's PROTECT property arrives). Empty items are dropped.
std::vector<std::string> service_names(const std::vector<std::string>& values) {
  std::vector<std::string> names;
  for (const auto& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      const std::size_t comma = std::min(value.find(',', start), value.size());
      std::string item = value.substr(start, comma - start);
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty()) names.push_back(std::move(item));
      start = comma + 1;
    }
  }
  return names;
}

} // namespace

int command_install_service(const std::vector<std::string>& args, cli::Io io) {
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("binary", po::value<std::string>()->value_name("PATH"), "portguard.exe to register (default: this one)")
      ("start", "start the service afterwards");
  constexpr std::string_view about =
      "Registers the PortGuard service (automatic start, LocalSystem, load-order group\n"
      "NetworkProvider), its recovery actions and its Event Log source. The MSI does the same.\n"
      "Exit codes: 0 done, 2 a Win32 error (e.g. the service already exists), 64 bad command line.\n\n";
  po::variables_map vm;
  if (auto rc = cli::parse_command_line("install-service", desc, about, args, vm, io)) return *rc;
  InstallOptions options;
  if (vm.count("binary") != 0) options.binary = std::filesystem::path(widen(vm["binary"].as<std::string>()));
  options.start = vm.count("start") != 0;
  Win32RegistryStore& registry = win32_host(io).registry();
  install_service(registry, options);
  io.out << "PortGuard service installed (group " << narrow(options.group) << ")\n";
  io.out << "data folder " << DataLayout::installed(registry).root().string() << ": SYSTEM and Administrators full control, Users read\n";
  if (const auto listed = group_in_service_group_order(registry, options.group); listed && !*listed) {
    io.err << "warning: the group " << narrow(options.group)
           << " is not in HKLM\\SYSTEM\\CurrentControlSet\\Control\\ServiceGroupOrder\\List: the SCM starts it after the listed "
              "groups, together with ungrouped services (see docs/service.md)\n";
  }
  return cli::exit_ok;
}

namespace {

/// --data-dir as every command that keeps state takes it.
void add_data_dir_option(po::options_description& desc) {
  desc.add_options()("data-dir", po::value<std::string>()->value_name("DIR"),
                     "data folder (default: the recorded DataDir, %ProgramData%\\PortGuard)");
}

std::string data_dir_option(const po::variables_map& vm) {
  return vm.count("data-dir") != 0 ? vm["data-dir"].as<std::string>() : std::string();
}

/// --help and --data-dir: all uninstall-service and secure-data-dir take.
po::options_description help_and_data_dir_options() {
  po::options_description desc("Options");
  desc.add_options()("help,h", "show this help");
  add_data_dir_option(desc);
  return desc;
}

/// The data folder --data-dir names, else the installed one (DataLayout::from_option).
DataLayout chosen_layout(const po::variables_map& vm, cli::Io io) {
  return DataLayout::from_option(data_dir_option(vm), win32_host(io).registry());
}

/// What `uninstall-service --help` says before the options.
constexpr std::string_view uninstall_service_about =
    "Stops and deletes the PortGuard service, removes exactly the DependOnService entries\n"
    "'portguard protect' added, and the Event Log source. Backups, state and logs stay.\n"
    "Exit codes: 0 removed, 1 the service is not installed (nothing to remove), 2 a Win32 error,\n"
    "64 bad command line.\n\n";

/// What `secure-data-dir --help` says before the options.
constexpr std::string_view secure_data_dir_about =
    "Gives the data folder its access control: SYSTEM and Administrators full control, Users\n"
    "read, not inherited from %ProgramData%. The MSI runs it on Windows Installer 4.5 and\n"
    "earlier (Windows Server 2003/2008), which ignore the package's own folder permissions;\n"
    "install-service runs it too. Needs an elevated administrator.\n"
    "Exit codes: 0 done, 2 a Win32 error, 64 bad command line.\n\n";

std::vector<std::string> service_option(const po::variables_map& vm) {
  return vm.count("service") != 0 ? service_names(vm["service"].as<std::vector<std::string>>()) : std::vector<std::string>{};
}

} // namespace

int command_uninstall_service(const std::vector<std::string>& args, cli::Io io) {
  const po::options_description desc = help_and_data_dir_options();
  po::variables_map vm;
  if (auto rc = cli::parse_command_line("uninstall-service", desc, uninstall_service_about, args, vm, io)) return *rc;
  std::vector<std::string> log;
  const bool was_installed = uninstall_service(win32_host(io).registry(), chosen_layout(vm, io), &log);
  for (const auto& line : log) io.out << line << '\n';
  if (!was_installed) {
    io.err << "portguard uninstall-service: the PortGuard service is not installed; there was no service to remove\n";
    return cli::exit_failed;
  }
  io.out << "PortGuard service removed\n";
  return cli::exit_ok;
}

namespace {

/// What `protect --help` says before the options.
constexpr std::string_view protect_about =
    "Makes a service wait for PortGuard at boot: appends PortGuard to its DependOnService\n"
    "(read, append, write back) and records the change so that 'unprotect' and uninstall\n"
    "remove exactly that. Takes effect at the next start of that service. Name at least one\n"
    "--service, or --list. Docker Desktop / WSL hosts: --service hns, so the guard's persistent\n"
    "exclusions exist before HNS allocates ports. A boot- or system-start driver is refused (it\n"
    "starts before any service). If PortGuard cannot start, the protected service fails to start\n"
    "with error 1068 (docs/service.md).\n"
    "Exit codes: 0 done, 1 refused for at least one service, 2 a Win32 error, 64 bad command line.\n\n";

/// What `unprotect --help` says before the options.
constexpr std::string_view unprotect_about =
    "Removes PortGuard from the DependOnService of services that 'protect' changed. Name at\n"
    "least one --service, or --all.\n"
    "Exit codes: 0 done, 1 nothing recorded for at least one service, 2 a Win32 error,\n"
    "64 bad command line.\n\n";

/// The options of protect and unprotect, in this order: --help, --service NAME (repeatable), the
/// option that names a whole set instead (`set_option`: --list, --all), --data-dir.
po::options_description service_set_options(const char* service_help, const char* set_option, const char* set_help) {
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("service", po::value<std::vector<std::string>>()->value_name("NAME")->composing(), service_help)
      (set_option, set_help);
  add_data_dir_option(desc);
  return desc;
}

} // namespace

int command_protect(const std::vector<std::string>& args, cli::Io io) {
  const po::options_description desc = service_set_options("service key name, e.g. DNS (repeatable, or a comma-separated list)", "list",
                                                           "list the services protect has changed");
  po::variables_map vm;
  if (auto rc = cli::parse_command_line("protect", desc, protect_about, args, vm, io)) return *rc;
  const DataLayout layout = chosen_layout(vm, io);
  Win32RegistryStore& registry = win32_host(io).registry();
  if (vm.count("list")) {
    const auto records = load_protect_records(layout);
    if (records.empty()) io.out << "No service is protected by PortGuard (nothing recorded in " << layout.state_dir().string() << ").\n";
    for (const auto& r : records) io.out << r.service << '\n';
    return cli::exit_ok;
  }
  const auto services = service_option(vm);
  if (services.empty()) {
    io.err << "portguard protect: name at least one --service, or --list\nUsage: " << cli::usage_line("protect", desc) << '\n';
    return cli::exit_usage;
  }
  int rc = cli::exit_ok;
  for (const auto& s : services) {
    try {
      if (protect_service(registry, s, layout)) {
        io.out << s << ": now depends on PortGuard (effective at its next start): " << dependency_tradeoff(registry, s) << '\n';
      } else if (is_recorded(s, layout)) {
        io.out << s << ": already protected by PortGuard; nothing changed ('portguard unprotect --service " << s << "' undoes it)\n";
      } else {
        io.out << s << ": already depends on PortGuard (set by someone else, so 'unprotect' will leave it); nothing changed\n";
      }
    } catch (const InputError& e) {
      io.err << "portguard protect: " << e.what() << '\n';
      rc = cli::exit_failed;
    }
  }
  return rc;
}

int command_secure_data_dir(const std::vector<std::string>& args, cli::Io io) {
  const po::options_description desc = help_and_data_dir_options();
  po::variables_map vm;
  if (auto rc = cli::parse_command_line("secure-data-dir", desc, secure_data_dir_about, args, vm, io)) return *rc;
  const std::filesystem::path target = chosen_layout(vm, io).root();
  secure_data_dir(target);
  io.out << target.string() << ": SYSTEM and Administrators full control, Users read (" << narrow(data_dir_sddl) << ")\n";
  return cli::exit_ok;
}

int command_unprotect(const std::vector<std::string>& args, cli::Io io) {
  const po::options_description desc =
      service_set_options("service key name (repeatable, or a comma-separated list)", "all", "every service protect changed");
  po::variables_map vm;
  if (auto rc = cli::parse_command_line("unprotect", desc, unprotect_about, args, vm, io)) return *rc;
  const DataLayout layout = chosen_layout(vm, io);
  std::vector<std::string> services = service_option(vm);
  if (vm.count("all"))
    for (const auto& r : load_protect_records(layout)) services.push_back(r.service);
  if (services.empty() && !vm.count("all")) {
    io.err << "portguard unprotect: name at least one --service, or --all\nUsage: " << cli::usage_line("unprotect", desc) << '\n';
    return cli::exit_usage;
  }
  if (services.empty()) io.out << "No service is protected by PortGuard (nothing recorded in " << layout.state_dir().string() << "); nothing changed.\n";
  int rc = cli::exit_ok;
  for (const auto& s : services) {
    if (unprotect_service(win32_host(io).registry(), s, layout)) {
      io.out << s << ": no longer depends on PortGuard\n";
    } else {
      io.err << "portguard unprotect: " << s << " was not protected by PortGuard (nothing recorded); nothing changed\n";
      rc = cli::exit_failed;
    }
  }
  return rc;
}

} // namespace portguard::win32
