#pragma once
// Small text helpers every layer shares. ASCII only, on purpose: Windows compares service, key and
// value names case-insensitively in ASCII for the names PortGuard handles, and the result must not
// depend on the process locale (std::tolower would).
#include <string>
#include <string_view>
#include <vector>

namespace portguard {

/// "a, b, c" (with the default separator); "" for no items. Callers that need an empty-list word
/// ("nothing", "(empty)") say so themselves.
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

/// 'A'-'Z' lowered; every other byte (including UTF-8 continuation bytes) unchanged.
constexpr char lower_ascii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// `text` with 'A'-'Z' lowered; other bytes unchanged.
std::string lower_ascii(std::string_view text);

/// Equal after lower_ascii: "Tcp" == "TCP"; non-ASCII bytes must match exactly.
bool iequals_ascii(std::string_view a, std::string_view b) noexcept;

} // namespace portguard
