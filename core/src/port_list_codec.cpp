#include "portguard/core/port_list_codec.hpp"

#include <algorithm>
#include <numeric>

namespace portguard {

namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// Reads a run of decimal digits. More than 9 significant digits saturates (it is out of range
/// anyway), so arbitrarily long inputs cannot overflow.
long read_number(std::string_view& s) noexcept {
  long value = 0;
  while (!s.empty() && is_digit(s.front())) {
    if (value < 1'000'000'000) value = value * 10 + (s.front() - '0');
    s.remove_prefix(1);
  }
  return value;
}

/// Understands one raw entry. `problem` (optional) receives why it is not understood or a remark;
/// bulk callers pass nullptr and pay for no message formatting.
std::optional<PortRange> interpret(std::string_view raw, std::string* problem) {
  const auto say = [&](auto&& text) {
    if (problem != nullptr) *problem = text;
  };
  std::string_view s = trim(raw);
  if (s.empty()) {
    say("blank entry");
    return std::nullopt;
  }
  if (!is_digit(s.front())) {
    say("not a port range (expected \"start-end\", e.g. \"1645-1646\")");
    return std::nullopt;
  }
  const long first = read_number(s);
  long last = first;
  s = trim(s);
  bool single = true;
  if (!s.empty() && s.front() == '-') {
    s.remove_prefix(1);
    s = trim(s);
    if (s.empty() || !is_digit(s.front())) {
      say("not a port range (nothing after '-')");
      return std::nullopt;
    }
    last = read_number(s);
    s = trim(s);
    single = false;
  }
  if (!s.empty()) {
    say("not a port range (unexpected text after the ports)");
    return std::nullopt;
  }
  for (long p : {first, last}) {
    if (p < 1 || p > 65535) {
      if (problem != nullptr)
        *problem = p == 0 ? "port 0 is not a port that can be reserved"
                          : (p >= 1'000'000'000 ? "a port number is outside 1-65535" : std::to_string(p) + " is outside 1-65535");
      return std::nullopt;
    }
  }
  if (first > last) {
    auto range = PortRange::make(last, first);
    if (problem != nullptr) *problem = "reversed bounds (read as " + range.to_string() + ")";
    return range;
  }
  auto range = PortRange::make(first, last);
  if (single && problem != nullptr) *problem = "single port (canonical form is " + range.to_string() + ")";
  return range;
}

void append_remark(std::string& problem, const std::string& remark) {
  if (!problem.empty()) problem += "; ";
  problem += remark;
}

} // namespace

PortList parse_port_list(const std::vector<std::string>& values) {
  PortList out;
  out.entries.reserve(values.size());
  std::vector<PortRange> ranges;
  ranges.reserve(values.size());
  for (const auto& raw : values) {
    PortListEntry entry{raw, std::nullopt, {}};
    entry.range = interpret(raw, &entry.problem);
    if (entry.range) {
      ranges.push_back(*entry.range);
    } else if (trim(raw).empty()) {
      ++out.blank_entries;
    } else {
      out.unrecognised.push_back(raw);
    }
    out.entries.push_back(std::move(entry));
  }

  // Remarks for duplicates and overlaps: admins should learn their list is redundant. Sort the
  // understood entries by (range, position) and sweep once.
  std::vector<std::size_t> order;
  order.reserve(ranges.size());
  for (std::size_t i = 0; i < out.entries.size(); ++i)
    if (out.entries[i].range) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& ra = *out.entries[a].range;
    const auto& rb = *out.entries[b].range;
    return ra != rb ? ra < rb : a < b;
  });
  std::optional<std::size_t> reach_owner;  // the entry reaching furthest so far
  for (std::size_t k = 0; k < order.size(); ++k) {
    auto& entry = out.entries[order[k]];
    if (reach_owner) {
      const auto& owner = out.entries[*reach_owner];
      if (*owner.range == *entry.range) {
        append_remark(entry.problem, "duplicate of \"" + owner.raw + "\"");
      } else if (owner.range->last() >= entry.range->first()) {
        append_remark(entry.problem, "overlaps \"" + owner.raw + "\"");
      }
    }
    if (!reach_owner || out.entries[*reach_owner].range->last() < entry.range->last()) reach_owner = order[k];
  }

  out.ports = PortSet::from_ranges(std::move(ranges));
  return out;
}

PortList parse_port_list(const std::vector<std::string>& values, EntryDetail detail) {
  if (detail == EntryDetail::full) return parse_port_list(values);
  PortList out;
  std::vector<PortRange> ranges;
  ranges.reserve(values.size());
  for (const auto& raw : values) {
    if (auto range = interpret(raw, nullptr)) ranges.push_back(*range);
    else if (trim(raw).empty()) ++out.blank_entries;
    else out.unrecognised.push_back(raw);
  }
  out.ports = PortSet::from_ranges(std::move(ranges));
  return out;
}

std::vector<std::string> format_port_list(const PortSet& ports, const std::vector<std::string>& unrecognised) {
  std::vector<std::string> out;
  out.reserve(ports.ranges().size() + unrecognised.size());
  for (const auto& r : ports) out.push_back(r.to_string());
  out.insert(out.end(), unrecognised.begin(), unrecognised.end());
  return out;
}

} // namespace portguard
