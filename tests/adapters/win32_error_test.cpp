// What operators read when a Win32 call fails: the API, what it was doing, the system's text once,
// and the numeric code — never the message twice, never a bare number.
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <catch2/catch.hpp>

#include <string>

using portguard::win32::Win32Error;

TEST_CASE("Win32Error names the call and the detail, and gives the system message exactly once") {
  const Win32Error e(ERROR_ACCESS_DENIED, "RegSetValueExW", "ReservedPorts");
  const std::string text = e.what();
  INFO(text);
  CHECK(text.rfind("RegSetValueExW(ReservedPorts) failed: ", 0) == 0);
  CHECK(text.size() > std::string("RegSetValueExW(ReservedPorts) failed: ").size() + 3);
  CHECK(text.find("(Win32 error 5)") != std::string::npos);
  const std::string message = text.substr(38, text.find(" (Win32 error") - 38);
  CHECK_FALSE(message.empty());
  CHECK(text.find(message, 38 + message.size()) == std::string::npos);
  CHECK(e.code() == ERROR_ACCESS_DENIED);
  CHECK(e.api() == "RegSetValueExW");
}

TEST_CASE("a failing real call becomes a Win32Error carrying GetLastError") {
  portguard::win32::unique_hkey key;
  const LSTATUS status = ::RegOpenKeyExW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\PortGuard-test-does-not-exist", 0, KEY_READ, key.put());
  REQUIRE(status == ERROR_FILE_NOT_FOUND);
  try {
    portguard::win32::check_status(status, "RegOpenKeyExW", "HKLM\\SOFTWARE\\PortGuard-test-does-not-exist");
    FAIL("check_status did not throw");
  } catch (const Win32Error& e) {
    CHECK(e.code() == ERROR_FILE_NOT_FOUND);
    CHECK(std::string(e.what()).find("(Win32 error 2)") != std::string::npos);
  }
}
