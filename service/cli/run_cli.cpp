#include "cli/command.hpp"

#include "portguard/core/version.hpp"

#include <algorithm>
#include <exception>
#include <ostream>

namespace portguard::cli {
namespace {

void print_usage(std::ostream& out) {
  out << "PortGuard " << version() << " - keeps the ports boot-time services need out of the hands of\n"
      << "random port allocators (DNS socket pool, dynamic ports).\n\n"
      << "Usage: portguard <command> [options]\n"
      << "       portguard <command> --help\n\n"
      << "Commands:\n";
  for (const Command& c : commands()) {
    out << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ') << c.summary << '\n';
  }
  out << "\nGlobal options:\n"
      << "  -h, --help     show this help\n"
      << "  -V, --version  show the version\n\n"
      << "Exit codes and every option: docs/cli.md\n";
}

} // namespace

int run_cli(const std::vector<std::string>& args, Io io) {
  if (args.empty()) {
    print_usage(io.err);
    return exit_usage;
  }
  const std::string& first = args.front();
  if (first == "-h" || first == "--help" || first == "help") {
    print_usage(io.out);
    return exit_ok;
  }
  if (first == "-V" || first == "--version") {
    io.out << "portguard " << version() << '\n';
    return exit_ok;
  }
  const auto all = commands();
  const auto it = std::find_if(all.begin(), all.end(), [&](const Command& c) { return c.name == first; });
  if (it == all.end()) {
    io.err << "portguard: unknown command '" << first << "'. Run 'portguard --help' for the list of commands.\n";
    return exit_usage;
  }
  try {
    return it->run(std::vector<std::string>(args.begin() + 1, args.end()), io);
  } catch (const std::exception& e) {
    io.err << "portguard " << first << ": " << e.what() << '\n';
    return exit_error;
  }
}

} // namespace portguard::cli
