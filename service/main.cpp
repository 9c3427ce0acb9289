#include "cli/command.hpp"

#include <iostream>
#include <string>
#include <vector>

#ifdef _WIN32
#include "win32/win32_error.hpp"

#include <windows.h>

// wmain: the command line arrives as UTF-16 and is handed to the CLI as UTF-8.
int wmain(int argc, wchar_t** argv) {
  ::SetConsoleOutputCP(CP_UTF8);
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.push_back(portguard::win32::narrow(argv[i]));
  return portguard::cli::run_cli(args, {std::cout, std::cerr});
}
#else
int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return portguard::cli::run_cli(args, {std::cout, std::cerr});
}
#endif
