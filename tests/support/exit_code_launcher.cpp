// pg-exitcode.exe PROGRAM [ARGS...]: runs PROGRAM, waits, and prints "exit code: N" with the full
// 32-bit Windows exit code, which a Unix shell sees only modulo 256 under Wine (1603 -> 67).
// Its own exit status is 0 when it could run PROGRAM, 125 when not.
#include "portguard/adapters/unique_handle.hpp"

#include <cstdio>
#include <string>

namespace {
std::wstring quote(const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\"") == std::wstring::npos) return arg;
  std::wstring out = L"\"";
  size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') { ++backslashes; continue; }
    if (c == L'"') out.append(backslashes * 2 + 1, L'\\');
    else out.append(backslashes, L'\\');
    backslashes = 0;
    out.push_back(c);
  }
  out.append(backslashes * 2, L'\\');
  out.push_back(L'"');
  return out;
}
} // namespace

int wmain(int argc, wchar_t** argv) {
  if (argc < 2) {
    std::fputs("usage: pg-exitcode PROGRAM [ARGS...]\n", stderr);
    return 125;
  }
  std::wstring cmdline;
  for (int i = 1; i < argc; ++i) {
    if (i > 1) cmdline.push_back(L' ');
    cmdline += quote(argv[i]);
  }
  STARTUPINFOW si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  if (!::CreateProcessW(nullptr, cmdline.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi)) {
    std::fprintf(stderr, "pg-exitcode: CreateProcessW failed (Win32 error %lu)\n", ::GetLastError());
    return 125;
  }
  const portguard::win32::unique_handle_t thread(pi.hThread), process(pi.hProcess);
  ::WaitForSingleObject(process.get(), INFINITE);
  DWORD code = 0;
  ::GetExitCodeProcess(process.get(), &code);
  std::printf("exit code: %lu\n", code);
  std::fflush(stdout);
  return 0;
}
