#pragma once
// What every Windows test tool needs (pg-scm, dns-sim, radius-sim, pg-bench): UTF-8 output of wide
// strings, the text of a Win32 error, a monotonic millisecond clock and the SCM's state names.
// Test code, not product code: the product has its own Win32Error (service/adapters/include/portguard/adapters/win32_error.hpp).
#include "portguard/adapters/unique_handle.hpp"

#include <chrono>
#include <string>

namespace win32_tool {

inline std::string narrow(const std::wstring& w) {
  if (w.empty()) return {};
  const int n = ::WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), out.data(), n, nullptr, nullptr);
  return out;
}

/// The text of a Win32/WinSock error code, without the trailing CR/LF FormatMessage adds.
inline std::string error_text(DWORD code) {
  wchar_t* buf = nullptr;
  const DWORD n = ::FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                                   nullptr, code, 0, reinterpret_cast<wchar_t*>(&buf), 0, nullptr);
  const portguard::win32::unique_hlocal owned(buf);
  std::wstring text = n && buf ? std::wstring(buf, n) : std::wstring();
  if (text.empty()) {
    // Wine's system message table lacks the WinSock texts that Windows has: use Windows' wording.
    switch (code) {
      case WSAEADDRINUSE: text = L"Only one usage of each socket address (protocol/network address/port) is normally permitted."; break;
      case WSAEACCES: text = L"An attempt was made to access a socket in a way forbidden by its access permissions."; break;
      default: text = L"unknown error"; break;
    }
  }
  while (!text.empty() && (text.back() == L'\r' || text.back() == L'\n' || text.back() == L' ')) text.pop_back();
  return narrow(text);
}

/// Milliseconds on a monotonic clock (GetTickCount64 is Vista+; the headers target 2003).
inline ULONGLONG tick_ms() {
  return static_cast<ULONGLONG>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

/// The SCM's name of a service state, as `sc query` prints it.
inline const char* state_name(DWORD state) {
  switch (state) {
    case SERVICE_STOPPED: return "STOPPED";
    case SERVICE_START_PENDING: return "START_PENDING";
    case SERVICE_STOP_PENDING: return "STOP_PENDING";
    case SERVICE_RUNNING: return "RUNNING";
    case SERVICE_CONTINUE_PENDING: return "CONTINUE_PENDING";
    case SERVICE_PAUSE_PENDING: return "PAUSE_PENDING";
    case SERVICE_PAUSED: return "PAUSED";
    default: return "UNKNOWN";
  }
}

} // namespace win32_tool
