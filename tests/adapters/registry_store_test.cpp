// Win32RegistryStore against Wine's real registry: every REG_MULTI_SZ shape an admin or a tool can
// leave behind is read byte-exactly and decoded without crashing; writes round-trip to the byte.
#include "support/hooked_registry.hpp"
#include "portguard/adapters/registry_store.hpp"
#include "portguard/adapters/win32_error.hpp"
#include "portguard/adapters/unique_handle.hpp"

#include "portguard/core/ports.hpp"
#include "portguard/core/error.hpp"
#include "portguard/core/registry_value.hpp"

#include <catch2/catch.hpp>

#include <windows.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace portguard;
using portguard::win32::Win32RegistryStore;

namespace {

constexpr const char* test_key = "HKLM\\SOFTWARE\\PortGuardTest\\Shapes";
constexpr const wchar_t* test_subkey = L"SOFTWARE\\PortGuardTest\\Shapes";

/// Writes raw bytes with the Win32 API directly (not through the adapter under test).
void set_raw(const wchar_t* name, DWORD type, const std::vector<std::uint8_t>& bytes) {
  win32::unique_hkey h;
  REQUIRE(::RegCreateKeyExW(HKEY_LOCAL_MACHINE, test_subkey, 0, nullptr, 0, KEY_ALL_ACCESS, nullptr, h.put(), nullptr) == ERROR_SUCCESS);
  REQUIRE(::RegSetValueExW(h.get(), name, 0, type, bytes.empty() ? nullptr : bytes.data(), static_cast<DWORD>(bytes.size())) == ERROR_SUCCESS);
}

std::vector<std::uint8_t> get_raw(const wchar_t* name, DWORD* type_out = nullptr) {
  win32::unique_hkey h;
  REQUIRE(::RegOpenKeyExW(HKEY_LOCAL_MACHINE, test_subkey, 0, KEY_READ, h.put()) == ERROR_SUCCESS);
  DWORD size = 0, type = 0;
  REQUIRE(::RegQueryValueExW(h.get(), name, nullptr, &type, nullptr, &size) == ERROR_SUCCESS);
  std::vector<std::uint8_t> data(size);
  REQUIRE(::RegQueryValueExW(h.get(), name, nullptr, &type, data.data(), &size) == ERROR_SUCCESS);
  if (type_out != nullptr) *type_out = type;
  return data;
}

/// UTF-16LE bytes of a string that may contain NULs ("a\0b\0\0" written as u"a\0b\0\0").
std::vector<std::uint8_t> utf16(std::u16string_view s) {
  std::vector<std::uint8_t> out;
  for (char16_t c : s) {
    out.push_back(static_cast<std::uint8_t>(c & 0xff));
    out.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  return out;
}

using Strings = std::vector<std::string>;

} // namespace

TEST_CASE("every REG_MULTI_SZ shape found in the registry is decoded, nothing is lost") {
  Win32RegistryStore store;
  struct Shape {
    const wchar_t* name;
    std::u16string bytes;
    Strings expected;
  };
  using namespace std::string_literals;
  const std::vector<Shape> shapes = {
      {L"Canonical", u"1645-1646\0" u"1812-1813\0\0"s, {"1645-1646", "1812-1813"}},
      {L"EmptyList", u"\0"s, {}},
      {L"ZeroBytes", u""s, {}},
      {L"OneEmptyString", u"\0\0"s, {""}},
      {L"EmptyInMiddle", u"1645-1645\0\0" u"1646-1646\0\0"s, {"1645-1645", "", "1646-1646"}},
      {L"MissingListTerminator", u"1645-1646\0" u"1812-1813\0"s, {"1645-1646", "1812-1813"}},
      {L"NoTerminatorAtAll", u"1645-1646\0" u"1812-1813"s, {"1645-1646", "1812-1813"}},
      {L"Garbage", u" 1645 - 1646 \0abc\0" u"70000\0\0"s, {" 1645 - 1646 ", "abc", "70000"}},
      {L"NonAscii", u"caf\u00e9\0\0"s, {"caf\xc3\xa9"}},
  };
  for (const auto& shape : shapes) {
    if (shape.bytes.empty() || shape.bytes.back() != u'\0') {
      // RegSetValueExW may count a "forgotten" terminator itself; the adapter's raw write may not.
      store.write_raw(test_key, win32::narrow(shape.name), {REG_MULTI_SZ, utf16(shape.bytes)});
    } else {
      set_raw(shape.name, REG_MULTI_SZ, utf16(shape.bytes));
    }
    const auto name = win32::narrow(shape.name);
    INFO(name);
    const MultiStringValue v = store.read_multi_string(test_key, name);
    CHECK(v.present);
    // Only a value in canonical layout is trusted as it is (issue 18): a missing terminator is
    // decoded, and flagged so the guard rewrites it.
    const bool canonical = shape.expected.empty() || utf16(shape.bytes) == encode_multi_sz(shape.expected);
    CHECK(v.type_problem.empty() == canonical);
    CHECK(v.strings == shape.expected);
    // The raw read gives the exact bytes back, which is what backups keep.
    const auto raw = store.read_raw(test_key, name);
    REQUIRE(raw.has_value());
    CHECK(raw->type == REG_MULTI_SZ);
    CHECK(raw->data == utf16(shape.bytes));
  }
}

TEST_CASE("an odd number of bytes does not crash the reader") {
  set_raw(L"OddBytes", REG_MULTI_SZ, {'1', 0, '6', 0, 0});
  Win32RegistryStore store;
  const auto v = store.read_multi_string(test_key, "OddBytes");
  CHECK(v.present);
  CHECK(v.strings == Strings{"16"});
}

TEST_CASE("a value of the wrong type is reported, with its text recovered") {
  using namespace std::string_literals;
  set_raw(L"WrongTypeSz", REG_SZ, utf16(u"1645-1646\0"s));
  set_raw(L"WrongTypeDword", REG_DWORD, {0x6d, 0x06, 0, 0});
  Win32RegistryStore store;
  const auto sz = store.read_multi_string(test_key, "WrongTypeSz");
  CHECK(sz.present);
  CHECK(sz.type_problem == "value has type REG_SZ, expected REG_MULTI_SZ");
  CHECK(sz.strings == Strings{"1645-1646"});
  const auto dw = store.read_multi_string(test_key, "WrongTypeDword");
  CHECK(dw.type_problem == "value has type REG_DWORD, expected REG_MULTI_SZ");
  CHECK(dw.strings.empty());
  CHECK_THROWS_WITH(store.read_string(test_key, "WrongTypeDword"), Catch::Contains("expected REG_SZ"));
  CHECK(store.read_dword(test_key, "WrongTypeDword") == 0x066dU);
  CHECK_THROWS_WITH(store.read_dword(test_key, "WrongTypeSz"), Catch::Contains("expected REG_DWORD"));
}

TEST_CASE("missing keys and values are 'not present', not errors") {
  Win32RegistryStore store;
  CHECK_FALSE(store.read_multi_string("HKLM\\SOFTWARE\\PortGuardTest\\NoSuchKey", "ReservedPorts").present);
  CHECK_FALSE(store.read_multi_string(test_key, "NoSuchValue").present);
  CHECK_FALSE(store.read_dword(test_key, "NoSuchValue").has_value());
  CHECK_FALSE(store.read_string(test_key, "NoSuchValue").has_value());
  CHECK_FALSE(store.read_raw(test_key, "NoSuchValue").has_value());
  CHECK(store.subkeys("HKLM\\SOFTWARE\\PortGuardTest\\NoSuchKey").empty());
  CHECK_NOTHROW(store.delete_value(test_key, "NoSuchValue"));
  CHECK_THROWS_WITH(store.read_multi_string("HKXX\\Software", "x"), Catch::Contains("unsupported registry root"));
}

TEST_CASE("write_multi_string writes canonical bytes and round-trips every string shape") {
  Win32RegistryStore store;
  const std::vector<Strings> values = {{}, {""}, {"1645-1646"}, {"1645-1646", "", "garbage entry"}, {"caf\xc3\xa9", "1812-1813"}};
  for (const auto& v : values) {
    store.write_multi_string(test_key, "RoundTrip", v);
    CHECK(store.read_multi_string(test_key, "RoundTrip").strings == v);
    DWORD type = 0;
    CHECK(get_raw(L"RoundTrip", &type) == encode_multi_sz(v));
    CHECK(type == REG_MULTI_SZ);
  }
  using namespace std::string_literals;
  CHECK(get_raw(L"RoundTrip") == utf16(u"caf\u00e9\0" u"1812-1813\0\0"s));
  CHECK_THROWS(store.write_multi_string(test_key, "RoundTrip", {"a\0b"s}));
}

TEST_CASE("raw writes reproduce a value byte-exactly, including a wrong type and a missing terminator") {
  Win32RegistryStore store;
  using namespace std::string_literals;
  const RawRegistryValue odd{REG_MULTI_SZ, utf16(u"1645-1646\0" u"1812"s)};
  store.write_raw(test_key, "Raw", odd);
  CHECK(store.read_raw(test_key, "Raw") == odd);
  const RawRegistryValue sz{REG_SZ, utf16(u"1645-1646\0"s)};
  store.write_raw(test_key, "Raw", sz);
  CHECK(store.read_raw(test_key, "Raw") == sz);
  store.delete_value(test_key, "Raw");
  CHECK_FALSE(store.read_raw(test_key, "Raw").has_value());
}

TEST_CASE("the real ReservedPorts location can be written, created when missing, and enumerated") {
  Win32RegistryStore store;
  const std::string key(registry_paths::tcpip_parameters);
  store.write_multi_string(key, registry_paths::reserved_ports_value, {"1645-1646"});
  CHECK(store.read_multi_string(key, registry_paths::reserved_ports_value).strings == Strings{"1645-1646"});
  // DNS\Parameters does not exist in a fresh prefix: the write creates it.
  const std::string dns(registry_paths::dns_parameters);
  CHECK_FALSE(store.read_multi_string(dns, registry_paths::socket_pool_excluded_value).present);
  store.write_multi_string(dns, registry_paths::socket_pool_excluded_value, {"1812-1813"});
  CHECK(store.read_multi_string(dns, registry_paths::socket_pool_excluded_value).strings == Strings{"1812-1813"});
  const auto services = store.subkeys(std::string(registry_paths::services_root));
  CHECK(std::find(services.begin(), services.end(), "Tcpip") != services.end());
  CHECK(std::find(services.begin(), services.end(), "DNS") != services.end());
}

TEST_CASE("the test hook runs before the registry is touched") {
  Win32RegistryStore real;
  testing::HookedRegistry store(real);
  store.write_multi_string(test_key, "Hooked", {"1-1"});
  int calls = 0;
  store.hook = [&](testing::HookedRegistry::Op op, std::string_view, std::string_view value) {
    if (op == testing::HookedRegistry::Op::read && value == "Hooked" && calls++ == 0) {
      // Another writer gets in first: the read must see its value.
      Win32RegistryStore other;
      other.write_multi_string(test_key, "Hooked", {"2-2"});
    }
  };
  CHECK(store.read_multi_string(test_key, "Hooked").strings == Strings{"2-2"});
  CHECK(calls == 1);
}

TEST_CASE("installer writes: REG_SZ and REG_EXPAND_SZ with their terminator, REG_DWORD, and a key deleted") {
  using namespace std::string_literals;
  Win32RegistryStore store;
  store.write_string(test_key, "Text", "C:\\ProgramData\\PortGuard");
  store.write_string(test_key, "Expand", "%SystemRoot%\\é", reg_type::expand_sz);
  store.write_dword(test_key, "Types", 7);
  DWORD type = 0;
  CHECK(get_raw(L"Text", &type) == utf16(u"C:\\ProgramData\\PortGuard\0"s));
  CHECK(type == REG_SZ);
  CHECK(get_raw(L"Expand", &type) == utf16(u"%SystemRoot%\\é\0"s));
  CHECK(type == REG_EXPAND_SZ);
  CHECK(get_raw(L"Types", &type) == std::vector<std::uint8_t>{7, 0, 0, 0});
  CHECK(type == REG_DWORD);
  CHECK(store.read_string(test_key, "Text") == "C:\\ProgramData\\PortGuard");
  CHECK(store.read_dword(test_key, "Types") == 7u);
  CHECK_THROWS_AS(store.write_string(test_key, "Bad", "x", reg_type::multi_sz), Error);

  const std::string doomed = std::string(test_key) + "\\Doomed";
  store.write_dword(doomed, "Here", 1);
  REQUIRE(store.value_names(doomed).has_value());
  store.delete_key(doomed);
  CHECK_FALSE(store.value_names(doomed).has_value());
  CHECK_NOTHROW(store.delete_key(doomed));   // already gone: not an error (uninstall twice)
}
