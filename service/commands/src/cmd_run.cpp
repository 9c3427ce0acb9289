// `portguard run`: the service's command line (the SCM starts `portguard.exe run`), and
// `run --console` for an admin at the keyboard. Builds the RunOptions from the command line and the
// Host, wires the install code the host may call (Group Policy's protect-at-boot), then runs the
// guard in the service host or the console.
#include "portguard/commands/commands.hpp"

#include "portguard/commands/options.hpp"
#include "portguard/install/boot_protection.hpp"
#include "portguard/host/logging.hpp"
#include "portguard/host/service_host.hpp"
#include "portguard/adapters/win32_error.hpp"
#include "portguard/commands/win32_host.hpp"

#include <boost/program_options.hpp>

#include <ostream>
#include <string>

namespace portguard::win32 {

namespace po = boost::program_options;

int command_run(const std::vector<std::string>& args, cli::Io io) {
  po::variables_map vm;
  if (const auto stop = cli::parse_command_line("run", cli::run_options(), cli::run_about, args, vm, io)) return *stop;
  const std::string policy = vm.count("policy") != 0 ? vm["policy"].as<std::string>() : std::string();
  const std::string data_dir = vm.count("data-dir") != 0 ? vm["data-dir"].as<std::string>() : std::string();
  RunOptions options;
  options.once = vm.count("once") != 0;
  const bool console = vm.count("console") != 0;
  if (options.once && !console) {
    io.err << "portguard run: --once needs --console\n";
    return cli::exit_usage;
  }
  // A console user sees a bad data folder setting as an error right here; the service has nobody
  // reading stderr, so it carries the error into ServiceMain (event 3010, SERVICE_STOPPED).
  std::string startup_error;
  try {
    options.layout = DataLayout::from_option(data_dir, win32_host(io).registry());
  } catch (const std::exception& e) {
    if (console) throw;
    startup_error = e.what();
  }
  options.policy_file = policy.empty() ? options.layout.policy_file() : std::filesystem::path(widen(policy));
  options.services_file = std::filesystem::path(widen(io.host.services_file()));
  // Group Policy's protect-at-boot is install code: wired here, so the host does not depend on it.
  options.protect_at_boot = [&registry = win32_host(io).registry(), layout = options.layout](const std::string& service) {
    return protect_service(registry, service, layout);
  };
  // Without a data folder there is no file log; the event carries the reason.
  auto log = startup_error.empty() ? make_logger(options.layout.logs_dir(), console) : make_logger({}, console);

  if (console) {
    const DWORD code = run_in_console(options, log, [&] {
      if (!options.once) io.err << "PortGuard is guarding (console mode). Press Ctrl+C to stop.\n";
    });
    return code == run_ok ? cli::exit_ok : cli::exit_error;
  }
  const std::optional<DWORD> code = run_as_service(options, log, std::move(startup_error));
  if (!code) {
    io.err << "portguard run: not started by the Service Control Manager. Use 'portguard run --console' to run the guard "
              "in this console.\n";
    return cli::exit_usage;
  }
  return *code == run_ok ? cli::exit_ok : cli::exit_error;
}

} // namespace portguard::win32
