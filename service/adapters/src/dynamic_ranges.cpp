// The dynamic (ephemeral) port ranges per protocol for this Windows version: MaxUserPort (2003),
// WMI (Windows 8 / 2012+), the administrator's override or the documented default.
#include "portguard/adapters/system_probe.hpp"
#include "system_probe_internal.hpp"

#include "portguard/core/port_list_codec.hpp"

namespace portguard::win32 {

std::vector<DynamicPortRange> dynamic_port_ranges(const WindowsVersion& version, RegistryStore& registry) {
  std::vector<DynamicPortRange> out;
  auto add = [&](PortRange range, bool assumed, const std::string& source) {
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      for (IpVersion ip : {IpVersion::v4, IpVersion::v6}) out.push_back({p, ip, range, assumed, source});
    }
  };
  if (version.major < 6) {
    // Windows 2000/XP/2003: 1025..MaxUserPort (default 5000), the same for TCP and UDP.
    std::optional<std::uint32_t> max;
    try {
      max = registry.read_dword(registry_paths::tcpip_parameters, "MaxUserPort");
    } catch (const std::exception&) {
    }
    if (max && *max >= 5000 && *max <= 65534) {
      add(PortRange::make(1025, *max), false, "MaxUserPort");
    } else {
      add(PortRange::make(1025, 5000), true, "default for Windows " + std::to_string(version.major) + "." + std::to_string(version.minor) +
                                                 " (MaxUserPort not set)");
    }
    return out;
  }
  // Vista/2008 and later, per protocol: WMI (Windows 8 / 2012 and later), else the administrator's
  // override, else the documented default marked assumed (docs/architecture.md).
  const std::string version_text = std::to_string(version.major) + "." + std::to_string(version.minor);
  for (Protocol p : {Protocol::udp, Protocol::tcp}) {
    PortRange range = PortRange::make(49152, 65535);
    bool assumed = true;
    std::string source = "documented default for Windows " + version_text + " (not read from the host)";
    const bool win8 = version.major > 6 || (version.major == 6 && version.minor >= 2);
    if (const auto wmi = win8 ? cached_wmi_dynamic_range(p) : std::nullopt) {
      range = *wmi;
      assumed = false;
      source = p == Protocol::udp ? "MSFT_NetUDPSetting" : "MSFT_NetTCPSetting";
    } else {
      const std::string name = p == Protocol::udp ? "DynamicPortRangeUdp" : "DynamicPortRangeTcp";
      try {
        if (const auto text = registry.read_string(dynamic_range_override_key, name)) {
          const PortList parsed = parse_port_list({*text});
          if (parsed.ports.ranges().size() == 1 && parsed.unrecognised.empty()) {
            range = parsed.ports.ranges().front();
            assumed = false;
            source = "administrator override " + std::string(dynamic_range_override_key) + "\\" + name;
          }
        }
      } catch (const std::exception&) {
        // A mistyped override is ignored: the default stays, marked assumed.
      }
    }
    for (IpVersion ip : {IpVersion::v4, IpVersion::v6}) out.push_back({p, ip, range, assumed, source});
  }
  return out;
}

} // namespace portguard::win32
