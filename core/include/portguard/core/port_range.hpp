#pragma once
#include <compare>
#include <initializer_list>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portguard {

using Port = std::uint16_t;

enum class Protocol : std::uint8_t { udp, tcp };
enum class IpVersion : std::uint8_t { v4, v6 };

std::string_view to_string(Protocol protocol) noexcept;          // "udp" / "tcp"
std::optional<Protocol> parse_protocol(std::string_view text) noexcept;   // case-insensitive
std::string_view to_string(IpVersion ip) noexcept;                 // "v4" / "v6"
std::optional<IpVersion> parse_ip_version(std::string_view text) noexcept;  // "v4", "ipv4", "v6", "ipv6"

/// An inclusive range of ports within 1..65535. Port 0 ("any") is never a valid member.
class PortRange {
public:
  /// Throws InputError when first or last is outside 1..65535 or first > last.
  static PortRange make(long first, long last);
  static PortRange single(Port port) { return make(port, port); }

  Port first() const noexcept { return first_; }
  Port last() const noexcept { return last_; }
  std::uint32_t size() const noexcept { return std::uint32_t{last_} - first_ + 1; }
  bool contains(Port p) const noexcept { return first_ <= p && p <= last_; }
  bool overlaps(const PortRange& o) const noexcept { return first_ <= o.last_ && o.first_ <= last_; }

  /// Canonical "start-end" form, also for a single port ("4000-4000"), as KB 812873 shows.
  std::string to_string() const;

  friend auto operator<=>(const PortRange&, const PortRange&) = default;

private:
  friend class PortSet;   // builds ranges it has already validated
  PortRange(Port first, Port last) : first_(first), last_(last) {}
  Port first_;
  Port last_;
};

/// A set of ports kept as sorted, disjoint, non-adjacent ranges (adjacent ranges are merged).
class PortSet {
public:
  PortSet() = default;
  PortSet(std::initializer_list<PortRange> ranges);
  /// Bulk construction in O(n log n): ranges in any order, overlapping or adjacent.
  static PortSet from_ranges(std::vector<PortRange> ranges);

  void insert(PortRange range);
  void insert(const PortSet& other);
  void erase(PortRange range);
  void erase(const PortSet& other);

  PortSet united(const PortSet& other) const;
  PortSet minus(const PortSet& other) const;
  PortSet intersected(const PortSet& other) const;

  bool contains(Port port) const noexcept;
  bool contains(PortRange range) const noexcept;   // every port of range
  bool intersects(PortRange range) const noexcept;
  std::uint32_t count() const noexcept;             // number of ports
  bool empty() const noexcept { return ranges_.empty(); }
  /// Compact form for messages: "53,1645-1646" (single ports without a dash).
  std::string to_string() const;

  const std::vector<PortRange>& ranges() const noexcept { return ranges_; }
  auto begin() const noexcept { return ranges_.begin(); }
  auto end() const noexcept { return ranges_.end(); }

  friend bool operator==(const PortSet&, const PortSet&) = default;

private:
  std::vector<PortRange> ranges_;
};

} // namespace portguard
