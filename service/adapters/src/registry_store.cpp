#include "portguard/adapters/registry_store.hpp"

#include "portguard/core/error.hpp"
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <algorithm>
#include <cstddef>
#include <cwctype>

namespace portguard::win32 {
namespace {

struct SplitPath {
  HKEY root;
  std::wstring subkey;
};

SplitPath split(std::string_view path) {
  const auto slash = path.find('\\');
  std::string root(path.substr(0, slash));
  std::transform(root.begin(), root.end(), root.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  const std::string_view rest = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  if (root == "HKLM" || root == "HKEY_LOCAL_MACHINE") return {HKEY_LOCAL_MACHINE, widen(rest)};
  if (root == "HKCU" || root == "HKEY_CURRENT_USER") return {HKEY_CURRENT_USER, widen(rest)};
  if (root == "HKU" || root == "HKEY_USERS") return {HKEY_USERS, widen(rest)};
  throw InputError(std::string(path), "unsupported registry root '" + root + "' (use HKLM\\..., HKCU\\... or HKU\\...)");
}

std::string describe(std::string_view key, std::string_view value) {
  return std::string(key) + "\\" + std::string(value);
}

/// nullopt when the key does not exist.
std::optional<unique_hkey> open_key(std::string_view key, REGSAM access) {
  const SplitPath p = split(key);
  unique_hkey h;
  const LSTATUS status = ::RegOpenKeyExW(p.root, p.subkey.c_str(), 0, access | KEY_WOW64_64KEY, h.put());
  if (status == ERROR_FILE_NOT_FOUND || status == ERROR_PATH_NOT_FOUND) return std::nullopt;
  check_status(status, "RegOpenKeyExW", key);
  return h;
}

unique_hkey create_key(std::string_view key) {
  const SplitPath p = split(key);
  unique_hkey h;
  check_status(::RegCreateKeyExW(p.root, p.subkey.c_str(), 0, nullptr, REG_OPTION_NON_VOLATILE, KEY_SET_VALUE | KEY_QUERY_VALUE | KEY_WOW64_64KEY,
                                 nullptr, h.put(), nullptr),
               "RegCreateKeyExW", key);
  return h;
}

// NtQueryValueKey returns the stored bytes as they are. RegQueryValueExW may add a terminating NUL
// to a string value stored without one (Wine reports it in the size), which would make a backup
// differ from the value it backs up.
struct NtUnicodeString {
  USHORT Length;
  USHORT MaximumLength;
  PWSTR Buffer;
};
struct KeyValuePartialInformation {
  ULONG TitleIndex;
  ULONG Type;
  ULONG DataLength;
  UCHAR Data[1];
};
using NtQueryValueKeyFn = LONG(WINAPI*)(HANDLE, NtUnicodeString*, int, void*, ULONG, ULONG*);
using NtSetValueKeyFn = LONG(WINAPI*)(HANDLE, NtUnicodeString*, ULONG, ULONG, const void*, ULONG);
using RtlNtStatusToDosErrorFn = ULONG(WINAPI*)(LONG);
constexpr int key_value_partial_information = 2;
constexpr LONG status_buffer_overflow = static_cast<LONG>(0x80000005L);
constexpr LONG status_buffer_too_small = static_cast<LONG>(0xC0000023L);
constexpr LONG status_object_name_not_found = static_cast<LONG>(0xC0000034L);

struct NtRegistry {
  NtQueryValueKeyFn query = nullptr;
  NtSetValueKeyFn set = nullptr;
  RtlNtStatusToDosErrorFn to_dos = nullptr;
};

const NtRegistry& nt_registry() {
  static const NtRegistry fns = [] {
    NtRegistry r;
    // ntdll is mapped into every process: GetModuleHandle, no reference to release.
    if (HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll"); ntdll != nullptr) {
      r.query = reinterpret_cast<NtQueryValueKeyFn>(reinterpret_cast<void*>(::GetProcAddress(ntdll, "NtQueryValueKey")));
      r.set = reinterpret_cast<NtSetValueKeyFn>(reinterpret_cast<void*>(::GetProcAddress(ntdll, "NtSetValueKey")));
      r.to_dos = reinterpret_cast<RtlNtStatusToDosErrorFn>(reinterpret_cast<void*>(::GetProcAddress(ntdll, "RtlNtStatusToDosError")));
    }
    return r;
  }();
  return fns;
}

/// nullopt: the value does not exist. Falls back to RegQueryValueExW (caller) when ntdll lacks it.
std::optional<std::optional<RawRegistryValue>> read_exact(HKEY key, const std::wstring& name, std::string_view where) {
  const NtRegistry& nt = nt_registry();
  if (nt.query == nullptr || nt.to_dos == nullptr || name.size() > 32767) return std::nullopt;
  NtUnicodeString uname{static_cast<USHORT>(name.size() * sizeof(wchar_t)), static_cast<USHORT>(name.size() * sizeof(wchar_t)),
                        const_cast<PWSTR>(name.c_str())};
  std::vector<std::uint8_t> buffer(512);
  for (int attempt = 0; attempt < 8; ++attempt) {
    ULONG needed = 0;
    const LONG status = nt.query(key, &uname, key_value_partial_information, buffer.data(), static_cast<ULONG>(buffer.size()), &needed);
    if (status == status_object_name_not_found) return std::optional<RawRegistryValue>{};
    if (status == status_buffer_overflow || status == status_buffer_too_small) {
      buffer.resize(std::max<std::size_t>(needed, buffer.size() * 2));
      continue;
    }
    if (status < 0) throw Win32Error(nt.to_dos(status), "NtQueryValueKey", where);
    const auto* info = reinterpret_cast<const KeyValuePartialInformation*>(buffer.data());
    const std::size_t header = offsetof(KeyValuePartialInformation, Data);
    if (header + info->DataLength > buffer.size()) throw Error(std::string(where) + ": NtQueryValueKey returned an inconsistent length");
    RawRegistryValue raw;
    raw.type = info->Type;
    raw.data.assign(buffer.data() + header, buffer.data() + header + info->DataLength);
    return std::optional<RawRegistryValue>{std::move(raw)};
  }
  throw Error(std::string(where) + " kept changing size while being read; try again");
}

/// RegSetValueExW "helpfully" counts a terminating NUL the caller forgot (NT and Wine both do),
/// so a value without one could not be restored byte-exactly through it. false: not available.
bool write_exact(HKEY key, const std::wstring& name, const RawRegistryValue& raw, std::string_view where) {
  const NtRegistry& nt = nt_registry();
  if (nt.set == nullptr || nt.to_dos == nullptr || name.size() > 32767) return false;
  NtUnicodeString uname{static_cast<USHORT>(name.size() * sizeof(wchar_t)), static_cast<USHORT>(name.size() * sizeof(wchar_t)),
                        const_cast<PWSTR>(name.c_str())};
  const LONG status = nt.set(key, &uname, 0, raw.type, raw.data.empty() ? nullptr : raw.data.data(), static_cast<ULONG>(raw.data.size()));
  if (status < 0) throw Win32Error(nt.to_dos(status), "NtSetValueKey", where);
  return true;
}

} // namespace

std::optional<RawRegistryValue> Win32RegistryStore::read_raw(std::string_view key, std::string_view value) {
  auto h = open_key(key, KEY_QUERY_VALUE);
  if (!h) return std::nullopt;
  const std::wstring name = widen(value);
  if (auto exact = read_exact(h->get(), name, describe(key, value))) return *exact;
  RawRegistryValue raw;
  DWORD size = 0;
  DWORD type = 0;
  // The value can grow between the size query and the read: retry on ERROR_MORE_DATA.
  for (int attempt = 0; attempt < 8; ++attempt) {
    LSTATUS status = ::RegQueryValueExW(h->get(), name.c_str(), nullptr, &type, nullptr, &size);
    if (status == ERROR_FILE_NOT_FOUND) return std::nullopt;
    check_status(status, "RegQueryValueExW", describe(key, value));
    raw.data.assign(size, 0);
    DWORD got = size;
    status = ::RegQueryValueExW(h->get(), name.c_str(), nullptr, &type, raw.data.empty() ? nullptr : raw.data.data(), &got);
    if (status == ERROR_MORE_DATA) continue;
    if (status == ERROR_FILE_NOT_FOUND) return std::nullopt;
    check_status(status, "RegQueryValueExW", describe(key, value));
    raw.data.resize(got);
    raw.type = type;
    return raw;
  }
  throw Error(describe(key, value) + " kept changing size while being read; try again");
}

void Win32RegistryStore::write_raw(std::string_view key, std::string_view value, const RawRegistryValue& raw) {
  unique_hkey h = create_key(key);
  const std::wstring name = widen(value);
  if (write_exact(h.get(), name, raw, describe(key, value))) return;
  check_status(::RegSetValueExW(h.get(), name.c_str(), 0, raw.type, raw.data.empty() ? nullptr : raw.data.data(), static_cast<DWORD>(raw.data.size())),
               "RegSetValueExW", describe(key, value));
}

MultiStringValue Win32RegistryStore::read_multi_string(std::string_view key, std::string_view value) {
  const auto raw = read_raw(key, value);
  if (!raw) return {};
  return decode_multi_sz(*raw);
}

void Win32RegistryStore::write_multi_string(std::string_view key, std::string_view value, const std::vector<std::string>& strings) {
  write_raw(key, value, RawRegistryValue{REG_MULTI_SZ, encode_multi_sz(strings)});
}

void Win32RegistryStore::delete_value(std::string_view key, std::string_view value) {
  auto h = open_key(key, KEY_SET_VALUE);
  if (!h) return;
  const LSTATUS status = ::RegDeleteValueW(h->get(), widen(value).c_str());
  if (status == ERROR_FILE_NOT_FOUND) return;
  check_status(status, "RegDeleteValueW", describe(key, value));
}

std::optional<std::uint32_t> Win32RegistryStore::read_dword(std::string_view key, std::string_view value) {
  const auto raw = read_raw(key, value);
  if (!raw) return std::nullopt;
  if (raw->type != REG_DWORD || raw->data.size() != 4)
    throw Error(describe(key, value) + " has type " + reg_type_name(raw->type) + " (" + std::to_string(raw->data.size()) +
                " bytes), expected REG_DWORD; correct or delete the value");
  return std::uint32_t{raw->data[0]} | std::uint32_t{raw->data[1]} << 8 | std::uint32_t{raw->data[2]} << 16 | std::uint32_t{raw->data[3]} << 24;
}

std::optional<std::string> Win32RegistryStore::read_string(std::string_view key, std::string_view value) {
  const auto raw = read_raw(key, value);
  if (!raw) return std::nullopt;
  if (raw->type != REG_SZ && raw->type != REG_EXPAND_SZ)
    throw Error(describe(key, value) + " has type " + reg_type_name(raw->type) + ", expected REG_SZ; correct or delete the value");
  // REG_SZ bytes decode like one multi-string entry (terminator optional, stops at the first NUL).
  const MultiStringValue decoded = decode_multi_sz(RawRegistryValue{REG_SZ, raw->data});
  return decoded.strings.empty() ? std::string{} : decoded.strings.front();
}

std::vector<std::string> Win32RegistryStore::subkeys(std::string_view key) {
  std::vector<std::string> out;
  auto h = open_key(key, KEY_ENUMERATE_SUB_KEYS | KEY_QUERY_VALUE);
  if (!h) return out;
  std::wstring name(256, L'\0');   // registry key names are at most 255 characters
  for (DWORD i = 0;; ++i) {
    DWORD len = static_cast<DWORD>(name.size());
    const LSTATUS status = ::RegEnumKeyExW(h->get(), i, name.data(), &len, nullptr, nullptr, nullptr, nullptr);
    if (status == ERROR_NO_MORE_ITEMS) break;
    check_status(status, "RegEnumKeyExW", key);
    out.push_back(narrow(std::wstring_view(name.data(), len)));
  }
  return out;
}

std::optional<std::vector<std::string>> Win32RegistryStore::value_names(std::string_view key) {
  auto h = open_key(key, KEY_QUERY_VALUE);
  if (!h) return std::nullopt;
  std::vector<std::string> out;
  std::wstring name(16384, L'\0');   // value names are at most 16,383 characters
  for (DWORD i = 0;; ++i) {
    DWORD len = static_cast<DWORD>(name.size());
    const LSTATUS status = ::RegEnumValueW(h->get(), i, name.data(), &len, nullptr, nullptr, nullptr, nullptr);
    if (status == ERROR_NO_MORE_ITEMS) break;
    check_status(status, "RegEnumValueW", key);
    out.push_back(narrow(std::wstring_view(name.data(), len)));
  }
  return out;
}

void Win32RegistryStore::write_string(std::string_view key, std::string_view value, std::string_view text, std::uint32_t type) {
  if (type != reg_type::sz && type != reg_type::expand_sz)
    throw Error(describe(key, value) + ": write_string takes REG_SZ or REG_EXPAND_SZ, not " + reg_type_name(type));
  RawRegistryValue raw{type, {}};
  for (const char16_t c : utf8_to_utf16(text)) {
    raw.data.push_back(static_cast<std::uint8_t>(c & 0xff));
    raw.data.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  raw.data.insert(raw.data.end(), {0, 0});   // the terminator every reader of a REG_SZ expects
  write_raw(key, value, raw);
}

void Win32RegistryStore::write_dword(std::string_view key, std::string_view value, std::uint32_t number) {
  write_raw(key, value,
            RawRegistryValue{reg_type::dword,
                             {static_cast<std::uint8_t>(number), static_cast<std::uint8_t>(number >> 8), static_cast<std::uint8_t>(number >> 16),
                              static_cast<std::uint8_t>(number >> 24)}});
}

void Win32RegistryStore::delete_key(std::string_view key) {
  const SplitPath p = split(key);
  const LSTATUS status = ::RegDeleteKeyExW(p.root, p.subkey.c_str(), KEY_WOW64_64KEY, 0);
  if (status == ERROR_FILE_NOT_FOUND || status == ERROR_PATH_NOT_FOUND) return;
  check_status(status, "RegDeleteKeyExW", key);
}

} // namespace portguard::win32
