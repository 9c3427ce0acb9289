#include "portguard/core/exclusions.hpp"

#include "portguard/core/assess.hpp"

#include <charconv>

namespace portguard {
namespace {

std::optional<unsigned> hex4(std::string_view text) noexcept {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc() || end != text.data() + text.size() || text.size() != 4) return std::nullopt;
  return value;
}

} // namespace

std::optional<PortRange> parse_nsi_exclusion_name(std::string_view name) noexcept {
  if (name.size() != 8) return std::nullopt;
  for (char c : name)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return std::nullopt;
  const auto start = hex4(name.substr(0, 4));
  const auto count_swapped = hex4(name.substr(4, 4));
  if (!start || !count_swapped) return std::nullopt;
  const unsigned count = ((*count_swapped & 0xffu) << 8) | (*count_swapped >> 8);
  if (*start == 0 || count == 0 || *start + count - 1 > 65535) return std::nullopt;
  return PortRange::make(static_cast<long>(*start), static_cast<long>(*start + count - 1));
}

std::vector<ExcludedRange> read_administered_exclusions(RegistryStore& registry) {
  std::vector<ExcludedRange> out;
  for (const auto& [protocol, key] : {std::pair{Protocol::tcp, registry_paths::nsi_tcp_exclusions},
                                      std::pair{Protocol::udp, registry_paths::nsi_udp_exclusions}}) {
    for (const auto& name : registry.value_names(key).value_or(std::vector<std::string>{})) {
      const auto range = parse_nsi_exclusion_name(name);
      if (!range) continue;
      for (IpVersion ip : {IpVersion::v4, IpVersion::v6})
        add_exclusion(out, {protocol, ip, *range, ExclusionHolder::administrator, "Nsi registry (store=persistent)"});
    }
  }
  return out;
}

} // namespace portguard
