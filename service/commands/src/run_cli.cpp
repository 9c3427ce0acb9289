#include "portguard/commands/command.hpp"

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
  // One column for every summary, as wide as the longest command name needs.
  std::size_t width = std::string_view("-V, --version").size();
  for (const Command& c : commands()) width = std::max(width, c.name.size());
  const auto row = [&](std::string_view name, std::string_view text) {
    out << "  " << name << std::string(width + 2 - name.size(), ' ') << text << '\n';
  };
  for (const Command& c : commands()) row(c.name, c.summary);
  out << "\nGlobal options:\n";
  row("-h, --help", "show this help");
  row("-V, --version", "show the version");
  out << "\n"
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
