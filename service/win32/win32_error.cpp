#include "win32/win32_error.hpp"

namespace portguard::win32 {
namespace {
std::string describe(DWORD code, std::string_view api, std::string_view detail) {
  std::string text(api);
  if (!detail.empty()) {
    text += '(';
    text += detail;
    text += ')';
  }
  std::string message = std::system_category().message(static_cast<int>(code));
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == ' ')) message.pop_back();
  return text + " failed: " + message + " (Win32 error " + std::to_string(code) + ")";
}
} // namespace

Win32Error::Win32Error(DWORD code, std::string_view api, std::string_view detail)
    : std::system_error(static_cast<int>(code), std::system_category(), describe(code, api, detail)), api_(api) {}

void throw_last_error(std::string_view api, std::string_view detail) { throw Win32Error(::GetLastError(), api, detail); }

std::wstring widen(std::string_view utf8) {
  if (utf8.empty()) return {};
  const int n = ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  if (n <= 0) throw_last_error("MultiByteToWideChar");
  std::wstring out(static_cast<size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string narrow(std::wstring_view utf16) {
  if (utf16.empty()) return {};
  const int n = ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), nullptr, 0, nullptr, nullptr);
  if (n <= 0) throw_last_error("WideCharToMultiByte");
  std::string out(static_cast<size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), out.data(), n, nullptr, nullptr);
  return out;
}

} // namespace portguard::win32
