#pragma once
// RegistryStore on the real Windows registry. Values are read byte-exactly (RegQueryValueExW) and
// decoded with the core's decode_multi_sz, so empty lists, empty strings, missing terminators and
// wrong types are reported, never crash. Paths are full: "HKLM\\SYSTEM\\..." (HKLM, HKCU,
// HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER). Always the 64-bit view (KEY_WOW64_64KEY).
#include "portguard/core/ports.hpp"
#include "portguard/core/registry_value.hpp"

#include <string_view>

namespace portguard::win32 {

class Win32RegistryStore : public RegistryStore, public RawRegistryAccess {
public:
  MultiStringValue read_multi_string(std::string_view key, std::string_view value) override;
  void write_multi_string(std::string_view key, std::string_view value, const std::vector<std::string>& strings) override;
  void delete_value(std::string_view key, std::string_view value) override;
  std::optional<std::uint32_t> read_dword(std::string_view key, std::string_view value) override;
  std::optional<std::string> read_string(std::string_view key, std::string_view value) override;
  std::vector<std::string> subkeys(std::string_view key) override;
  /// The names of every value of `key` (RegEnumValueW); nullopt when the key does not exist.
  std::optional<std::vector<std::string>> value_names(std::string_view key) override;

  std::optional<RawRegistryValue> read_raw(std::string_view key, std::string_view value) override;
  void write_raw(std::string_view key, std::string_view value, const RawRegistryValue& raw) override;

  // Writes only the installer code needs (event source, DataDir); not part of RegistryStore
  // because the guard never writes anything but the values its plan names.

  /// A NUL-terminated REG_SZ or REG_EXPAND_SZ (`type`, reg_type::sz|expand_sz); creates the key.
  void write_string(std::string_view key, std::string_view value, std::string_view text, std::uint32_t type = reg_type::sz);
  /// A REG_DWORD; creates the key.
  void write_dword(std::string_view key, std::string_view value, std::uint32_t number);
  /// Deletes `key` (which must have no subkeys); a missing key is not an error.
  void delete_key(std::string_view key);
};

} // namespace portguard::win32
