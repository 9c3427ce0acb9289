// libFuzzer target: the host snapshot JSON reader. Any input either throws SnapshotError or yields
// a snapshot that writes back and reads back equal, and that the planner can plan and render.
#include "portguard/core/error.hpp"
#include "portguard/core/plan.hpp"
#include "portguard/core/snapshot_json.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace portguard;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  HostSnapshot snapshot;
  try {
    snapshot = snapshot_from_json(text, "fuzz.json");
  } catch (const SnapshotError&) {
    return 0;  // refused with an explanation: fine
  }
  if (!(snapshot_from_json(to_json(snapshot), "rewritten.json") == snapshot)) std::abort();

  const Requirements reqs{
      Requirement{Protocol::udp, PortRange::make(1645, 1646), "IAS", {Provenance::Kind::catalog, "catalog:IAS", "RADIUS"}},
      Requirement{Protocol::udp, PortRange::make(53, 53), "DNS", {Provenance::Kind::catalog, "catalog:DNS", "DNS"}},
      Requirement{Protocol::tcp, PortRange::make(1433, 1434), "", {Provenance::Kind::policy, "fuzz:1", "SQL"}}};
  for (Mode mode : {Mode::merge, Mode::exact}) {
    PlanSettings settings;
    settings.mode = mode;
    const auto p = plan(snapshot, reqs, settings);
    (void)render_text(p);
    (void)render_json(p);
  }
  return 0;
}
