#include "toml_support.hpp"

#include <regex>

namespace portguard::config {

using detail::Checker;
using detail::squote;

bool glob_match(std::string_view pattern, std::string_view name) noexcept {
  // Iterative wildcard match with backtracking to the last '*'.
  std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  auto eq = [](char a, char b) { return lower_ascii(a) == lower_ascii(b); };
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && eq(pattern[p], name[n])) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const CatalogEntry* Catalog::find(std::string_view service) const noexcept {
  for (const CatalogEntry& e : entries) {
    if (iequals_ascii(e.service, service)) return &e;
  }
  return nullptr;
}

namespace {

bool valid_reference(std::string_view ref) {
  static const std::regex kb(R"(^KB ?[0-9]{5,7}$)");
  return std::regex_match(ref.begin(), ref.end(), kb) || ref.starts_with("https://");
}

bool valid_service_name(std::string_view name) {
  // Service key names: no '/' or '\' (SCM rule), printable, at most 256 characters.
  if (name.empty() || name.size() > 256) return false;
  return std::none_of(name.begin(), name.end(), [](char c) { return c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20; });
}

std::vector<PortRange> parse_ports(Checker& c, const toml::table& t, std::string_view key, std::string_view where, bool& present) {
  std::vector<PortRange> out;
  const toml::node* n = t.get(key);
  present = n != nullptr;
  if (n == nullptr) return out;
  auto one = [&](const toml::node& e) {
    auto item = detail::parse_port_item(c, e, key, false);
    if (item.ok && item.range) out.push_back(*item.range);
  };
  if (const auto* a = n->as_array()) {
    for (const toml::node& e : *a) one(e);
  } else if (n->is_integer() || n->is_string()) {
    one(*n);
  } else {
    c.error(*n, squote(key) + " in " + std::string(where) + " must be a list of ports, not " + detail::type_name(*n) + "; write " + std::string(key) + " = [1812, \"1645-1646\"]");
  }
  return out;
}

} // namespace

Catalog load_catalog_text(std::string_view bytes, const std::string& source) {
  std::vector<Diagnostic> diagnostics;
  Catalog catalog;
  catalog.source = source;
  auto text = detail::decode_text(bytes, source, diagnostics);
  if (!text) throw PolicyError(std::move(diagnostics));
  catalog.text = *text;
  auto doc = detail::parse_toml(*text, source, diagnostics);
  if (!doc) throw PolicyError(std::move(diagnostics));

  Checker c(source, diagnostics);
  c.check_keys(*doc, {"service"}, "the catalog");
  const toml::node* services = doc->get("service");
  const toml::array* list = services ? services->as_array() : nullptr;
  if (services == nullptr || list == nullptr || list->empty() || !list->is_array_of_tables()) {
    diagnostics.push_back({source, services ? services->source().begin.line : 0u, services ? services->source().begin.column : 0u,
                           "the catalog lists no services; write one [[service]] section per Windows service (see docs/policy.md)"});
    throw PolicyError(std::move(diagnostics));
  }
  int index = 0;
  for (const toml::node& node : *list) {
    ++index;
    const toml::table& t = *node.as_table();
    const std::string where = "[[service]] #" + std::to_string(index);
    c.check_keys(t, {"name", "display", "reason", "reference", "udp", "tcp", "configured"}, where);
    CatalogEntry e;
    e.source = c.line_ref(t.source());
    auto name = c.get_string(t, "name", where, "\"IAS\"");
    if (!name) {
      if (t.get("name") == nullptr) c.error(t.source(), where + " has no 'name'; write name = \"<service key name>\"");
    } else if (!valid_service_name(*name)) {
      c.error(*t.get("name"), squote(*name) + " is not a Windows service key name; write the name as in HKLM\\SYSTEM\\CurrentControlSet\\Services");
    } else if (catalog.find(*name) != nullptr) {
      c.error(*t.get("name"), "service " + squote(*name) + " is listed twice (first at " + catalog.find(*name)->source + "); merge the two entries");
    } else {
      e.service = *name;
    }
    const std::string what = e.service.empty() ? where : "catalog entry " + squote(e.service);
    e.display = c.get_string(t, "display", what, "\"Network Policy Server\"").value_or("");
    if (auto r = c.get_string(t, "reason", what, "\"RADIUS authentication\"")) {
      e.reason = *r;
      if (e.reason.empty()) c.error(*t.get("reason"), what + " has an empty 'reason'; say why the ports matter");
    } else if (t.get("reason") == nullptr) {
      c.error(t.source(), what + " has no 'reason'; write reason = \"<why the ports matter>\"");
    }
    if (auto r = c.get_string(t, "reference", what, "\"KB 832017\"")) {
      e.reference = *r;
      if (!valid_reference(e.reference)) c.error(*t.get("reference"), "reference " + squote(e.reference) + " of " + what + " is neither \"KB nnnnnn\" nor an https:// URL");
    } else if (t.get("reference") == nullptr) {
      c.error(t.source(), what + " has no 'reference'; write reference = \"KB nnnnnn\" or the URL documenting the ports");
    }
    bool has_udp = false, has_tcp = false;
    e.udp = parse_ports(c, t, "udp", what, has_udp);
    e.tcp = parse_ports(c, t, "tcp", what, has_tcp);
    if (!has_udp && !has_tcp) c.error(t.source(), what + " lists no ports; write udp = [...] and/or tcp = [...]");

    if (const toml::node* conf = t.get("configured")) {
      const toml::array* ca = conf->as_array();
      if (ca == nullptr || !ca->is_array_of_tables()) {
        c.error(*conf, "'configured' of " + what + " must be [[service.configured]] sections");
      } else {
        for (const toml::node& cn : *ca) {
          const toml::table& ct = *cn.as_table();
          const std::string cwhere = "[[service.configured]] of " + what;
          c.check_keys(ct, {"service", "key", "value", "end_value", "protocol"}, cwhere);
          CatalogConfiguredPort q;
          q.service = c.get_string(ct, "service", cwhere, "\"MSSQL*\"").value_or(e.service);
          auto key = c.get_string(ct, "key", cwhere, "'HKLM\\SYSTEM\\...'");
          if (!key || !key->starts_with("HKLM\\")) {
            c.error(ct.source(), cwhere + " needs key = 'HKLM\\...' (a full registry key under HKLM)");
          } else if (std::count(key->begin(), key->end(), '*') > 1) {
            c.error(*ct.get("key"), "key of " + cwhere + " may contain at most one '*'");
          } else {
            q.key = *key;
          }
          auto value = c.get_string(ct, "value", cwhere, "\"TcpPort\"");
          if (!value || value->empty()) c.error(ct.source(), cwhere + " needs value = \"<registry value name>\"");
          else q.value = *value;
          q.end_value = c.get_string(ct, "end_value", cwhere, "\"UdpEndPort\"").value_or("");
          auto proto = c.get_string(ct, "protocol", cwhere, "\"tcp\"");
          const auto p = proto ? parse_protocol(*proto) : std::nullopt;
          if (!p) c.error(ct.get("protocol") ? ct.get("protocol")->source() : ct.source(), cwhere + " needs protocol = \"udp\" or \"tcp\"");
          else q.protocol = *p;
          e.configured.push_back(std::move(q));
        }
      }
    }
    if (!e.service.empty()) catalog.entries.push_back(std::move(e));
  }
  if (!diagnostics.empty()) {
    detail::sort_diagnostics(diagnostics);
    throw PolicyError(std::move(diagnostics));
  }
  return catalog;
}

Catalog load_catalog(const std::filesystem::path& file) {
  return load_catalog_text(detail::read_file(file, "catalog"), file.string());
}

const Catalog& builtin_catalog() {
  static const Catalog catalog = load_catalog_text(detail::builtin_catalog_text, std::string(builtin_catalog_source));
  return catalog;
}

} // namespace portguard::config
