#include "portguard/core/registry_value.hpp"

#include "portguard/core/error.hpp"

namespace portguard {

std::string reg_type_name(std::uint32_t type) {
  switch (type) {
    case reg_type::none: return "REG_NONE";
    case reg_type::sz: return "REG_SZ";
    case reg_type::expand_sz: return "REG_EXPAND_SZ";
    case reg_type::binary: return "REG_BINARY";
    case reg_type::dword: return "REG_DWORD";
    case reg_type::multi_sz: return "REG_MULTI_SZ";
    case reg_type::qword: return "REG_QWORD";
    default: return "type " + std::to_string(type);
  }
}

std::u16string utf8_to_utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0xFFFD;
    std::size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
    }
    if (len > 1) {
      bool ok = i + len <= s.size();
      std::uint32_t v = len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
      for (std::size_t k = 1; ok && k < len; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) ok = false;
        v = (v << 6) | (cc & 0x3Fu);
      }
      const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      if (ok && v >= min && v <= 0x10FFFF && !(v >= 0xD800 && v <= 0xDFFF)) {
        cp = v;
      } else {
        len = 1;   // resynchronise on the next byte
      }
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return out;
}

std::string utf16_to_utf8(std::u16string_view w) {
  std::string out;
  out.reserve(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    std::uint32_t cp = w[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < w.size() && w[i + 1] >= 0xDC00 && w[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (w[i + 1] - 0xDC00u);
      ++i;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

namespace {
std::u16string units_of(const std::vector<std::uint8_t>& data) {
  std::u16string units;
  units.reserve(data.size() / 2);
  for (std::size_t i = 0; i + 1 < data.size(); i += 2) units.push_back(static_cast<char16_t>(data[i] | (data[i + 1] << 8)));
  return units;
}

std::vector<std::string> split_multi_sz(const std::u16string& units) {
  std::vector<std::string> out;
  if (units.empty()) return out;
  std::vector<std::u16string> pieces;
  std::u16string current;
  for (char16_t c : units) {
    if (c == u'\0') {
      pieces.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  const bool ends_with_nul = units.back() == u'\0';
  if (!ends_with_nul) pieces.push_back(std::move(current));
  // With a terminating NUL the last piece is the string it terminated; a further empty piece
  // right before the end is the list terminator ("a\0\0" -> {"a"}), not an empty string.
  const bool ends_with_double_nul = units.size() >= 2 && units[units.size() - 1] == u'\0' && units[units.size() - 2] == u'\0';
  if (ends_with_double_nul && !pieces.empty() && pieces.back().empty()) pieces.pop_back();
  else if (ends_with_nul && units.size() == 1) pieces.clear();   // "\0": the empty list
  for (const auto& p : pieces) out.push_back(utf16_to_utf8(p));
  return out;
}
} // namespace

// REG_MULTI_SZ documentation: "a sequence of null-terminated strings, terminated by an empty
// string (\0)"; RegSetValueEx: "the data must be terminated with two null characters". KB 812873's
// ReservedPorts is read by TCP/IP at boot with that rule: without the final terminator (or with a
// stray odd byte) the reader may take the bytes after the value, or drop the last entry. Such a
// value is not trusted as it is: it is reported and rewritten canonically (after the backup).
std::string multi_sz_layout_problem(const std::vector<std::uint8_t>& data, const std::vector<std::string>& strings) {
  if (data.size() % 2 != 0)
    return "REG_MULTI_SZ value has an odd number of bytes (" + std::to_string(data.size()) +
           "): a stray byte after the strings; Windows may misread it";
  if (!strings.empty() && data != encode_multi_sz(strings))
    return "REG_MULTI_SZ value does not end with two NUL characters as Windows requires; Windows may misread its last entry";
  return {};
}

MultiStringValue decode_multi_sz(const RawRegistryValue& raw) {
  MultiStringValue v;
  v.present = true;
  if (raw.type == reg_type::multi_sz) {
    v.strings = split_multi_sz(units_of(raw.data));
    v.type_problem = multi_sz_layout_problem(raw.data, v.strings);
    return v;
  }
  v.type_problem = "value has type " + reg_type_name(raw.type) + ", expected REG_MULTI_SZ";
  if (raw.type == reg_type::sz || raw.type == reg_type::expand_sz) {
    std::u16string units = units_of(raw.data);
    while (!units.empty() && units.back() == u'\0') units.pop_back();
    const auto nul = units.find(u'\0');
    if (nul != std::u16string::npos) units.resize(nul);
    v.strings.push_back(utf16_to_utf8(units));
  }
  return v;
}

std::vector<std::uint8_t> encode_multi_sz(const std::vector<std::string>& strings) {
  std::vector<std::uint8_t> out;
  auto put = [&](char16_t c) {
    out.push_back(static_cast<std::uint8_t>(c & 0xFF));
    out.push_back(static_cast<std::uint8_t>(c >> 8));
  };
  for (std::size_t i = 0; i < strings.size(); ++i) {
    if (strings[i].find('\0') != std::string::npos)
      throw InputError("entry " + std::to_string(i + 1), "a REG_MULTI_SZ string cannot contain a NUL character");
    for (char16_t c : utf8_to_utf16(strings[i])) put(c);
    put(u'\0');
  }
  put(u'\0');
  return out;
}

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xF]);
  }
  return out;
}

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw InputError("hex", "odd number of hex digits");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::uint8_t> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) throw InputError("hex", "'" + std::string(hex.substr(i, 2)) + "' is not a hex byte");
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

} // namespace portguard
