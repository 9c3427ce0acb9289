#pragma once
// Win32 status codes become typed errors at the adapter boundary, with the API name and the code
// in the message: "RegSetValueExW(ReservedPorts) failed: Access is denied. (Win32 error 5)".
#include <windows.h>

#include <string>
#include <string_view>
#include <system_error>

namespace portguard::win32 {

class Win32Error : public std::system_error {
public:
  Win32Error(DWORD code, std::string_view api, std::string_view detail = {});
  DWORD code() const noexcept { return static_cast<DWORD>(std::system_error::code().value()); }
  const std::string& api() const noexcept { return api_; }
  /// "RegSetValueExW(ReservedPorts) failed: Access is denied (Win32 error 5)"
  const char* what() const noexcept override;

private:
  std::string api_;
  std::string what_;
};

/// Throws Win32Error(GetLastError(), api, detail).
[[noreturn]] void throw_last_error(std::string_view api, std::string_view detail = {});
/// For the registry and other APIs that return the status instead of setting the last error.
inline void check_status(LSTATUS status, std::string_view api, std::string_view detail = {}) {
  if (status != ERROR_SUCCESS) throw Win32Error(static_cast<DWORD>(status), api, detail);
}

std::wstring widen(std::string_view utf8);
std::string narrow(std::wstring_view utf16);

} // namespace portguard::win32
