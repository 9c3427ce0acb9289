#include "portguard/config/group_policy.hpp"

#include "internal.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace portguard::config {

namespace {

namespace keys = group_policy_keys;

std::string squote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// The ADMX display names (installer/admx/en-US/PortGuard.adml), so an error says which setting
// in the Group Policy editor to correct.
constexpr std::string_view enforcement_setting = "Enforcement mode";
constexpr std::string_view metrics_setting = "Metrics folder for windows_exporter";
constexpr std::string_view reservations_setting = "Additional port reservations";
constexpr std::string_view exclude_setting = "Catalog services not to protect";
constexpr std::string_view protect_setting = "Services that wait for PortGuard at boot";

std::string fix_in_gpo(std::string_view setting) {
  return "; correct the setting " + squote(setting) + " (Computer Configuration > Administrative Templates > PortGuard) in the GPO, "
         "then run gpupdate (docs/policy.md, Group Policy)";
}

class Reader {
public:
  std::vector<Diagnostic> problems;

  void error(std::string_view key, std::string message) { problems.push_back({std::string(key), 0, 0, std::move(message)}); }

  /// The text of a string value, or nullopt (reported) when it has another type.
  std::optional<std::string> text(const PolicyRegistryValue& v, std::string_view setting, std::string_view example) {
    if (v.raw.type != reg_type::sz && v.raw.type != reg_type::expand_sz) {
      error(v.key, "value " + squote(v.name) + " has type " + reg_type_name(v.raw.type) + ", expected REG_SZ such as " + squote(example) +
                       fix_in_gpo(setting));
      return std::nullopt;
    }
    const MultiStringValue decoded = decode_multi_sz(RawRegistryValue{reg_type::sz, v.raw.data});
    std::string s = decoded.strings.empty() ? std::string{} : decoded.strings.front();
    return std::string(trim(s));
  }
};

std::optional<long> whole_number(std::string_view s) {
  long n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return n;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    out.push_back(trim(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start)));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

constexpr std::string_view reservation_example = "1812-1813/udp/IAS";

/// "1645-1646,1812/udp/IAS" -> a Reservation; reports every problem of the entry.
std::optional<Reservation> parse_reservation(Reader& r, const PolicyRegistryValue& v, const std::string& entry) {
  const std::string where = "value " + squote(v.name) + " (" + squote(entry) + ")";
  const auto fields = split(entry, '/');
  if (fields.size() != 3) {
    r.error(v.key, where + " is not ports/protocol/service; write an entry such as " + squote(reservation_example) +
                       " or '5000,5001-5010/both/BackupAgent'" + fix_in_gpo(reservations_setting));
    return std::nullopt;
  }
  Reservation res;
  bool ok = true;
  std::set<PortRange> seen;
  for (std::string_view item : split(fields[0], ',')) {
    const auto dash = item.find('-');
    const auto first = whole_number(trim(item.substr(0, dash)));
    const auto last = dash == std::string_view::npos ? first : whole_number(trim(item.substr(dash + 1)));
    if (!first || !last) {
      r.error(v.key, where + ": " + squote(item) + " is not a port or a range; write port numbers (1812) or ranges (1812-1813), separated by commas" +
                         fix_in_gpo(reservations_setting));
      ok = false;
    } else if (*first < 1 || *first > 65535 || *last < 1 || *last > 65535) {
      r.error(v.key, where + ": port " + squote(item) + " is out of range; ports are 1 to 65535" + fix_in_gpo(reservations_setting));
      ok = false;
    } else if (*first > *last) {
      r.error(v.key, where + ": reversed range " + squote(item) + "; write " + squote(std::to_string(*last) + "-" + std::to_string(*first)) +
                         " (smaller port first)" + fix_in_gpo(reservations_setting));
      ok = false;
    } else if (!seen.insert(PortRange::make(*first, *last)).second) {
      r.error(v.key, where + " lists " + squote(item) + " twice; remove one" + fix_in_gpo(reservations_setting));
      ok = false;
    } else {
      res.ports.push_back(PortRange::make(*first, *last));
    }
  }
  const std::string protocol = lower_ascii(fields[1]);
  if (protocol == "both") res.protocols = {Protocol::udp, Protocol::tcp};
  else if (auto p = parse_protocol(protocol)) res.protocols = {*p};
  else {
    r.error(v.key, where + ": protocol " + squote(fields[1]) + " is not udp, tcp or both" + fix_in_gpo(reservations_setting));
    ok = false;
  }
  if (!detail::valid_service_name(fields[2])) {
    r.error(v.key, where + ": " + squote(fields[2]) + " is not a Windows service key name (such as IAS or DNS)" + fix_in_gpo(reservations_setting));
    ok = false;
  }
  if (!ok) return std::nullopt;
  res.service = std::string(fields[2]);
  res.reason = "Group Policy entry " + squote(entry);
  res.source = std::string(keys::reservations);
  res.origin = Provenance::Kind::gpo;
  return res;
}

/// Service names of a list setting (CatalogExclude, ProtectServices): valid, each once.
std::vector<std::string> parse_names(Reader& r, const std::vector<const PolicyRegistryValue*>& values, std::string_view setting) {
  std::vector<std::string> names;
  for (const PolicyRegistryValue* v : values) {
    auto name = r.text(*v, setting, "SNMP");
    if (!name) continue;
    if (!detail::valid_service_name(*name)) {
      r.error(v->key, "value " + squote(v->name) + " (" + squote(*name) + ") is not a Windows service key name (such as SNMP or DNS)" + fix_in_gpo(setting));
    } else if (std::any_of(names.begin(), names.end(), [&](const std::string& n) { return iequals_ascii(n, *name); })) {
      r.error(v->key, "value " + squote(v->name) + ": service " + squote(*name) + " is listed twice; remove one" + fix_in_gpo(setting));
    } else {
      names.push_back(*name);
    }
  }
  return names;
}

/// Ports the two reservations give to different owners for the same protocol.
bool same_protocol(const Reservation& a, Protocol p) { return std::find(a.protocols.begin(), a.protocols.end(), p) != a.protocols.end(); }

/// The first port range of `b` that `a` also reserves for the same protocol, if any.
std::optional<std::pair<PortRange, Protocol>> shared_ports(const Reservation& a, const Reservation& b) {
  for (Protocol p : {Protocol::udp, Protocol::tcp}) {
    if (!same_protocol(a, p) || !same_protocol(b, p)) continue;
    for (const PortRange& x : a.ports)
      for (const PortRange& y : b.ports)
        if (x.overlaps(y)) return std::pair{y, p};
  }
  return std::nullopt;
}

/// Group Policy's own entries: a port and protocol is reserved once, for one owner (as in the file).
void check_owners(Reader& r, const std::vector<Reservation>& reservations) {
  const auto entry = [](const Reservation& x) { return x.reason.substr(std::string_view("Group Policy entry ").size()); };
  for (std::size_t i = 0; i < reservations.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const Reservation& a = reservations[j];
      const Reservation& b = reservations[i];
      const auto shared = shared_ports(a, b);
      if (!shared) continue;
      const bool same_owner = iequals_ascii(a.service, b.service);
      r.error(keys::reservations, "entry " + entry(b) + " reserves " + shared->first.to_string() + "/" + std::string(to_string(shared->second)) +
                                      (same_owner ? " again" : " for " + squote(b.service)) + ", but entry " + entry(a) + " already reserves it" +
                                      (same_owner ? "" : " for " + squote(a.service) + "; a port has one owner") + ", keep one entry" +
                                      fix_in_gpo(reservations_setting));
    }
  }
}

} // namespace

std::string group_policy_source() { return "Group Policy (" + std::string(keys::root) + ")"; }

std::string GroupPolicy::fingerprint() const {
  std::string out;
  for (const auto& v : values) out += v.key + '\n' + v.name + '\n' + std::to_string(v.raw.type) + '\n' + to_hex(v.raw.data) + '\n';
  return out;
}

GroupPolicy read_group_policy(PolicyKeyReader& reader) {
  std::vector<PolicyRegistryValue> all;
  for (std::string_view key : {keys::root, keys::reservations, keys::catalog_exclude, keys::protect_services}) {
    if (auto values = reader.values(key)) {
      for (auto& v : *values) {
        v.key = std::string(key);
        all.push_back(std::move(v));
      }
    }
  }
  return parse_group_policy(std::move(all));
}

GroupPolicy parse_group_policy(std::vector<PolicyRegistryValue> values) {
  // List values are named 1, 2, 3 ... (valuePrefix=""): numeric order is the order in the editor.
  const auto order = [](const PolicyRegistryValue& a, const PolicyRegistryValue& b) {
    if (a.key != b.key) return a.key < b.key;
    const auto na = whole_number(a.name), nb = whole_number(b.name);
    if (na && nb) return *na < *nb;
    if (na.has_value() != nb.has_value()) return na.has_value();
    return a.name < b.name;
  };
  std::sort(values.begin(), values.end(), order);

  GroupPolicy gp;
  Reader r;
  std::vector<const PolicyRegistryValue*> exclude, protect;
  for (const PolicyRegistryValue& v : values) {
    if (v.key == keys::root) {
      if (iequals_ascii(v.name, keys::enforcement_value)) {
        if (auto t = r.text(v, enforcement_setting, "audit")) {
          const std::string mode = lower_ascii(*t);
          if (mode == "audit") gp.enforcement = Enforcement::audit;
          else if (mode == "enforce") gp.enforcement = Enforcement::enforce;
          else r.error(v.key, "value " + squote(v.name) + " is " + squote(*t) + "; write 'audit' or 'enforce'" + fix_in_gpo(enforcement_setting));
        }
      } else if (iequals_ascii(v.name, keys::metrics_dir_value)) {
        if (auto t = r.text(v, metrics_setting, "C:\\Program Files\\windows_exporter\\textfile_inputs")) {
          if (auto problem = folder_path_problem(*t)) r.error(v.key, "value " + squote(v.name) + " (" + squote(*t) + ") " + *problem + fix_in_gpo(metrics_setting));
          else gp.metrics_dir = *t;
        }
      } else {
        std::string msg = "unknown value " + squote(v.name);
        const std::vector<std::string> known{std::string(keys::enforcement_value), std::string(keys::metrics_dir_value)};
        if (auto near = closest_match(v.name, known)) msg += "; did you mean " + squote(*near) + "?";
        else msg += "; PortGuard reads Enforcement and MetricsDir here and the subkeys Reservations, CatalogExclude and ProtectServices";
        r.error(v.key, msg + " (set the values through PortGuard.admx, docs/install.md)");
      }
    } else if (v.key == keys::reservations) {
      if (auto t = r.text(v, reservations_setting, reservation_example)) {
        if (auto res = parse_reservation(r, v, *t)) gp.reservations.push_back(std::move(*res));
      }
    } else if (v.key == keys::catalog_exclude) {
      exclude.push_back(&v);
    } else if (v.key == keys::protect_services) {
      protect.push_back(&v);
    }
  }
  check_owners(r, gp.reservations);
  if (!exclude.empty()) gp.catalog_exclude = parse_names(r, exclude, exclude_setting);
  gp.protect_services = parse_names(r, protect, protect_setting);
  if (!r.problems.empty()) throw GroupPolicyError(std::move(r.problems));
  gp.values = std::move(values);
  return gp;
}

namespace {

/// The file's reservations without the ports Group Policy gives to another service (GPO wins).
/// An entry keeps its provenance; where a conflict splits it, one entry per protocol remains.
std::vector<Reservation> without_ports_taken_by(const std::vector<Reservation>& file, const std::vector<Reservation>& gpo) {
  std::vector<Reservation> out;
  for (const Reservation& f : file) {
    std::vector<Reservation> per_protocol;
    bool changed = false;
    for (Protocol p : f.protocols) {
      PortSet kept = PortSet::from_ranges(f.ports);
      for (const Reservation& g : gpo) {
        if (!same_protocol(g, p) || iequals_ascii(g.service, f.service)) continue;
        for (const PortRange& taken : g.ports) kept.erase(taken);
      }
      Reservation part = f;
      part.protocols = {p};
      part.ports = kept.ranges();
      changed = changed || part.ports.size() != f.ports.size() || !std::equal(part.ports.begin(), part.ports.end(), f.ports.begin());
      if (!part.ports.empty()) per_protocol.push_back(std::move(part));
    }
    if (!changed) out.push_back(f);
    else out.insert(out.end(), per_protocol.begin(), per_protocol.end());
  }
  return out;
}

} // namespace

void apply_group_policy(Policy& policy, const GroupPolicy& gp) {
  if (gp.empty()) return;
  Reader r;
  if (gp.catalog_exclude) {
    std::vector<std::string> names;
    std::vector<std::string> catalog_names;
    for (const CatalogEntry& e : policy.catalog.entries) catalog_names.push_back(e.service);
    for (const std::string& name : *gp.catalog_exclude) {
      if (const CatalogEntry* e = policy.catalog.find(name)) {
        names.push_back(e->service);
        continue;
      }
      std::string msg = "service " + squote(name) + " is not in the catalog (" + policy.catalog.source + ")";
      if (auto near = closest_match(name, catalog_names)) msg += "; did you mean " + squote(*near) + "?";
      else msg += "; only catalog services can be excluded (docs/policy.md lists them)";
      r.error(keys::catalog_exclude, msg + fix_in_gpo(exclude_setting));
    }
    // The exclusion list is one setting: Group Policy's replaces the file's, and a service it
    // excludes is no longer included or overridden by the file.
    const auto excluded = [&](const std::string& s) {
      return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return iequals_ascii(n, s); });
    };
    policy.catalog_exclude = names;
    std::erase_if(policy.catalog_include, excluded);
    std::erase_if(policy.catalog_overrides, [&](const CatalogOverride& o) { return excluded(o.service); });
  }
  if (!r.problems.empty()) throw GroupPolicyError(std::move(r.problems));

  if (gp.enforcement) policy.enforcement = *gp.enforcement;
  if (gp.metrics_dir) policy.metrics_textfile_dir = gp.metrics_dir;
  policy.reservations = without_ports_taken_by(policy.reservations, gp.reservations);
  policy.reservations.insert(policy.reservations.end(), gp.reservations.begin(), gp.reservations.end());
  policy.protect_at_boot = gp.protect_services;
  policy.group_policy = gp.values;
}

bool set_by_group_policy(const Policy& policy, std::string_view value_name) {
  return std::any_of(policy.group_policy.begin(), policy.group_policy.end(),
                     [&](const PolicyRegistryValue& v) { return v.key == keys::root && iequals_ascii(v.name, value_name); });
}

void MemoryPolicyKeys::set_string(std::string_view key, std::string_view name, std::string_view text, std::uint32_t type) {
  auto bytes = encode_multi_sz({std::string(text)});
  bytes.resize(bytes.size() - 2);  // REG_SZ: the string and its terminator, no list terminator
  values_.push_back({std::string(key), std::string(name), RawRegistryValue{type, std::move(bytes)}});
}

void MemoryPolicyKeys::set_dword(std::string_view key, std::string_view name, std::uint32_t value) {
  values_.push_back({std::string(key), std::string(name),
                     RawRegistryValue{reg_type::dword, {static_cast<std::uint8_t>(value), static_cast<std::uint8_t>(value >> 8),
                                                        static_cast<std::uint8_t>(value >> 16), static_cast<std::uint8_t>(value >> 24)}}});
}

std::optional<std::vector<PolicyRegistryValue>> MemoryPolicyKeys::values(std::string_view key) {
  std::vector<PolicyRegistryValue> out;
  for (const auto& v : values_)
    if (iequals_ascii(v.key, key)) out.push_back(v);
  if (out.empty()) return std::nullopt;
  return out;
}

} // namespace portguard::config
