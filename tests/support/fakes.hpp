#pragma once
// In-memory implementations of the core's OS interfaces (core/ports.hpp) for native unit tests.
// Shared by every test suite: keep them faithful to what the Win32 adapters do (same REG_MULTI_SZ
// decoding, same errors), and give tests hooks to inject failures and concurrent changes.
#include "portguard/core/error.hpp"
#include "portguard/core/port_range.hpp"
#include "portguard/core/ports.hpp"
#include "portguard/core/registry_value.hpp"
#include "portguard/core/snapshot.hpp"
#include "portguard/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portguard::testing {

/// Registry in memory. Keys and value names are case-insensitive like Windows'. Values are kept
/// as raw type + bytes so odd REG_MULTI_SZ shapes and wrong types behave as in the real registry.
class FakeRegistryStore : public RegistryStore, public RawRegistryAccess {
public:
  enum class Op { read, write, remove };
  /// Called at the start of every read/write/delete of a value, before it touches the data: lets
  /// a test simulate another process changing the registry between two operations.
  std::function<void(Op op, std::string_view key, std::string_view value)> hook;
  /// When set, writes and deletes throw this error instead (e.g. "access denied").
  std::optional<std::string> fail_writes;
  /// When true, writes are accepted but silently not stored (tests read-back verification).
  bool drop_writes = false;
  int writes = 0;   // successful write/delete calls

  void set_multi_string(std::string_view key, std::string_view value, const std::vector<std::string>& strings) {
    set_raw(key, value, RawRegistryValue{reg_type::multi_sz, encode_multi_sz(strings)});
  }
  void set_raw(std::string_view key, std::string_view value, RawRegistryValue raw) {
    keys_[lower_ascii(key)].values[lower_ascii(value)] = std::move(raw);
    ensure_parents(key);
  }
  void set_dword(std::string_view key, std::string_view value, std::uint32_t v) {
    std::vector<std::uint8_t> d{static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                                static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
    set_raw(key, value, RawRegistryValue{reg_type::dword, d});
  }
  void set_string(std::string_view key, std::string_view value, std::string_view text) {
    std::u16string w = utf8_to_utf16(text);
    std::vector<std::uint8_t> d;
    for (char16_t c : w) { d.push_back(static_cast<std::uint8_t>(c & 0xff)); d.push_back(static_cast<std::uint8_t>(c >> 8)); }
    d.push_back(0); d.push_back(0);
    set_raw(key, value, RawRegistryValue{reg_type::sz, d});
  }
  void create_key(std::string_view key) { keys_[lower_ascii(key)]; ensure_parents(key); }
  bool has_value(std::string_view key, std::string_view value) const {
    auto k = keys_.find(lower_ascii(key));
    return k != keys_.end() && k->second.values.count(lower_ascii(value)) != 0;
  }

  // RegistryStore
  MultiStringValue read_multi_string(std::string_view key, std::string_view value) override {
    if (hook) hook(Op::read, key, value);
    auto raw = find(key, value);
    if (!raw) return {};
    return decode_multi_sz(*raw);
  }
  void write_multi_string(std::string_view key, std::string_view value, const std::vector<std::string>& strings) override {
    write_raw(key, value, RawRegistryValue{reg_type::multi_sz, encode_multi_sz(strings)});
  }
  void delete_value(std::string_view key, std::string_view value) override {
    if (hook) hook(Op::remove, key, value);
    if (fail_writes) throw std::runtime_error(*fail_writes);
    ++writes;
    if (drop_writes) return;
    auto k = keys_.find(lower_ascii(key));
    if (k != keys_.end()) k->second.values.erase(lower_ascii(value));
  }
  std::optional<std::uint32_t> read_dword(std::string_view key, std::string_view value) override {
    if (hook) hook(Op::read, key, value);
    auto raw = find(key, value);
    if (!raw) return std::nullopt;
    if (raw->type != reg_type::dword || raw->data.size() < 4)
      throw Error(std::string(key) + "\\" + std::string(value) + " has type " + reg_type_name(raw->type) + ", expected REG_DWORD");
    return std::uint32_t{raw->data[0]} | std::uint32_t{raw->data[1]} << 8 | std::uint32_t{raw->data[2]} << 16 |
           std::uint32_t{raw->data[3]} << 24;
  }
  std::optional<std::string> read_string(std::string_view key, std::string_view value) override {
    if (hook) hook(Op::read, key, value);
    auto raw = find(key, value);
    if (!raw) return std::nullopt;
    if (raw->type != reg_type::sz && raw->type != reg_type::expand_sz)
      throw Error(std::string(key) + "\\" + std::string(value) + " has type " + reg_type_name(raw->type) + ", expected REG_SZ");
    auto decoded = decode_multi_sz(RawRegistryValue{reg_type::multi_sz, raw->data});
    return decoded.strings.empty() ? std::string{} : decoded.strings.front();
  }
  std::vector<std::string> subkeys(std::string_view key) override {
    std::vector<std::string> out;
    auto k = keys_.find(lower_ascii(key));
    if (k == keys_.end()) return out;
    for (const auto& name : k->second.children) out.push_back(name);
    return out;
  }

  std::optional<std::vector<std::string>> value_names(std::string_view key) override {
    std::vector<std::string> out;
    auto k = keys_.find(lower_ascii(key));
    if (k == keys_.end()) return std::nullopt;
    for (const auto& [name, raw] : k->second.values) out.push_back(name);
    return out;
  }

  // RawRegistryAccess
  std::optional<RawRegistryValue> read_raw(std::string_view key, std::string_view value) override {
    if (hook) hook(Op::read, key, value);
    return find(key, value);
  }
  void write_raw(std::string_view key, std::string_view value, const RawRegistryValue& raw) override {
    if (hook) hook(Op::write, key, value);
    if (fail_writes) throw std::runtime_error(*fail_writes);
    ++writes;
    if (drop_writes) return;
    set_raw(key, value, raw);
  }

private:
  struct Key {
    std::map<std::string, RawRegistryValue> values;
    std::vector<std::string> children;   // original spelling of direct subkeys
  };
  void ensure_parents(std::string_view key) {
    const auto pos = key.rfind('\\');
    if (pos == std::string_view::npos) return;
    const std::string_view parent = key.substr(0, pos);
    const std::string child(key.substr(pos + 1));
    auto& p = keys_[lower_ascii(parent)];
    const bool known = std::any_of(p.children.begin(), p.children.end(), [&](const std::string& c) { return iequals_ascii(c, child); });
    if (!known) p.children.push_back(child);
    ensure_parents(parent);
  }
  std::optional<RawRegistryValue> find(std::string_view key, std::string_view value) const {
    auto k = keys_.find(lower_ascii(key));
    if (k == keys_.end()) return std::nullopt;
    auto v = k->second.values.find(lower_ascii(value));
    if (v == k->second.values.end()) return std::nullopt;
    return v->second;
  }
  std::map<std::string, Key> keys_;
};

/// Persistent port reservations in memory, with the API's rules: a block overlapping a port in
/// use or an existing reservation fails (ERROR_SHARING_VIOLATION -> PortsInUseError); delete
/// needs the exact start and count.
class FakePersistentReservationApi : public PersistentReservationApi {
public:
  bool is_available = true;
  std::vector<PersistentReservation> reservations;
  /// Ports bound right now, per protocol, with who holds them (text used in the error message).
  std::vector<PortInUse> in_use;
  std::function<void(Protocol)> hook;   // called at the start of list(): concurrent changes
  int creates = 0, removes = 0;

  bool available() const override { return is_available; }
  /// Enumerates, as the netsh view would: every reservation, whatever the candidates.
  std::vector<PersistentReservation> list(Protocol protocol, std::span<const PortRange>) override {
    require();
    if (hook) hook(protocol);
    std::vector<PersistentReservation> out;
    for (const auto& r : reservations) if (r.protocol == protocol) out.push_back(r);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    return out;
  }
  std::uint64_t create(Protocol protocol, Port start, std::uint16_t count) override {
    require();
    if (count == 0 || start == 0 || std::uint32_t{start} + count - 1 > 65535) throw Error("invalid port block");
    const PortRange block = PortRange::make(start, std::uint32_t{start} + count - 1);
    for (const auto& u : in_use) {
      if (u.protocol == protocol && block.contains(u.port))
        throw PortsInUseError(std::string(to_string(protocol)) + " port " + std::to_string(u.port) + " of block " + block.to_string() +
                              " is in use by " + u.describe_holder());
    }
    for (const auto& r : reservations) {
      if (r.protocol == protocol && block.overlaps(PortRange::make(r.start, std::uint32_t{r.start} + r.count - 1)))
        throw PortsInUseError("block " + block.to_string() + " overlaps an existing persistent reservation");
    }
    ++creates;
    reservations.push_back({protocol, start, count, next_token_});
    return next_token_++;
  }
  void remove(Protocol protocol, Port start, std::uint16_t count) override {
    require();
    auto it = std::find_if(reservations.begin(), reservations.end(),
                           [&](const auto& r) { return r.protocol == protocol && r.start == start && r.count == count; });
    if (it == reservations.end()) throw Error("no persistent reservation starts at " + std::to_string(start) + " with " + std::to_string(count) + " ports");
    ++removes;
    reservations.erase(it);
  }

private:
  void require() const {
    if (!is_available) throw Error("persistent port reservations are unavailable on this host");
  }
  std::uint64_t next_token_ = 0x1000;
};

/// WMI MSFT_NetUDPSetting / MSFT_NetTCPSetting in memory (issue 16): Wine has no such classes, so
/// the Applier's WMI path is tested through this fake only (docs/testing.md, real-Windows-only).
class FakeDynamicRangeWmi : public DynamicRangeWmi {
public:
  std::map<Protocol, PortRange> ranges{{Protocol::udp, PortRange::make(49152, 65535)}, {Protocol::tcp, PortRange::make(49152, 65535)}};
  bool answers = true;                      // false: WMI cannot answer (read returns nullopt)
  std::optional<std::string> fail_writes;   // writes throw this instead
  bool drop_writes = false;                 // writes accepted, nothing stored (verification)
  std::function<void(Protocol)> hook;       // called at the start of read(): concurrent changes
  int writes = 0;

  std::optional<PortRange> read(Protocol protocol) override {
    if (hook) hook(protocol);
    if (!answers) return std::nullopt;
    return ranges.at(protocol);
  }
  void write(Protocol protocol, PortRange range) override {
    if (fail_writes) throw Error(*fail_writes);
    ++writes;
    if (!drop_writes) ranges.insert_or_assign(protocol, range);
  }
};

/// A host that is whatever the test says. When given a FakeRegistryStore / reservation fake, the
/// mechanism values in each capture come from them, so a re-capture sees changes made since.
class FakeSystemProbe : public SystemProbe {
public:
  HostSnapshot host;
  RegistryStore* registry = nullptr;
  PersistentReservationApi* reservations = nullptr;
  std::vector<ConfiguredPortQuery> last_queries;
  std::optional<ServiceDetail> last_detail;
  int captures = 0;
  /// When set, the dynamic ranges of each capture are read as the Win32 probe reads them: from
  /// `wmi` (source MSFT_Net*Setting) when given, else on Windows 2003 from `registry`'s MaxUserPort.
  bool derive_dynamic_ranges = false;
  DynamicRangeWmi* wmi = nullptr;

  HostSnapshot capture(const std::vector<ConfiguredPortQuery>& configured_ports, ServiceDetail detail) override {
    ++captures;
    last_queries = configured_ports;
    last_detail = detail;
    HostSnapshot s = host;
    if (registry != nullptr) {
      s.reserved_ports = registry->read_multi_string(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value);
      s.dns_socket_pool_excluded = registry->read_multi_string(registry_paths::dns_parameters, registry_paths::socket_pool_excluded_value);
    }
    if (derive_dynamic_ranges) s.dynamic_ranges = derived_dynamic_ranges();
    if (reservations != nullptr) {
      if (reservations->available()) {
        std::vector<PersistentReservation> all = reservations->list(Protocol::udp, {});
        for (const auto& r : reservations->list(Protocol::tcp, {})) all.push_back(r);
        s.persistent_reservations = all;
      } else {
        s.persistent_reservations.reset();
      }
    }
    return s;
  }
  std::vector<DynamicPortRange> derived_dynamic_ranges() {
    std::vector<DynamicPortRange> out;
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      DynamicPortRange d{p, IpVersion::v4, PortRange::make(49152, 65535), true, "documented default"};
      if (wmi != nullptr) {
        if (const auto r = wmi->read(p)) d = {p, IpVersion::v4, *r, false, p == Protocol::udp ? "MSFT_NetUDPSetting" : "MSFT_NetTCPSetting"};
      } else if (registry != nullptr && host.version.major < 6) {
        const auto max = registry->read_dword(registry_paths::tcpip_parameters, "MaxUserPort");
        if (max && *max >= 5000 && *max <= 65534) d = {p, IpVersion::v4, PortRange::make(1025, *max), false, "MaxUserPort"};
        else d = {p, IpVersion::v4, PortRange::make(1025, 5000), true, "default for Windows 5.2 (MaxUserPort not set)"};
      }
      out.push_back(d);
      out.push_back({p, IpVersion::v6, d.range, d.assumed, d.source});
    }
    return out;
  }
  bool port_in_use(Protocol protocol, Port port) override {
    return std::any_of(host.ports_in_use.begin(), host.ports_in_use.end(),
                       [&](const PortInUse& u) { return u.protocol == protocol && u.port == port; });
  }
};

/// A clock that moves only when told to.
class FakeClock : public Clock {
public:
  std::chrono::system_clock::time_point wall = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 56);
  std::chrono::steady_clock::time_point steady{};

  std::chrono::system_clock::time_point now() override { return wall; }
  std::chrono::steady_clock::time_point steady_now() override { return steady; }
  void advance(std::chrono::milliseconds d) {
    wall += d;
    steady += d;
  }
};

/// Records every event.
class FakeEventSink : public EventSink {
public:
  std::vector<Event> events;
  void report(const Event& event) override { events.push_back(event); }
};

} // namespace portguard::testing
