#pragma once
// Shared by the policy and catalog loaders; not part of the public API.
#include "portguard/config/policy.hpp"
#include "portguard/core/text.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portguard::config::detail {

/// Turns the bytes a Windows admin's editor produced into UTF-8 without BOM: UTF-8 with or
/// without BOM as is, UTF-16LE with BOM converted. Anything else (UTF-16 without BOM, UTF-16BE,
/// UTF-32, legacy code pages such as Windows-1252) gets one diagnostic saying how to re-save the
/// file, and nullopt. CRLF is left alone (TOML accepts it).
std::optional<std::string> decode_text(std::string_view bytes, const std::string& source, std::vector<Diagnostic>& diagnostics);

/// Reads a whole file. Throws PolicyReadError naming the file when it is missing or unreadable.
std::string read_file(const std::filesystem::path& file, std::string_view what);

/// Sorts diagnostics by file, line, column; drops exact duplicates.
void sort_diagnostics(std::vector<Diagnostic>& diagnostics);

/// A Windows service key name: 1 to 256 characters, no '/', '\\' or control characters.
inline bool valid_service_name(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (const char c : name)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

/// "a, b or c"
std::string join_choices(const std::vector<std::string>& choices, std::string_view last_sep = " or ");

/// The catalog compiled in at build time (generated builtin_catalog.cpp).
extern const std::string_view builtin_catalog_text;

} // namespace portguard::config::detail
