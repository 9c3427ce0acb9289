// Core scaling benchmark (issue 9, performance 5): the cost of one plan() as the number of entries
// grows. For N entries the host's ReservedPorts holds N single-port entries spread evenly over the
// port space, and the policy demands N requirements, half of them already reserved, half new (so
// every plan has real work: merge, diff, provenance, rails). The Windows version is 2003, so
// ReservedPorts is the managed target.
//
//   scaling_bench N [RUNS]   wall time of RUNS plans (median/min/max), default 11 runs
//
// bench/core_scaling.sh runs it under callgrind with collection limited to pg_bench_run_plan(), so
// the instruction counts cover exactly one plan() call and are stable on a noisy machine.
// A benchmark, not a test: it never fails.
#include "portguard/core/plan.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// Not static, not inline, not in an anonymous namespace: callgrind's --toggle-collect finds it by name.
__attribute__((noinline)) std::size_t pg_bench_run_plan(const portguard::HostSnapshot& host, const portguard::Requirements& reqs,
                                                        const portguard::PlanSettings& settings) {
  const auto p = portguard::plan(host, reqs, settings);
  return p.findings.size() + (p.has_changes() ? 1 : 0);
}

namespace {

// Port i of n, spread evenly over 1..65535; distinct for distinct i when n <= 65535.
long spread(long i, long n) { return 1 + (i * 65535) / n; }

portguard::HostSnapshot make_host(long n) {
  using namespace portguard;
  HostSnapshot host;
  host.hostname = "scaling";
  host.version = WindowsVersion{5, 2, 3790, true};
  host.reserved_ports.present = true;
  // n single-port entries ("p-p"), spread: for large n neighbours are adjacent and the canonical
  // form merges them, so the planner does its full parse/merge/format work.
  host.reserved_ports.strings.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    const long p = spread(i, n);
    host.reserved_ports.strings.push_back(std::to_string(p) + "-" + std::to_string(p));
  }
  host.dynamic_ranges = {DynamicPortRange{Protocol::udp, IpVersion::v4, PortRange::make(1025, 5000), false, "MaxUserPort"},
                         DynamicPortRange{Protocol::tcp, IpVersion::v4, PortRange::make(1025, 5000), false, "MaxUserPort"}};
  for (std::uint32_t i = 0; i < 40; ++i)
    host.services.push_back(ServiceInfo{"Svc" + std::to_string(i), "Service " + std::to_string(i), StartType::automatic,
                                        ServiceState::running, 1000 + i, {}, {}, {}});
  return host;
}

portguard::Requirements make_requirements(long n) {
  using namespace portguard;
  Requirements reqs;
  reqs.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    // Even i: a port the value already holds. Odd i: the same spread shifted by one half step,
    // which is new unless n is so large that every port is already taken.
    const long base = spread(i, n);
    const long p = (i % 2 == 0) ? base : std::min(65535L, base + std::max(1L, 65535 / n / 2));
    reqs.push_back(Requirement{i % 3 == 0 ? Protocol::tcp : Protocol::udp, PortRange::single(static_cast<Port>(p)),
                               "Svc" + std::to_string(i % 40),
                               {Provenance::Kind::policy, "policy.toml:" + std::to_string(10 + i), "scaling requirement"}});
  }
  return reqs;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: scaling_bench N [RUNS]\n");
    return 2;
  }
  const long n = std::clamp(std::atol(argv[1]), 1L, 65535L);
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 11;
  const auto host = make_host(n);
  const auto reqs = make_requirements(n);
  portguard::PlanSettings settings;
  settings.allow.large_reservations = true;   // exercise the whole planner, not an early rail refusal

  std::vector<double> ms;
  std::size_t sink = 0;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    sink += pg_bench_run_plan(host, reqs, settings);
    const auto stop = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("scaling_bench n=%ld runs=%d plan ms: median %.3f min %.3f max %.3f (sink %zu)\n", n, runs, ms[ms.size() / 2],
              ms.front(), ms.back(), sink);
  return 0;
}
