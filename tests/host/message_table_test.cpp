// Proves the message table linked into portguard.exe is complete: FormatMessageW resolves every
// documented event ID (what Event Viewer does to show the text), and fills the insertion strings.
// A missing ID is what shows up on a Windows host as "The description for Event ID ... cannot be
// found" - the failure monitoring users notice.
#include "portguard/core/event_ids.hpp"
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

using namespace portguard;

namespace {

std::wstring exe_path() {
  if (const wchar_t* p = _wgetenv(L"PORTGUARD_EXE"); p != nullptr && *p != L'\0') return p;
  return win32::widen(PORTGUARD_EXE_PATH);
}

win32::unique_hmodule load_exe() {
  win32::unique_hmodule module(::LoadLibraryExW(exe_path().c_str(), nullptr, LOAD_LIBRARY_AS_DATAFILE));
  if (!module) win32::throw_last_error("LoadLibraryExW", win32::narrow(exe_path()));
  return module;
}

/// The message with %1..%N replaced by "<i1>", "<i2>", ...; nullopt-like empty + error code on failure.
std::wstring format(HMODULE module, std::uint32_t id, std::size_t inserts, DWORD& error) {
  std::vector<std::wstring> strings;
  for (std::size_t i = 1; i <= inserts; ++i) strings.push_back(L"<i" + std::to_wstring(i) + L">");
  std::vector<DWORD_PTR> args;
  for (const auto& s : strings) args.push_back(reinterpret_cast<DWORD_PTR>(s.c_str()));
  wchar_t* buffer = nullptr;
  const DWORD n = ::FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                                   module, id, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US),
                                   reinterpret_cast<wchar_t*>(&buffer), 0,
                                   args.empty() ? nullptr : reinterpret_cast<va_list*>(args.data()));
  error = n == 0 ? ::GetLastError() : 0;
  win32::unique_hlocal owner(buffer);
  return n == 0 ? std::wstring() : std::wstring(buffer, n);
}

} // namespace

TEST_CASE("FormatMessageW resolves every documented event ID from portguard.exe") {
  auto module = load_exe();
  REQUIRE(events::all.size() >= 20);
  for (const events::EventInfo& e : events::all) {
    INFO("event " << e.id << " (" << e.name << ")");
    DWORD error = 0;
    const std::wstring text = format(module.get(), e.id, e.inserts, error);
    CHECK(error == 0);
    REQUIRE_FALSE(text.empty());
    // Every insertion string lands in the text: the .mc and the header agree on the count.
    for (std::size_t i = 1; i <= e.inserts; ++i) {
      if (e.rate_limited && i == e.inserts) continue;  // the suppressed note is appended, may be empty
      CHECK(text.find(L"<i" + std::to_wstring(i) + L">") != std::wstring::npos);
    }
    CHECK(text.find(L"%") == std::wstring::npos);
  }
}

TEST_CASE("The port-conflict event reads as the incident report ops expect") {
  auto module = load_exe();
  const wchar_t* strings[] = {L"UDP", L"1645", L"IAS", L"dns.exe (PID 1816)", L""};
  DWORD_PTR inserts[5];
  for (int i = 0; i < 5; ++i) inserts[i] = reinterpret_cast<DWORD_PTR>(strings[i]);
  wchar_t* buffer = nullptr;
  const DWORD n = ::FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                                   module.get(), events::port_conflict, 0, reinterpret_cast<wchar_t*>(&buffer), 0,
                                   reinterpret_cast<va_list*>(inserts));
  win32::unique_hlocal owner(buffer);
  REQUIRE(n > 0);
  std::wstring text(buffer, n);
  while (!text.empty() && (text.back() == L'\n' || text.back() == L'\r')) text.pop_back();
  CHECK(win32::narrow(text) == "UDP 1645 needed by IAS is held by dns.exe (PID 1816).");
}

TEST_CASE("An undocumented ID is not in the table") {
  auto module = load_exe();
  DWORD error = 0;
  CHECK(format(module.get(), 4242, 0, error).empty());
  CHECK(error == ERROR_MR_MID_NOT_FOUND);
}
