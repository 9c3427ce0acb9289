// portguard snapshot [-o FILE] [--policy FILE]
// Writes the core's JSON snapshot of this host (docs/snapshot.md), to plan it elsewhere:
//   portguard snapshot -o host.json   then, anywhere:   portguard plan --snapshot host.json
// Exit: 0 written, 1 policy invalid, 2 host unreadable or file not writable, 64 bad command line.
#include "portguard/commands/adapter_commands.hpp"
#include "portguard/commands/options.hpp"
#include "portguard/commands/host.hpp"
#include "portguard/adapters/live_host.hpp"
#include "portguard/commands/win32_host.hpp"

#include "portguard/core/snapshot_json.hpp"

#include <boost/program_options.hpp>

#include <ostream>

namespace portguard::win32 {
namespace po = boost::program_options;

int command_snapshot(const std::vector<std::string>& args, cli::Io io) {
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help")
      ("output,o", po::value<std::string>()->value_name("FILE"), "write the snapshot to this file (atomically) instead of stdout");
  cli::add_policy_option(options, io.host, "policy whose registry-configured ports to look up; when it does not exist, the built-in catalog's");
  cli::add_services_file_option(options, io.host);
  constexpr std::string_view about =
      "Captures this host as the JSON snapshot of docs/snapshot.md: Windows version, services,\n"
      "the reservation mechanisms' current values, dynamic port ranges, ports in use.\n"
      "Never changes anything. Exit codes: 0 written, 1 policy invalid, 2 host unreadable or\n"
      "file not writable, 64 bad command line.\n\n";
  po::variables_map vm;
  if (const auto stop = cli::parse_command_line("snapshot", options, about, args, vm, io)) return *stop;
  const std::string policy_file = vm["policy"].as<std::string>();
  PolicyChoice choice;
  try {
    choice = choose_policy(policy_file, vm["services-file"].as<std::string>(), true);
  } catch (const config::PolicyError& e) {
    return cli::report_policy_error(e, "snapshot", policy_file, io);
  }
  LiveHost& live = win32_host(io).live_host();
  const std::string json = to_json(assess(live, choice.policy, ServiceDetail::full).host);
  if (vm.count("output") == 0) {
    io.out << json;
    if (json.empty() || json.back() != '\n') io.out << '\n';
    return cli::exit_ok;
  }
  const std::string file = vm["output"].as<std::string>();
  write_file_atomically(file, json.back() == '\n' ? json : json + "\n", ParentFolder::must_exist);
  io.err << "portguard snapshot: wrote " << file << '\n';
  return cli::exit_ok;
}

} // namespace portguard::win32
