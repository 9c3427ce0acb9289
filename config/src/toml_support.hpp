#pragma once
// Schema checking on top of toml++: every problem becomes a Diagnostic with file:line:column and
// a hint, and checking goes on so the operator sees all problems at once.
#include "internal.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace portguard::config::detail {

inline std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a decimal number";
    case toml::node_type::boolean: return "true/false";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "nothing";
  }
}

inline std::string squote(std::string_view s) { return "'" + std::string(s) + "'"; }

class Checker {
public:
  Checker(std::string file, std::vector<Diagnostic>& diagnostics) : file_(std::move(file)), diagnostics_(diagnostics) {}

  const std::string& file() const noexcept { return file_; }
  std::size_t error_count() const noexcept { return diagnostics_.size(); }

  void error(const toml::source_region& where, std::string message) {
    diagnostics_.push_back({file_, where.begin.line, where.begin.column, std::move(message)});
  }
  void error(const toml::node& where, std::string message) { error(where.source(), std::move(message)); }
  void error(const toml::key& where, std::string message) { error(where.source(), std::move(message)); }

  std::string line_ref(const toml::source_region& where) const {
    return file_ + ":" + std::to_string(where.begin.line);
  }

  /// Reports every key of `t` not in `allowed`, with a "did you mean" when one is close.
  void check_keys(const toml::table& t, const std::vector<std::string>& allowed, std::string_view where) {
    for (auto&& [k, v] : t) {
      (void)v;
      const std::string name(k.str());
      if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
      std::string msg = "unknown key " + squote(name) + " in " + std::string(where);
      if (auto near = closest_match(name, allowed)) {
        msg += "; did you mean " + squote(*near) + "?";
      } else {
        std::vector<std::string> q;
        for (const auto& a : allowed) q.push_back(squote(a));
        msg += "; the keys allowed here are " + join_choices(q, " and ");
      }
      error(k, std::move(msg));
    }
  }

  const toml::node* find(const toml::table& t, std::string_view key) const { return t.get(key); }

  std::optional<std::string> get_string(const toml::table& t, std::string_view key, std::string_view where, std::string_view example) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (const auto* s = n->as_string()) return s->get();
    error(*n, squote(key) + " in " + std::string(where) + " must be a string, not " + type_name(*n) + "; write " + std::string(key) + " = " + std::string(example));
    return std::nullopt;
  }

  std::optional<bool> get_bool(const toml::table& t, std::string_view key, std::string_view where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (const auto* b = n->as_boolean()) return b->get();
    std::string hint;
    if (const auto* s = n->as_string(); s != nullptr && (iequals_ascii(s->get(), "true") || iequals_ascii(s->get(), "false"))) {
      hint = " (without quotes)";
    }
    error(*n, squote(key) + " in " + std::string(where) + " must be true or false, not " + type_name(*n) + "; write " + std::string(key) + " = true or " + std::string(key) + " = false" + hint);
    return std::nullopt;
  }

  std::optional<std::int64_t> get_integer(const toml::table& t, std::string_view key, std::string_view where, std::int64_t min, std::int64_t max) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const auto* i = n->as_integer();
    if (i == nullptr) {
      error(*n, squote(key) + " in " + std::string(where) + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", not " + type_name(*n) + "; write " + std::string(key) + " = " + std::to_string(min) + " (no quotes)");
      return std::nullopt;
    }
    if (i->get() < min || i->get() > max) {
      error(*n, squote(key) + " = " + std::to_string(i->get()) + " in " + std::string(where) + " is out of range; write a number from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return i->get();
  }

  const toml::table* get_table(const toml::table& t, std::string_view key, std::string_view where, std::string_view header) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return nullptr;
    if (const auto* tt = n->as_table()) return tt;
    error(*n, squote(key) + " in " + std::string(where) + " must be a table, not " + type_name(*n) + "; write it as a section " + std::string(header));
    return nullptr;
  }

  /// An array of strings (a single string is accepted as a one-element array).
  std::optional<std::vector<std::pair<std::string, const toml::node*>>> get_string_list(const toml::table& t, std::string_view key, std::string_view where, std::string_view example) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    std::vector<std::pair<std::string, const toml::node*>> out;
    if (const auto* s = n->as_string()) {
      out.emplace_back(s->get(), n);
      return out;
    }
    const auto* a = n->as_array();
    if (a == nullptr) {
      error(*n, squote(key) + " in " + std::string(where) + " must be a list of strings, not " + type_name(*n) + "; write " + std::string(key) + " = " + std::string(example));
      return std::nullopt;
    }
    bool ok = true;
    for (const toml::node& e : *a) {
      if (const auto* s = e.as_string()) {
        out.emplace_back(s->get(), &e);
      } else {
        error(e, "entries of " + squote(key) + " in " + std::string(where) + " must be strings, not " + type_name(e) + "; write " + std::string(key) + " = " + std::string(example));
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

private:
  std::string file_;
  std::vector<Diagnostic>& diagnostics_;
};

/// A port list item as written: a number, "a-b", "a", or (where allowed) a service name.
struct PortItem {
  std::optional<PortRange> range;   // a number or range
  std::string name;                 // a service name (when names are allowed)
  bool ok = false;
};

inline bool all_digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
inline bool looks_like_name(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s.front()))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '+'; });
}

/// Reports out-of-range ports, port 0, reversed ranges and garbage. `key` names the list for messages.
inline PortItem parse_port_item(Checker& c, const toml::node& n, std::string_view key, bool allow_names) {
  PortItem item;
  auto range_error = [&](long v) {
    if (v == 0) {
      c.error(n, "port 0 in " + squote(key) + " is not a port (it means \"any port\"); ports are 1 to 65535");
    } else {
      c.error(n, "port " + std::to_string(v) + " in " + squote(key) + " is out of range; ports are 1 to 65535");
    }
  };
  if (const auto* i = n.as_integer()) {
    const std::int64_t v = i->get();
    if (v < 1 || v > 65535) {
      range_error(static_cast<long>(std::clamp<std::int64_t>(v, -999999999, 999999999)));
      return item;
    }
    item.range = PortRange::make(static_cast<long>(v), static_cast<long>(v));
    item.ok = true;
    return item;
  }
  const auto* s = n.as_string();
  if (s == nullptr) {
    c.error(n, "entries of " + squote(key) + " must be port numbers or strings such as \"1812-1813\"" + std::string(allow_names ? " or \"radius\"" : "") + ", not " + type_name(n));
    return item;
  }
  const std::string_view text = trim(s->get());
  const auto dash = text.find('-');
  if (all_digits(text)) {
    if (text.size() > 5) { c.error(n, "port " + squote(text) + " in " + squote(key) + " is out of range; ports are 1 to 65535"); return item; }
    const long v = std::stol(std::string(text));
    if (v < 1 || v > 65535) { range_error(v); return item; }
    item.range = PortRange::make(v, v);
    item.ok = true;
    return item;
  }
  if (dash != std::string_view::npos && all_digits(trim(text.substr(0, dash))) && all_digits(trim(text.substr(dash + 1)))) {
    const std::string_view a = trim(text.substr(0, dash)), b = trim(text.substr(dash + 1));
    if (a.size() > 5 || b.size() > 5) { c.error(n, "range " + squote(text) + " in " + squote(key) + " is out of range; ports are 1 to 65535"); return item; }
    const long first = std::stol(std::string(a)), last = std::stol(std::string(b));
    bool bad = false;
    for (long v : {first, last}) {
      if (v < 1 || v > 65535) { range_error(v); bad = true; break; }
    }
    if (bad) return item;
    if (first > last) {
      c.error(n, "reversed range " + squote(text) + " in " + squote(key) + "; write \"" + std::to_string(last) + "-" + std::to_string(first) + "\" (smaller port first)");
      return item;
    }
    item.range = PortRange::make(first, last);
    item.ok = true;
    return item;
  }
  if (allow_names && looks_like_name(text)) {
    item.name = std::string(text);
    item.ok = true;
    return item;
  }
  c.error(n, squote(text) + " in " + squote(key) + " is not a port, a range such as \"1812-1813\"" +
                 std::string(allow_names ? " or a service name from the services file" : "") + "; ports are 1 to 65535");
  return item;
}

/// Parses TOML text; a syntax error becomes one diagnostic and nullopt.
inline std::optional<toml::table> parse_toml(std::string_view text, const std::string& file, std::vector<Diagnostic>& diagnostics) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    std::string desc(e.description());
    diagnostics.push_back({file, e.source().begin.line, e.source().begin.column,
                           "TOML syntax error: " + desc + "; see docs/policy.md for the syntax (strings in \"double quotes\", lists in [brackets])"});
    return std::nullopt;
  }
}

} // namespace portguard::config::detail
