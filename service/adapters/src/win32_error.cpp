#include "portguard/adapters/win32_error.hpp"

namespace portguard::win32 {
namespace {
// std::system_error builds what() as "<what_arg>: <system message>"; the what_arg therefore names
// only the call, and the code goes after the message: "RegSetValueExW(ReservedPorts) failed: Access
// is denied. (Win32 error 5)" would repeat the text if the message were put in what_arg as well.
std::string describe_call(std::string_view api, std::string_view detail) {
  std::string text(api);
  if (!detail.empty()) {
    text += '(';
    text += detail;
    text += ')';
  }
  return text + " failed";
}

std::string trimmed_message(DWORD code) {
  std::string message = std::system_category().message(static_cast<int>(code));
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == ' ' || message.back() == '.'))
    message.pop_back();
  return message;
}
} // namespace

Win32Error::Win32Error(DWORD code, std::string_view api, std::string_view detail)
    : std::system_error(static_cast<int>(code), std::system_category(), describe_call(api, detail)),
      api_(api),
      what_(describe_call(api, detail) + ": " + trimmed_message(code) + " (Win32 error " + std::to_string(code) + ")") {}

const char* Win32Error::what() const noexcept { return what_.c_str(); }

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
