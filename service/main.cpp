#include "portguard/commands/command.hpp"
#include "portguard/commands/host.hpp"

#include <iostream>
#include <string>
#include <vector>

#ifdef _WIN32
#include "portguard/adapters/win32_error.hpp"
#include "portguard/commands/win32_host.hpp"

#include <windows.h>

// wmain: the command line arrives as UTF-16 and is handed to the CLI as UTF-8.
int wmain(int argc, wchar_t** argv) {
  ::SetConsoleOutputCP(CP_UTF8);
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.push_back(portguard::win32::narrow(argv[i]));
  portguard::win32::Win32Host host;
  return portguard::cli::run_cli(args, {std::cout, std::cerr, host});
}
#else
int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  portguard::cli::OfflineHost host;
  return portguard::cli::run_cli(args, {std::cout, std::cerr, host});
}
#endif
