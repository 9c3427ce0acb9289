// libFuzzer target: the registry port-list codec and the planner on top of it.
// Input: the strings of a REG_MULTI_SZ value, separated by '\n' (any other byte, NUL included,
// stays inside a string). Checks the codec's contract, not only the absence of crashes.
#include "portguard/core/plan.hpp"
#include "portguard/core/port_list_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> strings;
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      strings.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  strings.push_back(std::move(current));

  using namespace portguard;
  const PortList list = parse_port_list(strings);
  require(list.entries.size() == strings.size());
  std::size_t understood = 0;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    require(list.entries[i].raw == strings[i]);  // verbatim
    if (list.entries[i].range) {
      ++understood;
      require(list.ports.contains(*list.entries[i].range));
    }
  }
  require(understood + list.unrecognised.size() + list.blank_entries == strings.size());

  // Canonical form round-trips exactly, and is a fixed point.
  const auto formatted = format_port_list(list.ports, list.unrecognised);
  const PortList again = parse_port_list(formatted);
  require(again.ports == list.ports);
  require(again.unrecognised == list.unrecognised);
  require(format_port_list(again.ports, again.unrecognised) == formatted);

  // The planner on a Windows 2003 host whose ReservedPorts holds this value, in both modes.
  HostSnapshot host;
  host.version = WindowsVersion{5, 2, 3790, true};
  host.reserved_ports = MultiStringValue{true, strings, {}};
  host.dynamic_ranges = {DynamicPortRange{Protocol::udp, IpVersion::v4, PortRange::make(1025, 5000), false, {}}};
  const Requirements reqs{
      Requirement{Protocol::udp, PortRange::make(1645, 1646), "IAS", {Provenance::Kind::catalog, "catalog:IAS", "RADIUS"}},
      Requirement{Protocol::tcp, PortRange::make(1, 65535), "", {Provenance::Kind::policy, "fuzz:1", "everything"}}};
  for (Mode mode : {Mode::merge, Mode::exact}) {
    PlanSettings settings;
    settings.mode = mode;
    const auto p = plan(host, reqs, settings);
    require(p.targets.size() == 1);
    const auto& t = p.targets[0];
    require(t.unrecognised == list.unrecognised);
    require(parse_port_list(t.desired).unrecognised == list.unrecognised);
    if (mode == Mode::merge) require(t.removed.empty());
    (void)render_text(p);  // render_json is fuzzed by fuzz_snapshot_json; here it would halve the exec rate
  }
  return 0;
}
