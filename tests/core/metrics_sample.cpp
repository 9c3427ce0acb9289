// pg-metrics-sample: prints render_prometheus() of a state that exercises every metric family
// (targets of every kind, counters, escaping), for `promtool check metrics` (test core.metrics_promtool).
// With "empty": the state before any pass (no policy, nothing measured).
#include "portguard/core/metrics.hpp"

#include <cstdio>
#include <cstring>

using namespace portguard;

int main(int argc, char** argv) {
  MetricsState s;
  s.version = "1.0.0-test \"quoted\"";
  if (argc < 2 || std::strcmp(argv[1], "empty") != 0) {
    s.policy_hash = policy_fingerprint("[guard]\n");
    s.policy_valid = true;
    s.last_pass_ok = true;
    s.last_pass_unix = 1796000000;
    s.last_pass_seconds = 0.25;
    s.pending_dns_restart = true;
    s.last_pass.compliance = {{Target::reserved_ports, std::nullopt, true},
                              {Target::dns_socket_pool, std::nullopt, false},
                              {Target::persistent_reservation, Protocol::udp, true},
                              {Target::persistent_reservation, Protocol::tcp, false}};
    s.last_pass.ports = {{Target::reserved_ports, Protocol::udp, 4, 4},     {Target::reserved_ports, Protocol::tcp, 1, 1},
                         {Target::dns_socket_pool, Protocol::udp, 4, 2},    {Target::persistent_reservation, Protocol::udp, 4, 4},
                         {Target::persistent_reservation, Protocol::tcp, 1, 0}};
    s.last_pass.conflicts = 1;
    s.last_pass.ports_at_risk = 2;
    s.counters.repairs = {{"reserved-ports", 2}, {"persistent-reservation/udp", 1}};
    s.counters.drifts = {{"dns-socket-pool", 5}};
    s.counters.rail_blocks = {{"rail-max-ports", 1}};
    s.counters.passes = 42;
    s.counters.failed_passes = 3;
  }
  const std::string text = render_prometheus(s);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
