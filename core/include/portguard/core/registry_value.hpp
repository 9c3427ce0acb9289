#pragma once
// Byte-exact registry values, portable. The Win32 registry adapter and the test fake both decode
// REG_MULTI_SZ with these functions, so what the fake proves about odd shapes (empty list, empty
// strings, missing terminators, wrong type) holds for the real adapter too.
#include "portguard/core/snapshot.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portguard {

/// Registry value types (winnt.h numbering, repeated here so the core needs no <windows.h>).
namespace reg_type {
inline constexpr std::uint32_t none = 0, sz = 1, expand_sz = 2, binary = 3, dword = 4, multi_sz = 7, qword = 11;
} // namespace reg_type
std::string reg_type_name(std::uint32_t type);   // "REG_MULTI_SZ", "REG_SZ", ..., "type 42"

/// A value exactly as the registry holds it: its type and its bytes (UTF-16LE for string types).
struct RawRegistryValue {
  std::uint32_t type = reg_type::multi_sz;
  std::vector<std::uint8_t> data;

  friend bool operator==(const RawRegistryValue&, const RawRegistryValue&) = default;
};

/// Optional capability of a RegistryStore: read and write values byte-exactly, so backups and
/// rollback reproduce a value to the byte (including a missing terminator or a wrong type).
/// The Applier uses it through dynamic_cast when the store offers it.
class RawRegistryAccess {
public:
  virtual ~RawRegistryAccess() = default;
  /// nullopt: the key or the value does not exist.
  virtual std::optional<RawRegistryValue> read_raw(std::string_view key, std::string_view value) = 0;
  virtual void write_raw(std::string_view key, std::string_view value, const RawRegistryValue& raw) = 0;
};

/// Decodes REG_MULTI_SZ bytes without ever failing:
///   ""/"\0" -> {}, "a\0\0" -> {"a"}, "a\0b\0" (missing list terminator) -> {"a","b"},
///   "a\0b" (no terminator at all) -> {"a","b"}, "a\0\0b\0\0" -> {"a","","b"}, "\0\0" -> {""}.
/// Another type sets `type_problem` and recovers REG_SZ/REG_EXPAND_SZ text as one string.
/// An odd byte count drops the last byte; invalid UTF-16 becomes U+FFFD.
/// A REG_MULTI_SZ whose bytes are not the canonical encoding of what it decodes to (missing list
/// or string terminator, stray odd byte) also sets `type_problem` (multi_sz_layout_problem): the
/// planner then rewrites it canonically after the usual backup (issue 18).
MultiStringValue decode_multi_sz(const RawRegistryValue& raw);
/// Why REG_MULTI_SZ bytes are not a value Windows is sure to read as `strings`; "" when canonical
/// (or an empty list in any of its encodings).
std::string multi_sz_layout_problem(const std::vector<std::uint8_t>& data, const std::vector<std::string>& strings);
/// Canonical REG_MULTI_SZ bytes: every string NUL-terminated, then the list terminator.
/// Throws InputError when a string contains a NUL character (it cannot be represented).
std::vector<std::uint8_t> encode_multi_sz(const std::vector<std::string>& strings);

std::u16string utf8_to_utf16(std::string_view utf8);     // invalid sequences become U+FFFD
std::string utf16_to_utf8(std::u16string_view utf16);    // lone surrogates become U+FFFD

std::string to_hex(const std::vector<std::uint8_t>& bytes);
/// Throws InputError on odd length or a non-hex digit.
std::vector<std::uint8_t> from_hex(std::string_view hex);

} // namespace portguard
