// libFuzzer target: the policy loader, end to end. Bytes -> load (any encoding) -> requirements on
// a host -> plan -> render. Any input either throws PolicyError (with at least one diagnostic
// that names the file) or yields a policy whose requirements the planner accepts; the same text
// always loads the same way. Anything else (another exception, a crash, a sanitizer report) is a bug.
#include "portguard/config/policy.hpp"
#include "portguard/core/plan.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace portguard;

const config::ServiceNameResolver& services() {
  static const config::ServiceNameResolver r = config::ServiceNameResolver::parse(
      "domain 53/tcp\ndomain 53/udp\nntp 123/udp\nsnmp 161/udp\nradius 1812/udp\nradacct 1813/udp\n"
      "http 80/tcp www www-http\nkerberos 88/tcp krb5\nkerberos 88/udp krb5\nms-sql-s 1433/tcp\n",
      "services");
  return r;
}

HostSnapshot host() {
  HostSnapshot h;
  h.hostname = "fuzz";
  h.version = {10, 0, 14393, true};
  for (const char* name : {"IAS", "DNS", "TermService", "MSSQL$NPSLOG", "W32Time", "WDSServer"}) {
    ServiceInfo s;
    s.name = name;
    s.start_type = StartType::automatic;
    s.state = ServiceState::running;
    h.services.push_back(s);
  }
  h.persistent_reservations = std::vector<PersistentReservation>{};
  h.dynamic_ranges.push_back({Protocol::udp, IpVersion::v4, PortRange::make(1025, 60000), false, "fuzz"});
  h.dynamic_ranges.push_back({Protocol::tcp, IpVersion::v4, PortRange::make(49152, 65535), false, "fuzz"});
  h.configured_ports.push_back({"TermService", Protocol::tcp, PortRange::single(3390), "HKLM\\...\\RDP-Tcp\\PortNumber"});
  h.configured_ports.push_back({"MSSQL$NPSLOG", Protocol::tcp, PortRange::make(1433, 1433), "HKLM\\...\\IPAll\\TcpPort"});
  return h;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const HostSnapshot snapshot = host();
  config::Policy policy;
  try {
    policy = config::load_policy_text(bytes, "fuzz.toml", services());
  } catch (const config::PolicyError& e) {
    if (e.diagnostics().empty() || e.diagnostics().front().file != "fuzz.toml") std::abort();
    return 0;  // refused with an explanation: fine
  }
  // Deterministic: the same text loads to the same policy.
  const config::Policy again = config::load_policy_text(bytes, "fuzz.toml", services());
  if (!(again.reservations == policy.reservations) || again.text != policy.text) std::abort();

  const Requirements requirements = config::requirements_for(policy, snapshot);
  for (const Requirement& r : requirements) {
    if (r.provenance.source.empty()) std::abort();  // every requirement is explainable
  }
  (void)config::configured_port_queries(policy);
  const ReservationPlan p = plan(snapshot, requirements, policy.plan);
  (void)render_text(p);
  (void)render_json(p);
  return 0;
}
