#include "portguard/core/port_range.hpp"

#include "portguard/core/error.hpp"
#include "portguard/core/text.hpp"

#include <algorithm>

namespace portguard {

std::string_view to_string(Protocol protocol) noexcept {
  switch (protocol) {
    case Protocol::udp: return "udp";
    case Protocol::tcp: return "tcp";
  }
  return "?";
}


std::optional<Protocol> parse_protocol(std::string_view text) noexcept {
  if (iequals_ascii(text, "udp")) return Protocol::udp;
  if (iequals_ascii(text, "tcp")) return Protocol::tcp;
  return std::nullopt;
}

std::string_view to_string(IpVersion ip) noexcept {
  switch (ip) {
    case IpVersion::v4: return "v4";
    case IpVersion::v6: return "v6";
  }
  return "?";
}

std::optional<IpVersion> parse_ip_version(std::string_view text) noexcept {
  if (iequals_ascii(text, "v4") || iequals_ascii(text, "ipv4")) return IpVersion::v4;
  if (iequals_ascii(text, "v6") || iequals_ascii(text, "ipv6")) return IpVersion::v6;
  return std::nullopt;
}

PortRange PortRange::make(long first, long last) {
  if (first < 1 || first > 65535 || last < 1 || last > 65535) {
    throw InputError({}, "port range " + std::to_string(first) + "-" + std::to_string(last) +
                             " is outside 1-65535 (port 0 means 'any port' and cannot be reserved)");
  }
  if (first > last) {
    throw InputError({}, "port range " + std::to_string(first) + "-" + std::to_string(last) +
                             " has its bounds reversed; write the smaller port first");
  }
  return PortRange(static_cast<Port>(first), static_cast<Port>(last));
}

std::string PortRange::to_string() const {
  return std::to_string(first_) + "-" + std::to_string(last_);
}

// ---------------------------------------------------------------------------------------------
// PortSet. Invariant: ranges_ sorted ascending, and for consecutive a, b: a.last + 1 < b.first
// (disjoint and not adjacent). Every operation below preserves it.

PortSet::PortSet(std::initializer_list<PortRange> ranges) {
  *this = from_ranges(std::vector<PortRange>(ranges));
}

PortSet PortSet::from_ranges(std::vector<PortRange> ranges) {
  // Values written by PortGuard (and most typed by admins) are already ascending.
  if (!std::is_sorted(ranges.begin(), ranges.end())) std::sort(ranges.begin(), ranges.end());
  PortSet out;
  out.ranges_.reserve(ranges.size());
  for (const auto& r : ranges) {
    if (!out.ranges_.empty() && std::uint32_t{r.first()} <= std::uint32_t{out.ranges_.back().last()} + 1) {
      auto& back = out.ranges_.back();
      if (r.last() > back.last()) back = PortRange(back.first(), r.last());
    } else {
      out.ranges_.push_back(r);
    }
  }
  out.ranges_.shrink_to_fit();
  return out;
}

void PortSet::insert(PortRange range) {
  // First range that could touch `range` (its last + 1 >= range.first).
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), range.first(), [](const PortRange& r, Port first) {
    return std::uint32_t{r.last()} + 1 < first;
  });
  Port lo = range.first();
  Port hi = range.last();
  auto end = it;
  while (end != ranges_.end() && std::uint32_t{end->first()} <= std::uint32_t{hi} + 1) {
    lo = std::min(lo, end->first());
    hi = std::max(hi, end->last());
    ++end;
  }
  if (it == end) {
    ranges_.insert(it, PortRange(lo, hi));
  } else {
    *it = PortRange(lo, hi);
    ranges_.erase(it + 1, end);
  }
}

void PortSet::insert(const PortSet& other) { *this = united(other); }

void PortSet::erase(PortRange range) {
  // First range whose last >= range.first.
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), range.first(), [](const PortRange& r, Port first) {
    return r.last() < first;
  });
  std::vector<PortRange> replacement;
  auto end = it;
  while (end != ranges_.end() && end->first() <= range.last()) {
    if (end->first() < range.first()) replacement.push_back(PortRange(end->first(), static_cast<Port>(range.first() - 1)));
    if (end->last() > range.last()) replacement.push_back(PortRange(static_cast<Port>(range.last() + 1), end->last()));
    ++end;
  }
  if (it == end) return;
  auto pos = ranges_.erase(it, end);
  ranges_.insert(pos, replacement.begin(), replacement.end());
}

void PortSet::erase(const PortSet& other) { *this = minus(other); }

PortSet PortSet::united(const PortSet& other) const {
  std::vector<PortRange> all;
  all.reserve(ranges_.size() + other.ranges_.size());
  std::merge(ranges_.begin(), ranges_.end(), other.ranges_.begin(), other.ranges_.end(), std::back_inserter(all));
  PortSet out;
  out.ranges_.reserve(all.size());
  for (const auto& r : all) {
    if (!out.ranges_.empty() && std::uint32_t{r.first()} <= std::uint32_t{out.ranges_.back().last()} + 1) {
      auto& back = out.ranges_.back();
      if (r.last() > back.last()) back = PortRange(back.first(), r.last());
    } else {
      out.ranges_.push_back(r);
    }
  }
  return out;
}

PortSet PortSet::minus(const PortSet& other) const {
  PortSet out;
  out.ranges_.reserve(ranges_.size());
  auto o = other.ranges_.begin();
  for (const auto& r : ranges_) {
    std::uint32_t lo = r.first();
    const std::uint32_t hi = r.last();
    while (o != other.ranges_.end() && o->last() < lo) ++o;
    auto p = o;
    while (p != other.ranges_.end() && p->first() <= hi && lo <= hi) {
      if (p->first() > lo) out.ranges_.push_back(PortRange(static_cast<Port>(lo), static_cast<Port>(p->first() - 1)));
      lo = std::uint32_t{p->last()} + 1;
      if (p->last() >= hi) break;
      ++p;
    }
    if (lo <= hi) out.ranges_.push_back(PortRange(static_cast<Port>(lo), static_cast<Port>(hi)));
  }
  return out;
}

PortSet PortSet::intersected(const PortSet& other) const {
  PortSet out;
  auto a = ranges_.begin();
  auto b = other.ranges_.begin();
  while (a != ranges_.end() && b != other.ranges_.end()) {
    const Port lo = std::max(a->first(), b->first());
    const Port hi = std::min(a->last(), b->last());
    if (lo <= hi) out.ranges_.push_back(PortRange(lo, hi));
    if (a->last() < b->last()) ++a; else ++b;
  }
  return out;
}

bool PortSet::contains(Port port) const noexcept {
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), port, [](const PortRange& r, Port p) { return r.last() < p; });
  return it != ranges_.end() && it->contains(port);
}

bool PortSet::contains(PortRange range) const noexcept {
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), range.first(), [](const PortRange& r, Port p) { return r.last() < p; });
  return it != ranges_.end() && it->first() <= range.first() && range.last() <= it->last();
}

bool PortSet::intersects(PortRange range) const noexcept {
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), range.first(), [](const PortRange& r, Port p) { return r.last() < p; });
  return it != ranges_.end() && it->first() <= range.last();
}

std::uint32_t PortSet::count() const noexcept {
  std::uint32_t n = 0;
  for (const auto& r : ranges_) n += r.size();
  return n;
}

std::string PortSet::to_string() const {
  std::string out;
  for (const auto& r : ranges_) {
    if (!out.empty()) out += ',';
    out += r.first() == r.last() ? std::to_string(r.first()) : r.to_string();
  }
  return out;
}

} // namespace portguard
