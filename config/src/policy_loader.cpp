#include "toml_support.hpp"

#include "portguard/core/target.hpp"

#include <map>
#include <set>

namespace portguard::config {

using detail::Checker;
using detail::squote;
using detail::join_choices;

namespace {

const std::vector<std::string> top_keys{"guard", "reserve", "catalog", "discovery", "monitoring"};
const std::vector<std::string> guard_keys{"mode", "enforcement", "targets", "recheck_interval", "limits", "allow", "dynamic_range"};
const std::vector<std::string> dynamic_range_keys{"udp", "tcp"};
const std::vector<std::string> limit_keys{"max_reserved_ports", "min_free_dynamic_ports"};
const std::vector<std::string> allow_keys{"removals", "large_reservations", "shrink_dynamic", "empty_value"};
const std::vector<std::string> reserve_keys{"ports", "protocol", "service", "reason", "when_installed"};
const std::vector<std::string> catalog_keys{"enabled", "exclude", "include", "override"};
const std::vector<std::string> override_keys{"udp", "tcp", "reason"};
const std::vector<std::string> discovery_keys{"registry_ports", "exclude"};
const std::vector<std::string> monitoring_keys{"textfile_dir"};

constexpr std::int64_t min_recheck_seconds = 10;
constexpr std::int64_t max_recheck_seconds = 24 * 3600;

/// Lazily read services file: only a policy that names ports by service needs one.
class ServicesSource {
public:
  explicit ServicesSource(const ServiceNameResolver* ready) : ready_(ready) {}
  explicit ServicesSource(std::filesystem::path file) : file_(std::move(file)) {}

  /// nullptr with `error` set when the file cannot be read.
  const ServiceNameResolver* get(std::string& error) {
    if (ready_ != nullptr) return ready_;
    if (!loaded_) {
      loaded_ = true;
      try {
        owned_ = ServiceNameResolver::read(file_);
      } catch (const PolicyError& e) {
        error_ = e.diagnostics().empty() ? e.what() : e.diagnostics().front().to_string();
      }
    }
    error = error_;
    return owned_ ? &*owned_ : nullptr;
  }
  std::string name() const { return ready_ ? ready_->source : file_.string(); }

private:
  const ServiceNameResolver* ready_ = nullptr;
  std::filesystem::path file_;
  bool loaded_ = false;
  std::optional<ServiceNameResolver> owned_;
  std::string error_;
};

} // namespace

std::optional<std::string> folder_path_problem(std::string_view path) {
  const auto drive = path.size() >= 3 && std::isalpha(static_cast<unsigned char>(path[0])) && path[1] == ':' && path[2] == '\\';
  const auto unc = path.size() >= 5 && path.substr(0, 2) == "\\\\" && path.find('\\', 2) != std::string_view::npos;
  if (!drive && !unc) return "is not an absolute folder path; write a path such as 'C:\\Program Files\\windows_exporter\\textfile_inputs'";
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char ch = path[i];
    if (static_cast<unsigned char>(ch) < 0x20 || std::string_view("<>\"|?*/").find(ch) != std::string_view::npos || (ch == ':' && i != 1)) {
      return "contains a character Windows does not allow in a folder name ('" + std::string(1, ch >= 0x20 ? ch : '?') + "')";
    }
  }
  return std::nullopt;
}

namespace {

/// "15m", "90s", "1h", "1h30m" or a bare number of seconds.
std::optional<std::int64_t> parse_duration(std::string_view text) {
  text = detail::trim(text);
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i || j - i > 6) return std::nullopt;
    const std::int64_t n = std::stoll(std::string(text.substr(i, j - i)));
    if (j == text.size()) {
      if (i != 0) return std::nullopt;  // "1h30" is ambiguous
      return n;
    }
    const char unit = lower_ascii(text[j]);
    if (unit == 'h') total += n * 3600;
    else if (unit == 'm') total += n * 60;
    else if (unit == 's') total += n;
    else return std::nullopt;
    i = j + 1;
  }
  return total;
}

struct Loader {
  Checker& c;
  Policy& policy;
  ServicesSource& services;
  std::vector<std::string> catalog_names;
  bool resolved_any = false;

  void guard(const toml::table& root) {
    const toml::table* g = c.get_table(root, "guard", "the policy", "[guard]");
    if (g == nullptr) return;
    c.check_keys(*g, guard_keys, "[guard]");
    if (auto mode = c.get_string(*g, "mode", "[guard]", "\"merge\"")) {
      if (*mode == "merge") policy.plan.mode = Mode::merge;
      else if (*mode == "exact") policy.plan.mode = Mode::exact;
      else c.error(*g->get("mode"), "unknown mode " + squote(*mode) + hint(*mode, {"merge", "exact"}) + "; write mode = \"merge\" (only add what is missing) or mode = \"exact\" (the policy is the whole truth)");
    }
    if (auto enf = c.get_string(*g, "enforcement", "[guard]", "\"enforce\"")) {
      if (*enf == "enforce") policy.enforcement = Enforcement::enforce;
      else if (*enf == "audit") policy.enforcement = Enforcement::audit;
      else c.error(*g->get("enforcement"), "unknown enforcement " + squote(*enf) + hint(*enf, {"enforce", "audit"}) + "; write enforcement = \"enforce\" (repair) or enforcement = \"audit\" (report and alert, never write)");
    }
    if (auto targets = c.get_string_list(*g, "targets", "[guard]", "[\"dns-socket-pool\", \"persistent-reservation\"]")) {
      std::vector<std::string> names;
      for (const TargetInfo& t : all_targets()) names.emplace_back(t.name);
      std::vector<Target> out;
      if (targets->empty()) {
        c.error(*g->get("targets"), "targets = [] manages nothing; remove the 'targets' line to manage every target effective on this Windows version, or list some of " + join_quoted(names));
      }
      for (const auto& [name, node] : *targets) {
        const auto t = parse_target(name);
        if (!t) {
          c.error(*node, "unknown target " + squote(name) + hint(name, names) + "; targets are " + join_quoted(names));
        } else if (std::find(out.begin(), out.end(), *t) != out.end()) {
          c.error(*node, "target " + squote(name) + " is listed twice; remove one");
        } else {
          out.push_back(*t);
        }
      }
      if (!targets->empty()) policy.plan.targets = out;
    }
    if (const toml::node* ri = g->get("recheck_interval")) {
      std::optional<std::int64_t> seconds;
      if (const auto* i = ri->as_integer()) seconds = i->get();
      else if (const auto* s = ri->as_string()) seconds = parse_duration(s->get());
      if (!seconds) {
        c.error(*ri, "recheck_interval must be a duration such as \"15m\", \"90s\" or \"1h\" (or a number of seconds), not " +
                         (ri->is_string() ? squote(ri->as_string()->get()) : detail::type_name(*ri)));
      } else if (*seconds < min_recheck_seconds || *seconds > max_recheck_seconds) {
        c.error(*ri, "recheck_interval of " + std::to_string(*seconds) + " seconds is out of range; write a duration from \"10s\" to \"24h\"");
      } else {
        policy.recheck_interval = std::chrono::seconds(*seconds);
      }
    }
    dynamic_range(*g);
    const toml::table* limits = c.get_table(*g, "limits", "[guard]", "[guard.limits]");
    const toml::table* allow = c.get_table(*g, "allow", "[guard]", "[guard.allow]");
    if (limits != nullptr) {
      c.check_keys(*limits, limit_keys, "[guard.limits]");
      if (auto v = c.get_integer(*limits, "max_reserved_ports", "[guard.limits]", 1, 65535)) policy.plan.limits.max_reserved_ports = static_cast<std::uint32_t>(*v);
      if (const toml::node* n = limits->get("min_free_dynamic_ports"); n != nullptr && n->is_integer() && n->as_integer()->get() < 255 && n->as_integer()->get() >= 0) {
        c.error(*n, "min_free_dynamic_ports = " + std::to_string(n->as_integer()->get()) +
                        " is below 255, the smallest dynamic port range Windows supports; write 255 or more (leaving fewer free ports risks port exhaustion)");
      } else if (auto m = c.get_integer(*limits, "min_free_dynamic_ports", "[guard.limits]", 255, 64511)) {
        policy.plan.limits.min_free_dynamic_ports = static_cast<std::uint32_t>(*m);
      }
    }
    if (allow != nullptr) {
      c.check_keys(*allow, allow_keys, "[guard.allow]");
      if (auto b = c.get_bool(*allow, "removals", "[guard.allow]")) policy.plan.allow.removals = *b;
      if (auto b = c.get_bool(*allow, "large_reservations", "[guard.allow]")) policy.plan.allow.large_reservations = *b;
      if (auto b = c.get_bool(*allow, "shrink_dynamic", "[guard.allow]")) policy.plan.allow.shrink_dynamic = *b;
      if (auto b = c.get_bool(*allow, "empty_value", "[guard.allow]")) policy.plan.allow.empty_value = *b;
      // Contradictions: an allowance that can never apply, or a limit set and lifted at once.
      if (policy.plan.allow.removals && policy.plan.mode == Mode::merge) {
        c.error(*allow->get("removals"), "allow.removals = true has no effect in merge mode (merge never removes); set mode = \"exact\" in [guard] or remove 'removals'");
      }
      if (policy.plan.allow.large_reservations && limits != nullptr && limits->get("max_reserved_ports") != nullptr) {
        c.error(*allow->get("large_reservations"), "allow.large_reservations = true lifts the max_reserved_ports limit that [guard.limits] sets; keep one of the two");
      }
      if (policy.plan.allow.shrink_dynamic && limits != nullptr && limits->get("min_free_dynamic_ports") != nullptr) {
        c.error(*allow->get("shrink_dynamic"), "allow.shrink_dynamic = true lifts the min_free_dynamic_ports limit that [guard.limits] sets; keep one of the two");
      }
    }
  }

  // --- [guard.dynamic_range] (issue 16 item 1) ---------------------------------------------------

  /// "49152-65535" -> the range; nullopt (after an error naming the line and what to write) otherwise.
  std::optional<PortRange> dynamic_range_value(const toml::node& node, std::string_view protocol) {
    const std::string example = std::string(protocol) + " = \"49152-65535\"";
    const auto* text = node.as_string();
    if (text == nullptr) {
      c.error(node, squote(protocol) + " in [guard.dynamic_range] must be a string \"start-end\", not " + detail::type_name(node) + "; write " + example);
      return std::nullopt;
    }
    const std::string& v = text->get();
    const auto dash = v.find('-');
    const auto number = [](std::string_view digits) -> std::optional<long> {
      if (digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
      return std::stol(std::string(digits));
    };
    const auto first = dash == std::string::npos ? std::nullopt : number(std::string_view(v).substr(0, dash));
    const auto last = dash == std::string::npos ? std::nullopt : number(std::string_view(v).substr(dash + 1));
    if (!first || !last) {
      c.error(node, "dynamic range " + squote(v) + " for " + std::string(protocol) + " is not \"start-end\"; write " + example +
                        " (as `netsh int ipv4 show dynamicport " + std::string(protocol) + "` shows it: start port, then start + number of ports - 1)");
      return std::nullopt;
    }
    if (*first > *last) {
      c.error(node, "reversed dynamic range " + squote(v) + " for " + std::string(protocol) + "; write \"" + std::to_string(*last) + "-" +
                        std::to_string(*first) + "\" (smaller port first)");
      return std::nullopt;
    }
    if (*last > 65535) {
      c.error(node, "dynamic range " + squote(v) + " for " + std::string(protocol) + " ends after 65535, the last port; write an end of 65535 or less, e.g. " + example);
      return std::nullopt;
    }
    const PortRange range = PortRange::make(std::max(*first, 1L), *last);
    if (*first < 1 || !dynamic_range_problem(range).empty()) {
      c.error(node, "dynamic range " + squote(v) + " for " + std::string(protocol) + " " +
                        (*first < 1 ? std::string("starts at port 0") : dynamic_range_problem(range)) +
                        "; Windows needs a start of 1025 or more and at least 255 ports; write e.g. " + example + " (the default)");
      return std::nullopt;
    }
    return range;
  }

  void dynamic_range(const toml::table& g) {
    const toml::table* t = c.get_table(g, "dynamic_range", "[guard]", "[guard.dynamic_range]");
    if (t == nullptr) return;
    c.check_keys(*t, dynamic_range_keys, "[guard.dynamic_range]");
    if (t->empty()) {
      c.error(t->source(), "[guard.dynamic_range] is empty; write udp = \"49152-65535\" and/or tcp = \"49152-65535\", or remove the section");
    }
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      const toml::node* node = t->get(to_string(p));
      if (node == nullptr) continue;
      if (const auto range = dynamic_range_value(*node, to_string(p)))
        policy.plan.dynamic_ranges.push_back(ExpectedDynamicRange{p, *range, c.line_ref(node->source())});
    }
  }

  static std::string join_quoted(const std::vector<std::string>& names) {
    std::vector<std::string> q;
    for (const auto& n : names) q.push_back(squote(n));
    return join_choices(q, " and ");
  }
  static std::string hint(std::string_view word, const std::vector<std::string>& choices) {
    if (auto near = closest_match(word, choices)) return " (did you mean " + squote(*near) + "?)";
    return {};
  }

  struct Owned {
    PortRange range;
    std::string service;
    std::string source;
  };
  // Accepted reservations per protocol, keyed by first port. They never overlap (an overlap is a
  // duplicate or a conflict, both rejected), so one lookup finds any clash: O(log n) per range.
  std::map<Port, Owned> owned[2];

  const Owned* clash(Protocol p, const PortRange& range) const {
    const auto& m = owned[static_cast<int>(p)];
    auto it = m.upper_bound(range.last());
    if (it == m.begin()) return nullptr;
    --it;
    return it->second.range.overlaps(range) ? &it->second : nullptr;
  }

  void reserve(const toml::table& root) {
    const toml::node* n = root.get("reserve");
    if (n == nullptr) return;
    const toml::array* list = n->as_array();
    if (list == nullptr || !list->is_array_of_tables()) {
      c.error(*n, "'reserve' must be written as [[reserve]] sections (double brackets), one per reservation");
      return;
    }
    int index = 0;
    for (const toml::node& node : *list) {
      ++index;
      reservation(*node.as_table(), "[[reserve]] #" + std::to_string(index));
    }
  }

  void reservation(const toml::table& t, const std::string& where) {
    c.check_keys(t, reserve_keys, where);
    Reservation r;
    r.source = c.line_ref(t.source());
    bool ok = true;

    auto proto = c.get_string(t, "protocol", where, "\"udp\"");
    if (proto) {
      const std::string p = lower_ascii(*proto);
      if (p == "udp") r.protocols = {Protocol::udp};
      else if (p == "tcp") r.protocols = {Protocol::tcp};
      else if (p == "both") r.protocols = {Protocol::udp, Protocol::tcp};
      else {
        c.error(*t.get("protocol"), "unknown protocol " + squote(*proto) + " in " + where + hint(p, {"udp", "tcp", "both"}) + "; write protocol = \"udp\", \"tcp\" or \"both\"");
        ok = false;
      }
    } else {
      if (t.get("protocol") == nullptr) c.error(t.source(), where + " has no 'protocol'; write protocol = \"udp\", \"tcp\" or \"both\"");
      ok = false;
    }

    if (auto s = c.get_string(t, "service", where, "\"IAS\"")) {
      if (!detail::valid_service_name(*s)) {
        c.error(*t.get("service"), "service " + squote(*s) + " in " + where + " is not a Windows service key name; write the key name from HKLM\\SYSTEM\\CurrentControlSet\\Services, e.g. service = \"IAS\"");
        ok = false;
      } else {
        r.service = *s;
      }
    } else {
      if (t.get("service") == nullptr) c.error(t.source(), where + " has no 'service'; write service = \"<Windows service key name that binds these ports>\", e.g. service = \"IAS\"");
      ok = false;
    }
    r.reason = c.get_string(t, "reason", where, "\"RADIUS for the VPN concentrators\"").value_or("");
    if (auto w = c.get_string(t, "when_installed", where, "\"IAS\"")) {
      if (!detail::valid_service_name(*w)) {
        c.error(*t.get("when_installed"), "when_installed " + squote(*w) + " in " + where + " is not a Windows service key name; write e.g. when_installed = \"IAS\"");
        ok = false;
      } else {
        r.when_installed = *w;
      }
    }

    const toml::node* ports = t.get("ports");
    if (ports == nullptr) {
      c.error(t.source(), where + " has no 'ports'; write ports = [1812, \"1645-1646\", \"radius\"]");
      return;
    }
    std::vector<const toml::node*> items;
    if (const auto* a = ports->as_array()) {
      for (const toml::node& e : *a) items.push_back(&e);
      if (a->empty()) {
        c.error(*ports, "ports = [] in " + where + " reserves nothing; list ports such as [1812, \"1645-1646\"] or remove the section");
        ok = false;
      }
    } else if (ports->is_integer() || ports->is_string()) {
      items.push_back(ports);
    } else {
      c.error(*ports, "'ports' in " + where + " must be a list of ports, not " + detail::type_name(*ports) + "; write ports = [1812, \"1645-1646\", \"radius\"]");
      return;
    }
    PortSet seen;
    for (const toml::node* item_node : items) {
      auto item = detail::parse_port_item(c, *item_node, "ports", true);
      if (!item.ok) { ok = false; continue; }
      std::vector<PortRange> ranges;
      if (item.range) {
        ranges.push_back(*item.range);
      } else if (!resolve_name(item.name, *item_node, r.protocols, where, ranges)) {
        ok = false;
        continue;
      }
      for (const PortRange& range : ranges) {
        if (seen.intersects(range)) {
          c.error(*item_node, "ports " + describe(range) + " are listed twice in " + where + "; remove the duplicate");
          ok = false;
          continue;
        }
        seen.insert(range);
        r.ports.push_back(range);
      }
    }
    if (!ok) return;

    // Across entries: one owner per port and protocol, and no entry repeating another.
    for (Protocol p : r.protocols) {
      for (const PortRange& range : r.ports) {
        if (const Owned* found = clash(p, range)) {
          const Owned& o = *found;
          if (iequals_ascii(o.service, r.service)) {
            c.error(t.source(), where + " reserves " + describe(range) + "/" + std::string(to_string(p)) + " for " + squote(r.service) +
                                    " again (already reserved at " + o.source + "); remove the duplicate");
          } else {
            c.error(t.source(), "conflicting owners: " + where + " reserves " + describe(range) + "/" + std::string(to_string(p)) + " for " +
                                    squote(r.service) + ", but " + o.source + " reserves " + describe(o.range) + " for " + squote(o.service) +
                                    "; a port has one owner, keep one entry");
          }
          ok = false;
        }
      }
    }
    if (!ok) return;
    for (Protocol p : r.protocols) {
      for (const PortRange& range : r.ports) owned[static_cast<int>(p)].emplace(range.first(), Owned{range, r.service, r.source});
    }
    policy.reservations.push_back(std::move(r));
  }

  static std::string describe(const PortRange& r) {
    return r.first() == r.last() ? std::to_string(r.first()) : std::to_string(r.first()) + "-" + std::to_string(r.last());
  }

  bool resolve_name(const std::string& name, const toml::node& node, const std::vector<Protocol>& protocols, const std::string& where, std::vector<PortRange>& out) {
    std::string error;
    const ServiceNameResolver* resolver = services.get(error);
    if (resolver == nullptr) {
      c.error(node, "cannot resolve service name " + squote(name) + " in " + where + ": " + error +
                        "; write the port number instead, or pass --services-file FILE");
      return false;
    }
    const auto found = resolver->lookup(name);
    if (found.empty()) {
      std::string msg = "unknown service name " + squote(name) + " in " + where + " (not in " + resolver->source + ")";
      if (auto near = resolver->suggest(name)) msg += "; did you mean " + squote(*near) + "?";
      else msg += "; write the port number instead";
      c.error(node, msg);
      return false;
    }
    std::set<Port> ports;
    std::set<std::string> other_protocols;
    for (const ServicePort& sp : found) {
      const bool wanted = protocols.empty() || protocols.size() == 2 ||
                          std::find(protocols.begin(), protocols.end(), sp.protocol) != protocols.end();
      if (wanted) ports.insert(sp.port);
      else other_protocols.insert(std::string(to_string(sp.protocol)));
    }
    if (ports.empty()) {
      c.error(node, "service name " + squote(name) + " in " + where + " is listed in " + resolver->source + " only for " +
                        join_choices({other_protocols.begin(), other_protocols.end()}) + "; write the port number (" +
                        std::to_string(found.front().port) + ") or change 'protocol'");
      return false;
    }
    for (Port p : ports) out.push_back(PortRange::single(p));
    resolved_any = true;
    return true;
  }

  std::optional<std::vector<PortRange>> override_ports(const toml::table& t, std::string_view key, const std::string& where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    std::vector<PortRange> out;
    std::vector<const toml::node*> items;
    if (const auto* a = n->as_array()) {
      for (const toml::node& e : *a) items.push_back(&e);
    } else if (n->is_integer() || n->is_string()) {
      items.push_back(n);
    } else {
      c.error(*n, squote(key) + " in " + where + " must be a list of ports, not " + detail::type_name(*n) + "; write " + std::string(key) + " = [1812, \"1645-1646\"] ([] for none)");
      return std::nullopt;
    }
    PortSet seen;
    for (const toml::node* e : items) {
      auto item = detail::parse_port_item(c, *e, key, false);
      if (!item.ok || !item.range) continue;
      if (seen.intersects(*item.range)) {
        c.error(*e, "ports " + describe(*item.range) + " are listed twice in " + squote(key) + " of " + where + "; remove the duplicate");
        continue;
      }
      seen.insert(*item.range);
      out.push_back(*item.range);
    }
    return out;
  }

  /// A catalog service name: reported when unknown, returned as the catalog spells it.
  std::optional<std::string> catalog_name(const std::string& name, const toml::source_region& node, std::string_view where) {
    if (const CatalogEntry* e = policy.catalog.find(name)) return e->service;
    std::string msg = "service " + squote(name) + " in " + std::string(where) + " is not in the catalog (" + policy.catalog.source + ")";
    if (auto near = closest_match(name, catalog_names)) msg += "; did you mean " + squote(*near) + "?";
    else msg += "; protect it with a [[reserve]] section instead (docs/policy.md lists the catalog's services)";
    c.error(node, msg);
    return std::nullopt;
  }

  void catalog(const toml::table& root) {
    for (const CatalogEntry& e : policy.catalog.entries) catalog_names.push_back(e.service);
    const toml::table* t = c.get_table(root, "catalog", "the policy", "[catalog]");
    if (t == nullptr) return;
    c.check_keys(*t, catalog_keys, "[catalog]");
    if (auto b = c.get_bool(*t, "enabled", "[catalog]")) policy.use_catalog = *b;

    auto names = [&](std::string_view key, std::vector<std::string>& out) -> std::map<std::string, const toml::node*> {
      std::map<std::string, const toml::node*> where_of;
      auto list = c.get_string_list(*t, key, "[catalog]", "[\"SSDPSRV\", \"W3SVC\"]");
      if (!list) return where_of;
      for (const auto& [name, node] : *list) {
        auto canonical = catalog_name(name, node->source(), "[catalog] " + std::string(key));
        if (!canonical) continue;
        if (where_of.count(lower_ascii(*canonical)) != 0) {
          c.error(*node, "service " + squote(name) + " is listed twice in [catalog] " + std::string(key) + "; remove one");
          continue;
        }
        where_of[lower_ascii(*canonical)] = node;
        out.push_back(*canonical);
      }
      return where_of;
    };
    const auto excluded = names("exclude", policy.catalog_exclude);
    const auto included = names("include", policy.catalog_include);
    for (const auto& [name, node] : included) {
      if (excluded.count(name) != 0) {
        c.error(*node, "service " + squote(name) + " is both included and excluded in [catalog]; keep it in one list");
      }
    }

    if (const toml::table* ov = c.get_table(*t, "override", "[catalog]", "[catalog.override.<Service>]")) {
      for (auto&& [k, v] : *ov) {
        const std::string name(k.str());
        const std::string where = "[catalog.override." + name + "]";
        const auto canonical = catalog_name(name, k.source(), where);
        const toml::table* ot = v.as_table();
        if (ot == nullptr) {
          c.error(v, where + " must be a table; write [catalog.override." + name + "] with udp, tcp or reason");
          continue;
        }
        c.check_keys(*ot, override_keys, where);
        CatalogOverride o;
        o.source = c.line_ref(ot->source().begin.line != 0 ? ot->source() : k.source());
        o.udp = override_ports(*ot, "udp", where);
        o.tcp = override_ports(*ot, "tcp", where);
        o.reason = c.get_string(*ot, "reason", where, "\"RADIUS for the VPN concentrators\"");
        if (!o.udp && !o.tcp && !o.reason) {
          c.error(k, where + " changes nothing; write udp = [...], tcp = [...] or reason = \"...\", or remove it");
        }
        if (!canonical) continue;
        o.service = *canonical;
        if (excluded.count(lower_ascii(*canonical)) != 0) {
          c.error(k, where + " overrides a service that [catalog] exclude opts out of; remove the override or the exclusion");
        }
        policy.catalog_overrides.push_back(std::move(o));
      }
    }
    if (!policy.use_catalog) {
      for (std::string_view key : {"exclude", "include", "override"}) {
        if (const toml::node* n = t->get(key)) {
          c.error(*n, "[catalog] " + std::string(key) + " has no effect with enabled = false; remove it or set enabled = true");
        }
      }
    }
  }

  void monitoring(const toml::table& root) {
    const toml::table* t = c.get_table(root, "monitoring", "the policy", "[monitoring]");
    if (t == nullptr) return;
    c.check_keys(*t, monitoring_keys, "[monitoring]");
    if (auto dir = c.get_string(*t, "textfile_dir", "[monitoring]", "'C:\\Program Files\\windows_exporter\\textfile_inputs'")) {
      if (auto problem = folder_path_problem(*dir)) c.error(*t->get("textfile_dir"), "textfile_dir " + squote(*dir) + " " + *problem);
      else policy.metrics_textfile_dir = *dir;
    }
  }

  void discovery(const toml::table& root) {
    const toml::table* t = c.get_table(root, "discovery", "the policy", "[discovery]");
    if (t == nullptr) return;
    c.check_keys(*t, discovery_keys, "[discovery]");
    if (auto b = c.get_bool(*t, "registry_ports", "[discovery]")) policy.discover_registry_ports = *b;
    if (auto list = c.get_string_list(*t, "exclude", "[discovery]", "[\"MSSQL$TEST\"]")) {
      std::set<std::string> seen;
      for (const auto& [name, node] : *list) {
        if (!detail::valid_service_name(name)) {
          c.error(*node, squote(name) + " in [discovery] exclude is not a Windows service key name");
        } else if (!seen.insert(lower_ascii(name)).second) {
          c.error(*node, "service " + squote(name) + " is listed twice in [discovery] exclude; remove one");
        } else {
          policy.discovery_exclude.push_back(name);
        }
      }
      if (!policy.discover_registry_ports && !list->empty()) {
        c.error(*t->get("exclude"), "[discovery] exclude has no effect with registry_ports = false; remove it or set registry_ports = true");
      }
    }
  }
};

std::string too_big(std::uintmax_t size) {
  return "the policy is " + std::to_string(size) + " bytes, more than the " + std::to_string(max_policy_bytes) +
         " bytes a policy may have; a policy lists ports and services (docs/policy.md); is this the right file?";
}

Policy load(std::string_view bytes, const std::string& source, ServicesSource& services, const Catalog& catalog) {
  std::vector<Diagnostic> diagnostics;
  if (bytes.size() > max_policy_bytes) throw PolicyError({{source, 0, 0, too_big(bytes.size())}});
  auto text = detail::decode_text(bytes, source, diagnostics);
  if (!text) throw PolicyError(std::move(diagnostics));
  if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
    throw PolicyError({{source, 0, 0, "the policy is empty; PortGuard keeps using the last known good policy. Start from the shipped policy.default.toml (docs/policy.md)"}});
  }
  auto doc = detail::parse_toml(*text, source, diagnostics);
  if (!doc) throw PolicyError(std::move(diagnostics));
  if (doc->empty()) {
    throw PolicyError({{source, 0, 0, "the policy has no settings (only comments); PortGuard keeps using the last known good policy. Uncomment the settings you want (docs/policy.md)"}});
  }

  Policy policy;
  policy.source = source;
  policy.text = *text;
  policy.catalog = catalog;
  Checker c(source, diagnostics);
  Loader l{c, policy, services, {}, false, {}};
  c.check_keys(*doc, top_keys, "the policy (top level)");
  l.guard(*doc);
  l.catalog(*doc);
  l.discovery(*doc);
  l.monitoring(*doc);
  l.reserve(*doc);
  if (diagnostics.empty() && !policy.use_catalog && policy.reservations.empty() && !policy.discover_registry_ports) {
    diagnostics.push_back({source, 0, 0, "the policy protects nothing: the catalog is disabled, there is no [[reserve]] section and registry discovery is off; "
                                         "set [catalog] enabled = true or add a [[reserve]] section"});
  }
  if (!diagnostics.empty()) {
    detail::sort_diagnostics(diagnostics);
    throw PolicyError(std::move(diagnostics));
  }
  if (l.resolved_any) {
    // Kept so the last known good re-resolves names exactly as now, whatever the file becomes.
    std::string ignored;
    if (const ServiceNameResolver* r = services.get(ignored)) {
      policy.services_file = r->source;
      policy.services_text = r->text;
    }
  }
  return policy;
}

} // namespace

Policy load_policy_text(std::string_view bytes, const std::string& source, const ServiceNameResolver& services, const Catalog& catalog) {
  ServicesSource s(&services);
  return load(bytes, source, s, catalog);
}

Policy load_policy_text(std::string_view bytes, const std::string& source, const std::filesystem::path& services_file, const Catalog& catalog) {
  ServicesSource s(services_file);
  return load(bytes, source, s, catalog);
}

Policy load_policy(const std::filesystem::path& file, const std::filesystem::path& services_file) {
  // Refused before reading: a 100 MB file is never pulled into memory.
  std::error_code size_ec;
  const std::uintmax_t size = std::filesystem::file_size(file, size_ec);
  if (!size_ec && size > max_policy_bytes) throw PolicyError({{file.string(), 0, 0, too_big(size)}});
  const std::string bytes = detail::read_file(file, "policy");
  // A catalog.toml beside the policy replaces the built-in one as a whole.
  const std::filesystem::path local_catalog = file.parent_path().empty() ? std::filesystem::path("catalog.toml") : file.parent_path() / "catalog.toml";
  std::error_code ec;
  if (std::filesystem::is_regular_file(local_catalog, ec)) {
    const Catalog catalog = load_catalog(local_catalog);
    return load_policy_text(bytes, file.string(), services_file, catalog);
  }
  return load_policy_text(bytes, file.string(), services_file, builtin_catalog());
}

} // namespace portguard::config
