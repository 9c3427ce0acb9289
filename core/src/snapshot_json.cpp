// The host snapshot JSON format (docs/snapshot.md). Strict on purpose: a snapshot drives a plan that
// may be applied, so an unknown member (a typo, a newer format) is an error naming its JSON path
// rather than something silently ignored.
#include "portguard/core/snapshot_json.hpp"

#include "portguard/core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <set>

namespace portguard {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::string_view format_name = "portguard-snapshot";
constexpr std::size_t max_document_bytes = 64u * 1024u * 1024u;
constexpr int max_depth = 16;  // the format nests 4 levels; anything deeper is not a snapshot

// ----------------------------------------------------------------------------------- writing

ojson multi_to_json(const MultiStringValue& v) {
  if (!v.present) return nullptr;
  ojson j;
  j["strings"] = v.strings;
  if (!v.type_problem.empty()) j["type_problem"] = v.type_problem;
  return j;
}

template <typename T>
ojson optional_to_json(const std::optional<T>& v) {
  return v ? ojson(*v) : ojson(nullptr);
}

// ----------------------------------------------------------------------------------- reading

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string type_name(const json& j) {
  if (j.is_number_float()) return "a fractional number";
  if (j.is_number()) return "a number";
  return std::string("a") + (j.is_object() || j.is_array() ? "n " : " ") + j.type_name();
}

class Reader {
public:
  explicit Reader(const std::string& source) : source_(source) {}

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    throw SnapshotError(source_, (path.empty() ? std::string("/") : path) + ": " + message);
  }

  /// Checks `j` is an object whose members are all in `allowed` and the `required` ones present.
  void object(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed,
              std::initializer_list<std::string_view> required = {}) const {
    if (!j.is_object()) fail(path, "expected an object, found " + type_name(j));
    for (const auto& [key, value] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string known;
        for (auto a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
        fail(path + "/" + pointer_token(key), "unknown member \"" + key + "\" (known members here: " + known + ")");
      }
    }
    for (auto r : required)
      if (!j.contains(r)) fail(path + "/" + std::string(r), "required member is missing");
  }

  const json* member(const json& obj, std::string_view key) const {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  std::uint64_t uint(const json& obj, const std::string& path, std::string_view key, std::uint64_t min, std::uint64_t max,
                     std::uint64_t fallback) const {
    const json* j = member(obj, key);
    if (j == nullptr) return fallback;
    return uint_value(*j, path + "/" + std::string(key), min, max);
  }

  std::uint64_t uint_value(const json& j, const std::string& path, std::uint64_t min, std::uint64_t max) const {
    std::uint64_t v = 0;
    if (j.is_number_unsigned()) {
      v = j.get<std::uint64_t>();
    } else if (j.is_number_integer()) {
      fail(path, "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", found " +
                     std::to_string(j.get<std::int64_t>()));
    } else {
      fail(path, "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", found " + type_name(j));
    }
    if (v < min || v > max)
      fail(path, "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", found " + std::to_string(v));
    return v;
  }

  std::optional<std::uint64_t> optional_uint(const json& obj, const std::string& path, std::string_view key) const {
    const json* j = member(obj, key);
    if (j == nullptr || j->is_null()) return std::nullopt;
    return uint_value(*j, path + "/" + std::string(key), 0, std::numeric_limits<std::uint64_t>::max());
  }

  std::string string(const json& obj, const std::string& path, std::string_view key, std::string fallback = {}) const {
    const json* j = member(obj, key);
    if (j == nullptr) return fallback;
    if (!j->is_string()) fail(path + "/" + std::string(key), "expected a string, found " + type_name(*j));
    return j->get<std::string>();
  }

  bool boolean(const json& obj, const std::string& path, std::string_view key, bool fallback) const {
    const json* j = member(obj, key);
    if (j == nullptr) return fallback;
    if (!j->is_boolean()) fail(path + "/" + std::string(key), "expected true or false, found " + type_name(*j));
    return j->get<bool>();
  }

  std::vector<std::string> strings(const json& obj, const std::string& path, std::string_view key) const {
    const json* j = member(obj, key);
    if (j == nullptr) return {};
    const std::string p = path + "/" + std::string(key);
    if (!j->is_array()) fail(p, "expected an array of strings, found " + type_name(*j));
    std::vector<std::string> out;
    out.reserve(j->size());
    for (std::size_t i = 0; i < j->size(); ++i) {
      const auto& e = (*j)[i];
      if (!e.is_string()) fail(p + "/" + std::to_string(i), "expected a string, found " + type_name(e));
      out.push_back(e.get<std::string>());
    }
    return out;
  }

  /// Calls each(element, element_path) for every element of an optional array member.
  template <typename F>
  void array(const json& obj, const std::string& path, std::string_view key, F&& each) const {
    const json* j = member(obj, key);
    if (j == nullptr) return;
    const std::string p = path + "/" + std::string(key);
    if (!j->is_array()) fail(p, "expected an array, found " + type_name(*j));
    for (std::size_t i = 0; i < j->size(); ++i) each((*j)[i], p + "/" + std::to_string(i));
  }

  template <typename T, typename Parse>
  T enumeration(const json& obj, const std::string& path, std::string_view key, Parse parse, std::string_view choices,
                std::optional<T> fallback = std::nullopt) const {
    const json* j = member(obj, key);
    const std::string p = path + "/" + std::string(key);
    if (j == nullptr) {
      if (fallback) return *fallback;
      fail(p, "required member is missing");
    }
    if (!j->is_string()) fail(p, "expected one of " + std::string(choices) + ", found " + type_name(*j));
    const auto text = j->get<std::string>();
    if (auto v = parse(text)) return *v;
    fail(p, "expected one of " + std::string(choices) + ", found \"" + text + "\"");
  }

  PortRange range(const json& obj, const std::string& path) const {
    const auto first = uint(obj, path, "first", 1, 65535, 0);
    const auto last = uint(obj, path, "last", 1, 65535, 0);
    if (first > last) fail(path + "/last", "the range " + std::to_string(first) + "-" + std::to_string(last) + " ends before it starts");
    return PortRange::make(static_cast<long>(first), static_cast<long>(last));
  }

  Protocol protocol(const json& obj, const std::string& path) const {
    return enumeration<Protocol>(obj, path, "protocol", parse_protocol, "\"udp\", \"tcp\"");
  }

  MultiStringValue multi(const json& obj, const std::string& path, std::string_view key) const {
    const json* j = member(obj, key);
    if (j == nullptr || j->is_null()) return {};
    const std::string p = path + "/" + std::string(key);
    object(*j, p, {"strings", "type_problem"}, {"strings"});
    return MultiStringValue{true, strings(*j, p, "strings"), string(*j, p, "type_problem")};
  }

private:
  const std::string& source_;
};

HostSnapshot read(const json& doc, const Reader& r) {
  r.object(doc, "",
           {"format", "format_version", "hostname", "captured_at", "windows", "services", "reserved_ports",
            "dns_socket_pool_excluded", "persistent_reservations", "dynamic_ranges", "excluded_ranges", "ports_in_use", "configured_ports",
            "boot_time_unix", "dns_start_time_unix"},
           {"format", "format_version", "windows"});
  if (r.string(doc, "", "format") != format_name)
    r.fail("/format", "expected \"" + std::string(format_name) + "\": this is not a PortGuard host snapshot");
  const auto version = r.uint(doc, "", "format_version", 0, std::numeric_limits<std::uint32_t>::max(), 0);
  if (version != static_cast<std::uint64_t>(snapshot_format_version))
    r.fail("/format_version", "format version " + std::to_string(version) + " is not supported (this PortGuard reads version " +
                                  std::to_string(snapshot_format_version) + ")");

  HostSnapshot s;
  s.hostname = r.string(doc, "", "hostname");
  s.captured_at = r.string(doc, "", "captured_at");

  const auto& w = doc["windows"];
  r.object(w, "/windows", {"major", "minor", "build", "server"}, {"major", "minor"});
  constexpr auto u32max = std::numeric_limits<std::uint32_t>::max();
  s.version.major = static_cast<std::uint32_t>(r.uint(w, "/windows", "major", 0, u32max, 0));
  s.version.minor = static_cast<std::uint32_t>(r.uint(w, "/windows", "minor", 0, u32max, 0));
  s.version.build = static_cast<std::uint32_t>(r.uint(w, "/windows", "build", 0, u32max, 0));
  s.version.server = r.boolean(w, "/windows", "server", true);

  r.array(doc, "", "services", [&](const json& j, const std::string& p) {
    r.object(j, p, {"name", "display_name", "start_type", "state", "pid", "group", "depend_on", "image_path"}, {"name"});
    ServiceInfo svc;
    svc.name = r.string(j, p, "name");
    if (svc.name.empty()) r.fail(p + "/name", "a service name cannot be empty");
    svc.display_name = r.string(j, p, "display_name");
    svc.start_type = r.enumeration<StartType>(j, p, "start_type", parse_start_type,
                                              "\"boot\", \"system\", \"automatic\", \"delayed-automatic\", \"manual\", \"disabled\", \"unknown\"",
                                              StartType::unknown);
    svc.state = r.enumeration<ServiceState>(j, p, "state", parse_service_state,
                                            "\"stopped\", \"start-pending\", \"stop-pending\", \"running\", \"continue-pending\", "
                                            "\"pause-pending\", \"paused\", \"unknown\"",
                                            ServiceState::unknown);
    svc.pid = static_cast<std::uint32_t>(r.uint(j, p, "pid", 0, u32max, 0));
    svc.group = r.string(j, p, "group");
    svc.depend_on = r.strings(j, p, "depend_on");
    svc.image_path = r.string(j, p, "image_path");
    s.services.push_back(std::move(svc));
  });

  s.reserved_ports = r.multi(doc, "", "reserved_ports");
  s.dns_socket_pool_excluded = r.multi(doc, "", "dns_socket_pool_excluded");

  if (const auto it = doc.find("persistent_reservations"); it != doc.end() && !it->is_null()) {
    std::vector<PersistentReservation> list;
    r.array(doc, "", "persistent_reservations", [&](const json& j, const std::string& p) {
      r.object(j, p, {"protocol", "start", "count", "token"}, {"protocol", "start", "count"});
      PersistentReservation pr;
      pr.protocol = r.protocol(j, p);
      pr.start = static_cast<Port>(r.uint(j, p, "start", 1, 65535, 0));
      pr.count = static_cast<std::uint16_t>(r.uint(j, p, "count", 1, 65535, 0));
      if (std::uint32_t{pr.start} + pr.count - 1 > 65535)
        r.fail(p + "/count", "the block " + std::to_string(pr.start) + "+" + std::to_string(pr.count) + " goes beyond port 65535");
      pr.token = r.uint(j, p, "token", 0, std::numeric_limits<std::uint64_t>::max(), 0);
      list.push_back(pr);
    });
    s.persistent_reservations = std::move(list);
  }

  r.array(doc, "", "dynamic_ranges", [&](const json& j, const std::string& p) {
    r.object(j, p, {"protocol", "ip", "first", "last", "assumed", "source"}, {"protocol", "first", "last"});
    DynamicPortRange d;
    d.protocol = r.protocol(j, p);
    d.ip = r.enumeration<IpVersion>(j, p, "ip", parse_ip_version, "\"v4\", \"v6\"", IpVersion::v4);
    d.range = r.range(j, p);
    d.assumed = r.boolean(j, p, "assumed", false);
    d.source = r.string(j, p, "source");
    s.dynamic_ranges.push_back(std::move(d));
  });

  // Optional since snapshots written before it existed must still load: absent or null = not captured.
  if (const auto it = doc.find("excluded_ranges"); it != doc.end() && !it->is_null()) {
    std::vector<ExcludedRange> list;
    r.array(doc, "", "excluded_ranges", [&](const json& j, const std::string& p) {
      r.object(j, p, {"protocol", "ip", "first", "last", "holder", "source"}, {"protocol", "first", "last", "holder"});
      ExcludedRange e;
      e.protocol = r.protocol(j, p);
      e.ip = r.enumeration<IpVersion>(j, p, "ip", parse_ip_version, "\"v4\", \"v6\"", IpVersion::v4);
      e.range = r.range(j, p);
      e.holder = r.enumeration<ExclusionHolder>(j, p, "holder", parse_exclusion_holder, "\"portguard\", \"administrator\", \"system\"");
      e.source = r.string(j, p, "source");
      list.push_back(std::move(e));
    });
    s.excluded_ranges = std::move(list);
  }

  r.array(doc, "", "ports_in_use", [&](const json& j, const std::string& p) {
    r.object(j, p, {"protocol", "port", "pid", "process", "service"}, {"protocol", "port"});
    PortInUse u;
    u.protocol = r.protocol(j, p);
    u.port = static_cast<Port>(r.uint(j, p, "port", 1, 65535, 0));
    u.pid = static_cast<std::uint32_t>(r.uint(j, p, "pid", 0, u32max, 0));
    u.process = r.string(j, p, "process");
    u.service = r.string(j, p, "service");
    s.ports_in_use.push_back(std::move(u));
  });

  r.array(doc, "", "configured_ports", [&](const json& j, const std::string& p) {
    r.object(j, p, {"service", "protocol", "first", "last", "source"}, {"service", "protocol", "first", "last"});
    ConfiguredPort c;
    c.service = r.string(j, p, "service");
    c.protocol = r.protocol(j, p);
    c.ports = r.range(j, p);
    c.source = r.string(j, p, "source");
    s.configured_ports.push_back(std::move(c));
  });

  s.boot_time_unix = r.optional_uint(doc, "", "boot_time_unix");
  s.dns_start_time_unix = r.optional_uint(doc, "", "dns_start_time_unix");
  return s;
}

/// nlohmann-json keeps the last of two equal member names silently; a snapshot must not, since
/// a second "reserved_ports" would change the plan unnoticed. Follows the parser's events with a
/// stack of open containers so the error can name the object's JSON pointer.
class DuplicateGuard {
public:
  explicit DuplicateGuard(const std::string& source) : source_(source) {}

  void on(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: frames_.push_back({false, 0, {}, {}}); break;
      case json::parse_event_t::array_start: frames_.push_back({true, 0, {}, {}}); break;
      case json::parse_event_t::key: {
        auto& top = frames_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second)
          throw SnapshotError(source_, path_of_top() + "/" + pointer_token(top.key) + ": duplicate member \"" + top.key +
                                           "\" (each member may appear once)");
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        element_done();
        break;
      case json::parse_event_t::value: element_done(); break;
    }
  }

private:
  struct Frame {
    bool array;
    std::size_t index;
    std::string key;
    std::set<std::string> keys;
  };

  void element_done() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }

  std::string path_of_top() const {
    std::string path;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i)
      path += "/" + (frames_[i].array ? std::to_string(frames_[i].index) : pointer_token(frames_[i].key));
    return path;
  }

  const std::string& source_;
  std::vector<Frame> frames_;
};

} // namespace

std::string to_json(const HostSnapshot& s) {
  ojson doc;
  doc["format"] = format_name;
  doc["format_version"] = snapshot_format_version;
  doc["hostname"] = s.hostname;
  doc["captured_at"] = s.captured_at;
  doc["windows"] = {{"major", s.version.major}, {"minor", s.version.minor}, {"build", s.version.build}, {"server", s.version.server}};

  auto services = ojson::array();
  for (const auto& svc : s.services) {
    services.push_back({{"name", svc.name},
                        {"display_name", svc.display_name},
                        {"start_type", to_string(svc.start_type)},
                        {"state", to_string(svc.state)},
                        {"pid", svc.pid},
                        {"group", svc.group},
                        {"depend_on", svc.depend_on},
                        {"image_path", svc.image_path}});
  }
  doc["services"] = std::move(services);
  doc["reserved_ports"] = multi_to_json(s.reserved_ports);
  doc["dns_socket_pool_excluded"] = multi_to_json(s.dns_socket_pool_excluded);
  if (s.persistent_reservations) {
    auto list = ojson::array();
    for (const auto& r : *s.persistent_reservations)
      list.push_back({{"protocol", to_string(r.protocol)}, {"start", r.start}, {"count", r.count}, {"token", r.token}});
    doc["persistent_reservations"] = std::move(list);
  } else {
    doc["persistent_reservations"] = nullptr;
  }
  auto dynamic = ojson::array();
  for (const auto& d : s.dynamic_ranges) {
    dynamic.push_back({{"protocol", to_string(d.protocol)},
                       {"ip", to_string(d.ip)},
                       {"first", d.range.first()},
                       {"last", d.range.last()},
                       {"assumed", d.assumed},
                       {"source", d.source}});
  }
  doc["dynamic_ranges"] = std::move(dynamic);
  if (s.excluded_ranges) {
    auto excluded = ojson::array();
    for (const auto& e : *s.excluded_ranges) {
      excluded.push_back({{"protocol", to_string(e.protocol)},
                          {"ip", to_string(e.ip)},
                          {"first", e.range.first()},
                          {"last", e.range.last()},
                          {"holder", to_string(e.holder)},
                          {"source", e.source}});
    }
    doc["excluded_ranges"] = std::move(excluded);
  } else {
    doc["excluded_ranges"] = nullptr;
  }
  auto in_use = ojson::array();
  for (const auto& u : s.ports_in_use) {
    in_use.push_back(
        {{"protocol", to_string(u.protocol)}, {"port", u.port}, {"pid", u.pid}, {"process", u.process}, {"service", u.service}});
  }
  doc["ports_in_use"] = std::move(in_use);
  auto configured = ojson::array();
  for (const auto& c : s.configured_ports) {
    configured.push_back({{"service", c.service},
                          {"protocol", to_string(c.protocol)},
                          {"first", c.ports.first()},
                          {"last", c.ports.last()},
                          {"source", c.source}});
  }
  doc["configured_ports"] = std::move(configured);
  doc["boot_time_unix"] = optional_to_json(s.boot_time_unix);
  doc["dns_start_time_unix"] = optional_to_json(s.dns_start_time_unix);
  // Strings come from the registry and may, on a damaged host, not be valid UTF-8: replace such
  // bytes with U+FFFD rather than fail the capture.
  return doc.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

HostSnapshot snapshot_from_json(std::string_view text, const std::string& source) {
  if (text.size() > max_document_bytes)
    throw SnapshotError(source, "the snapshot is " + std::to_string(text.size()) + " bytes; more than 64 MiB is not a plausible host snapshot");
  json doc;
  try {
    DuplicateGuard duplicates(source);
    doc = json::parse(text.begin(), text.end(), [&](int depth, json::parse_event_t event, json& parsed) {
      if (depth > max_depth) throw SnapshotError(source, "nesting deeper than " + std::to_string(max_depth) + " levels: not a host snapshot");
      duplicates.on(event, parsed);
      return true;
    });
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double ("1e999") is an out_of_range (406)
    // thrown from inside the parser (found by fuzz_snapshot_json). what() is
    // "[json.exception.parse_error.101] parse error at line 3, column 7: ...".
    std::string message = e.what();
    if (auto pos = message.find("] "); pos != std::string::npos) message.erase(0, pos + 2);
    throw SnapshotError(source, "invalid JSON: " + message);
  }
  const Reader reader(source);
  return read(doc, reader);
}

} // namespace portguard
