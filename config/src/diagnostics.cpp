#include "internal.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <fstream>
#include <sstream>
#include <system_error>

namespace portguard::config {

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line != 0) {
    out += ':' + std::to_string(line);
    if (column != 0) out += ':' + std::to_string(column);
  }
  return out + ": " + message;
}

namespace {
std::string where_of(const std::vector<Diagnostic>& d) {
  if (d.empty()) return {};
  std::string w = d.front().file;
  if (d.front().line != 0) {
    w += ':' + std::to_string(d.front().line);
    if (d.front().column != 0) w += ':' + std::to_string(d.front().column);
  }
  return w;
}
std::string message_of(const std::vector<Diagnostic>& d) {
  if (d.empty()) return "the policy is invalid";
  std::string m = d.front().message;
  if (d.size() > 1) m += " (and " + std::to_string(d.size() - 1) + " more problem" + (d.size() > 2 ? "s" : "") + ")";
  return m;
}
} // namespace

PolicyError::PolicyError(std::vector<Diagnostic> diagnostics)
    : InputError(where_of(diagnostics), message_of(diagnostics)), diagnostics_(std::move(diagnostics)) {}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions ("tpc" -> "tcp" is one
  // edit), the typos people make most.
  auto eq = [](char x, char y) { return lower_ascii(x) == lower_ascii(y); };
  const std::size_t w = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * w);
  for (std::size_t i = 0; i <= a.size(); ++i) d[i * w] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = eq(a[i - 1], b[j - 1]) ? 0 : 1;
      std::size_t v = std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + cost});
      if (i > 1 && j > 1 && eq(a[i - 1], b[j - 2]) && eq(a[i - 2], b[j - 1])) v = std::min(v, d[(i - 2) * w + j - 2] + 1);
      d[i * w + j] = v;
    }
  }
  return d[a.size() * w + b.size()];
}

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  // A plausible typo: at most a third of the word wrong (at least 1, at most 3 edits).
  const std::size_t limit = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

namespace detail {

std::string join_choices(const std::vector<std::string>& choices, std::string_view last_sep) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i != 0) out += (i + 1 == choices.size()) ? std::string(last_sep) : std::string(", ");
    out += choices[i];
  }
  return out;
}

void sort_diagnostics(std::vector<Diagnostic>& d) {
  auto key = [](const Diagnostic& x) { return std::tie(x.file, x.line, x.column, x.message); };
  std::stable_sort(d.begin(), d.end(), [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  d.erase(std::unique(d.begin(), d.end(), [&](const Diagnostic& a, const Diagnostic& b) { return key(a) == key(b); }), d.end());
}

std::string read_file(const std::filesystem::path& file, std::string_view what) {
  const std::string name = file.string();
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(status)) {
    throw PolicyReadError({{name, 0, 0, std::string(what) + " not found; check the path" +
                                            (what == "policy" ? " or pass --policy FILE" : std::string())}});
  }
  if (std::filesystem::is_directory(status)) {
    throw PolicyReadError({{name, 0, 0, std::string(what) + " path is a directory; name the file itself"}});
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw PolicyReadError({{name, 0, 0, "cannot open the " + std::string(what) + " for reading (permissions?)"}});
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw PolicyReadError({{name, 0, 0, "cannot read the " + std::string(what)}});
  return std::move(buf).str();
}

namespace {

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct Position {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

Position position_of(std::string_view text, std::size_t offset) {
  Position p;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++p.column;
    }
  }
  return p;
}

/// Offset of the first byte that is not well-formed UTF-8, or npos.
std::size_t first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    char32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
    else return i;
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

} // namespace

std::optional<std::string> decode_text(std::string_view bytes, const std::string& source, std::vector<Diagnostic>& diagnostics) {
  auto fail = [&](std::uint32_t line, std::uint32_t column, std::string message) {
    diagnostics.push_back({source, line, column, std::move(message)});
    return std::nullopt;
  };
  auto starts = [&](std::string_view prefix) { return bytes.substr(0, prefix.size()) == prefix; };
  const std::string resave = "; open it in Notepad and use 'Save As' with encoding UTF-8";

  // UTF-32 first: its little-endian BOM begins with the UTF-16LE one.
  if (starts(std::string_view("\xFF\xFE\x00\x00", 4)) || starts(std::string_view("\x00\x00\xFE\xFF", 4))) {
    return fail(0, 0, "file is encoded as UTF-32, which PortGuard does not read" + resave);
  }
  if (starts("\xFE\xFF")) return fail(0, 0, "file is encoded as UTF-16 big-endian (\"Unicode big endian\"), which PortGuard does not read" + resave);

  std::string text;
  if (starts("\xFF\xFE")) {
    // UTF-16LE with BOM: what Notepad calls "Unicode".
    const std::string_view body = bytes.substr(2);
    if (body.size() % 2 != 0) return fail(0, 0, "file claims to be UTF-16 (\"Unicode\") but has an odd number of bytes; it is truncated or not UTF-16" + resave);
    text.reserve(body.size() / 2);
    std::uint32_t line = 1, column = 1;
    for (std::size_t i = 0; i < body.size(); i += 2) {
      char32_t unit = static_cast<unsigned char>(body[i]) | (static_cast<char32_t>(static_cast<unsigned char>(body[i + 1])) << 8);
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        if (i + 3 >= body.size()) return fail(line, column, "file ends inside a UTF-16 surrogate pair" + resave);
        const char32_t low = static_cast<unsigned char>(body[i + 2]) | (static_cast<char32_t>(static_cast<unsigned char>(body[i + 3])) << 8);
        if (low < 0xDC00 || low > 0xDFFF) return fail(line, column, "invalid UTF-16 surrogate pair" + resave);
        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        i += 2;
      } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
        return fail(line, column, "invalid UTF-16 (lone low surrogate)" + resave);
      }
      append_utf8(text, unit);
      if (unit == '\n') { ++line; column = 1; } else { ++column; }
    }
  } else {
    if (starts("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    if (bytes.find('\0') != std::string_view::npos) {
      const std::size_t at = bytes.find('\0');
      const Position p = position_of(bytes, at);
      return fail(p.line, p.column, "file contains NUL bytes: it looks like UTF-16 without a byte order mark, which cannot be told apart from binary data" + resave);
    }
    const std::size_t bad = first_invalid_utf8(bytes);
    if (bad != std::string_view::npos) {
      const Position p = position_of(bytes, bad);
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(bytes[bad]));
      return fail(p.line, p.column, std::string("file is not valid UTF-8 (byte ") + hex +
                                        "); it was probably saved as \"ANSI\" (Windows-1252 or another code page)" + resave);
    }
    text.assign(bytes);
  }
  return text;
}

} // namespace detail
} // namespace portguard::config
