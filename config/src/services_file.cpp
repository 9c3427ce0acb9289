#include "internal.hpp"

#include <cstdlib>
#include <sstream>

namespace portguard::config {

ServiceNameResolver ServiceNameResolver::parse(std::string_view text, std::string source) {
  ServiceNameResolver r;
  r.source = std::move(source);
  r.text.assign(text);
  std::istringstream in{std::string(text)};
  std::string line;
  std::uint32_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream fields(line);
    std::string name, port_proto;
    if (!(fields >> name >> port_proto)) continue;
    const auto slash = port_proto.find('/');
    if (slash == std::string::npos || slash == 0) continue;
    const std::string digits = port_proto.substr(0, slash);
    if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long port = std::strtol(digits.c_str(), nullptr, 10);
    const auto protocol = parse_protocol(lower_ascii(port_proto.substr(slash + 1)));
    if (port < 1 || port > 65535 || !protocol) continue;
    ServicePort entry;
    entry.name = name;
    entry.port = static_cast<Port>(port);
    entry.protocol = *protocol;
    entry.line = number;
    for (std::string alias; fields >> alias;) entry.aliases.push_back(alias);
    r.entries.push_back(std::move(entry));
  }
  return r;
}

ServiceNameResolver ServiceNameResolver::read(const std::filesystem::path& file) {
  const std::string bytes = detail::read_file(file, "services file");
  std::vector<Diagnostic> diagnostics;
  auto text = detail::decode_text(bytes, file.string(), diagnostics);
  if (!text) throw PolicyError(std::move(diagnostics));
  return parse(*text, file.string());
}

std::vector<ServicePort> ServiceNameResolver::lookup(std::string_view name) const {
  std::vector<ServicePort> out;
  for (const ServicePort& e : entries) {
    bool match = iequals_ascii(e.name, name);
    for (const std::string& a : e.aliases) match = match || iequals_ascii(a, name);
    if (match) out.push_back(e);
  }
  return out;
}

std::optional<std::string> ServiceNameResolver::suggest(std::string_view name) const {
  std::vector<std::string> names;
  names.reserve(entries.size());
  for (const ServicePort& e : entries) names.push_back(e.name);
  return closest_match(name, names);
}

std::filesystem::path default_services_file() {
#ifdef _WIN32
  const char* root = std::getenv("SystemRoot");
  const std::string base = (root != nullptr && *root != '\0') ? root : "C:\\Windows";
  return std::filesystem::path(base + "\\System32\\drivers\\etc\\services");
#else
  return "/etc/services";
#endif
}

} // namespace portguard::config
