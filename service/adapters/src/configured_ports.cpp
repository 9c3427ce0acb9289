// The ports services are configured to use in the registry (SQL Server instances, RDP, WDS, ...).
#include "portguard/adapters/system_probe.hpp"

#include "portguard/core/text.hpp"

#include <algorithm>
#include <cctype>

namespace portguard::win32 {
namespace {

/// Case-insensitive glob with '*' only (service and subkey names).
bool glob(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern.front() == '*') {
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (glob(pattern.substr(1), text.substr(i))) return true;
    }
    return false;
  }
  return !text.empty() && lower_ascii(pattern.front()) == lower_ascii(text.front()) &&
         glob(pattern.substr(1), text.substr(1));
}

/// "1433", "1433,1434", " 1433 " -> ranges; empty or "0" (dynamic) -> none; garbage -> none.
std::vector<PortRange> parse_configured(const std::string& text) {
  std::vector<PortRange> out;
  std::size_t i = 0;
  while (i <= text.size()) {
    const std::size_t comma = text.find(',', i);
    std::string part = text.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    part.erase(std::remove_if(part.begin(), part.end(), [](unsigned char c) { return std::isspace(c); }), part.end());
    if (!part.empty() && std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c); }) && part.size() <= 5) {
      const long port = std::stol(part);
      if (port >= 1 && port <= 65535) out.push_back(PortRange::single(static_cast<Port>(port)));
    }
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  return out;
}

std::optional<std::string> read_port_text(RegistryStore& registry, const std::string& key, const std::string& value) {
  // The value may be REG_SZ (SQL Server) or REG_DWORD (RDP PortNumber, WDS): try the string form
  // first and fall back to the number; a value of another type is ignored.
  try {
    if (auto s = registry.read_string(key, value)) return s;
    return std::nullopt;
  } catch (const std::exception&) {
  }
  try {
    if (auto d = registry.read_dword(key, value)) return std::to_string(*d);
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

/// Expands one '*' component of a key against the registry; returns (key, matched text).
std::vector<std::pair<std::string, std::string>> expand_key(RegistryStore& registry, const std::string& key) {
  const auto star = key.find('*');
  if (star == std::string::npos) return {{key, ""}};
  const auto start = key.rfind('\\', star);
  const auto end = key.find('\\', star);
  const std::string parent = key.substr(0, start);
  const std::string pattern = key.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
  const std::string rest = end == std::string::npos ? "" : key.substr(end);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& sub : registry.subkeys(parent)) {
    if (glob(pattern, sub)) out.push_back({parent + "\\" + sub + rest, sub});
  }
  return out;
}

std::string resolve_service(const std::string& pattern, const std::string& matched, const std::vector<ServiceInfo>& services) {
  if (pattern.find('*') == std::string::npos) return pattern;
  // SQL Server: subkey "MSSQL15.SQLEXPRESS" belongs to service "MSSQL$SQLEXPRESS" (or MSSQLSERVER
  // for the default instance): the instance is the text after the last '.'.
  const auto dot = matched.rfind('.');
  const std::string instance = lower_ascii(dot == std::string::npos ? matched : matched.substr(dot + 1));
  for (const auto& s : services) {
    const std::string name = lower_ascii(s.name);
    if (glob(pattern, s.name) && !instance.empty() && name.size() >= instance.size() &&
        name.compare(name.size() - instance.size(), instance.size(), instance) == 0)
      return s.name;
  }
  std::string out = pattern;
  out.replace(out.find('*'), 1, matched);
  return out;
}

} // namespace

std::vector<ConfiguredPort> configured_ports(const std::vector<ConfiguredPortQuery>& queries, RegistryStore& registry,
                                             const std::vector<ServiceInfo>& services) {
  std::vector<ConfiguredPort> out;
  for (const auto& q : queries) {
    std::vector<std::pair<std::string, std::string>> keys;
    try {
      keys = expand_key(registry, q.key);
    } catch (const std::exception&) {
      continue;   // an unreadable key is the same as no configuration here
    }
    for (const auto& [key, matched] : keys) {
      const auto text = read_port_text(registry, key, q.value);
      if (!text) continue;
      std::vector<PortRange> ranges = parse_configured(*text);
      if (!q.end_value.empty() && ranges.size() == 1) {
        const auto end_text = read_port_text(registry, key, q.end_value);
        const auto end = end_text ? parse_configured(*end_text) : std::vector<PortRange>{};
        if (end.size() != 1 || end[0].first() < ranges[0].first()) continue;
        ranges = {PortRange::make(ranges[0].first(), end[0].first())};
      }
      for (const auto& r : ranges) {
        out.push_back({resolve_service(q.service, matched, services), q.protocol, r, key + "\\" + q.value});
      }
    }
  }
  return out;
}

} // namespace portguard::win32
