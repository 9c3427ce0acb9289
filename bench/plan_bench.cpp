// Planner benchmark (issue 3): a ReservedPorts value of 65,535 single-port entries ("1-1" ...
// "65535-65535") planned against a policy of 10,000 requirements on a Windows Server 2003 host.
// Prints the median, min and max wall time of repeated plans, and the process's peak RSS.
// Target on the build machine: < 20 ms and < 16 MB. A benchmark, not a test: it never fails.
//
//   plan_bench [RUNS]      (default 21)
#include "portguard/core/plan.hpp"
#include "portguard/core/port_list_codec.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#endif

namespace {

long peak_rss_kib() {
#if defined(__linux__)
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) return usage.ru_maxrss;  // KiB on Linux
#endif
  return -1;
}

portguard::HostSnapshot make_host() {
  using namespace portguard;
  HostSnapshot host;
  host.hostname = "bench";
  host.version = WindowsVersion{5, 2, 3790, true};
  host.reserved_ports.present = true;
  host.reserved_ports.strings.reserve(65535);
  for (long p = 1; p <= 65535; ++p) host.reserved_ports.strings.push_back(std::to_string(p) + "-" + std::to_string(p));
  host.dynamic_ranges = {DynamicPortRange{Protocol::udp, IpVersion::v4, PortRange::make(1025, 5000), false, "MaxUserPort"},
                         DynamicPortRange{Protocol::tcp, IpVersion::v4, PortRange::make(1025, 5000), false, "MaxUserPort"}};
  for (std::uint32_t i = 0; i < 40; ++i)
    host.services.push_back(ServiceInfo{"Svc" + std::to_string(i), "Service " + std::to_string(i), StartType::automatic,
                                        ServiceState::running, 1000 + i, {}, {}, {}});
  for (std::uint16_t p = 1000; p < 1200; ++p)
    host.ports_in_use.push_back(PortInUse{Protocol::udp, p, 1000u + p % 40u, "svc.exe", {}});
  return host;
}

portguard::Requirements make_requirements() {
  using namespace portguard;
  Requirements reqs;
  reqs.reserve(10'000);
  for (long i = 0; i < 10'000; ++i) {
    // Spread over the whole port space, mostly single ports, some short ranges, both protocols.
    const long first = 1 + (i * 6553) % 65500;
    const long last = first + (i % 7 == 0 ? 3 : 0);
    reqs.push_back(Requirement{i % 3 == 0 ? Protocol::tcp : Protocol::udp, PortRange::make(first, last),
                               "Svc" + std::to_string(i % 40),
                               {Provenance::Kind::policy, "policy.toml:" + std::to_string(10 + i), "bench requirement"}});
  }
  return reqs;
}

} // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 21;
  const auto host = make_host();
  const auto reqs = make_requirements();
  const long rss_inputs = peak_rss_kib();

  std::vector<double> ms;
  std::size_t findings = 0;
  bool changes = false;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto p = portguard::plan(host, reqs, {});
    const auto stop = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
    findings = p.findings.size();
    changes = p.has_changes();
  }
  std::sort(ms.begin(), ms.end());
  const long rss_peak = peak_rss_kib();

  std::printf("plan_bench: ReservedPorts with %zu single-port entries, %zu requirements, %d runs\n",
              host.reserved_ports.strings.size(), reqs.size(), runs);
  std::printf("  plan time: median %.2f ms, min %.2f ms, max %.2f ms (target < 20 ms)\n", ms[ms.size() / 2], ms.front(), ms.back());
  if (rss_peak >= 0) {
    std::printf("  peak RSS: %.1f MiB for the whole process (inputs alone: %.1f MiB) (target < 16 MB)\n", rss_peak / 1024.0,
                rss_inputs / 1024.0);
  } else {
    std::printf("  peak RSS: not measured on this platform\n");
  }
  std::printf("  plan result: %s, %zu findings\n", changes ? "changes" : "no changes", findings);
  return 0;
}
