// dns-sim.exe: the Windows DNS Server's socket pool (MS08-037), as the scenarios need it.
//
// At start it binds N random UDP ports from the host's dynamic port range and holds them until
// stopped, like dns.exe does with SocketPoolSize (default 2500). The random allocator of the
// Windows stack skips reserved ports; Wine's stack (Linux underneath) knows nothing about
// Windows reservations, so this program MODELS that behaviour explicitly: it reads the
// mechanisms the reported Windows version honours and never picks a port they exclude.
//   Windows <= 5.2 (2003): Tcpip\Parameters\ReservedPorts, as it was at the last boot (see
//                          e2e-svc boot: the scenario's "reboot" snapshots it, because the real
//                          tcpip.sys reads it only at boot).
//   Windows >= 6.1 (2008 R2+): DNS\Parameters\SocketPoolExcludedPortRanges (read at DNS start,
//                          which is when the real DNS applies it).
//   Persistent reservations (Vista+): Wine does not export the API, so none can exist there;
//                          on real Windows use --os-allocates, which lets the stack choose.
//
// Configuration (service key DNS\Parameters; a command-line/service-start argument wins):
//   SocketPoolSize      DWORD  --count N         ports to bind (default 2500)
//   SimSeed             DWORD  --seed N          RNG seed (default 1): same seed, same ports
//   SimForceFirstPort   DWORD  --force-first P   the RNG's first draw is P (reproduces the outage
//                                                deterministically; still skipped if reserved)
//   SimDynamicPortStart/SimDynamicPortEnd DWORD  --range A-B   the dynamic range of a host whose
//                                                range was changed (e.g. 1025-60000 by Exchange 2007)
//                               default: 1025..MaxUserPort (default 5000) on <= 5.2,
//                                        49152..65535 on 6.0+
//   --os-allocates      bind port 0 N times: the real stack picks (and honours every reservation)
//   --console           run in a console instead of under the SCM (Enter or EOF stops)
//
// Output: C:\e2e\dns-sim.log (one summary per start) and C:\e2e\dns-sim.ports (the bound ports,
// one per line, rewritten at each start).
#include "sim_common.hpp"

#include <algorithm>
#include <random>
#include <set>

namespace {

using e2e::PortRange;

struct Exclusions {
  std::vector<PortRange> ranges;
  std::string source;  // which mechanism(s), for the log
  bool excludes(unsigned p) const {
    return std::any_of(ranges.begin(), ranges.end(), [p](const PortRange& r) { return r.contains(p); });
  }
  std::string describe() const {
    std::string out;
    for (const auto& r : ranges) {
      if (!out.empty()) out += ',';
      out += std::to_string(r.first);
      if (r.last != r.first) {
        out += '-';
        out += std::to_string(r.last);
      }
    }
    return out.empty() ? "none" : out;
  }
};

void add_ranges(Exclusions& ex, const std::optional<std::vector<std::wstring>>& values, const char* what, e2e::Log& log) {
  if (!values) return;
  if (!ex.source.empty()) ex.source += "+";
  ex.source += what;
  for (const auto& s : *values) {
    if (auto r = e2e::parse_range(s)) ex.ranges.push_back(*r);
    else log.line("dns-sim: ignoring malformed %s entry '%s' (the OS ignores it too)", what, e2e::narrow(s).c_str());
  }
}

Exclusions host_exclusions(std::pair<DWORD, DWORD> ver, e2e::Log& log) {
  Exclusions ex;
  const auto [major, minor] = ver;
  if (major < 6) {
    // tcpip.sys applies ReservedPorts from boot on: prefer the value the last boot saw.
    const std::wstring boot_key = L"SOFTWARE\\PortGuardE2E\\Boot";
    if (auto at_boot = e2e::read_dword(boot_key, L"Snapshot"); at_boot && *at_boot == 1) {
      add_ranges(ex, e2e::read_multi_sz(boot_key, L"ReservedPorts"), "ReservedPorts(at boot)", log);
    } else {
      add_ranges(ex, e2e::read_multi_sz(e2e::kTcpipParameters, L"ReservedPorts"), "ReservedPorts(live)", log);
    }
  } else if (major > 6 || minor >= 1) {
    add_ranges(ex, e2e::read_multi_sz(e2e::service_parameters(L"DNS"), L"SocketPoolExcludedPortRanges"),
               "SocketPoolExcludedPortRanges", log);
  }
  if (major >= 6) {
    HMODULE iphlpapi = ::GetModuleHandleW(L"iphlpapi.dll");
    if (!iphlpapi) iphlpapi = ::LoadLibraryW(L"iphlpapi.dll");
    const bool api = iphlpapi && ::GetProcAddress(iphlpapi, "LookupPersistentUdpPortReservation");
    log.line("dns-sim: persistent reservations: %s", api ? "API present: not modelled, use --os-allocates on real Windows"
                                                         : "API not exported (Wine): none can exist");
  }
  if (ex.source.empty()) ex.source = "none configured";
  return ex;
}

PortRange dynamic_range(int argc, wchar_t** argv, std::pair<DWORD, DWORD> ver, std::string& source) {
  const std::wstring params = e2e::service_parameters(L"DNS");
  if (const wchar_t* r = e2e::arg_value(argc, argv, L"--range")) {
    if (auto pr = e2e::parse_range(r)) {
      source = "--range";
      return *pr;
    }
  }
  auto s = e2e::read_dword(params, L"SimDynamicPortStart");
  auto e = e2e::read_dword(params, L"SimDynamicPortEnd");
  if (s && e && *s >= 1 && *s <= *e && *e <= 65535) {
    source = "SimDynamicPortStart/End";
    return {*s, *e};
  }
  if (ver.first < 6) {
    auto max_user = e2e::read_dword(e2e::kTcpipParameters, L"MaxUserPort");
    source = max_user ? "MaxUserPort" : "MaxUserPort default";
    unsigned last = max_user ? std::clamp<unsigned>(*max_user, 5000, 65534) : 5000;
    return {1025, last};
  }
  source = "Vista+ default";
  return {49152, 65535};
}

DWORD number(int argc, wchar_t** argv, const wchar_t* flag, const wchar_t* value_name, DWORD fallback) {
  if (const wchar_t* v = e2e::arg_value(argc, argv, flag)) return static_cast<DWORD>(wcstoul(v, nullptr, 10));
  if (auto d = e2e::read_dword(e2e::service_parameters(L"DNS"), value_name)) return *d;
  return fallback;
}

e2e::SocketSet& pool() {
  static e2e::SocketSet sockets;
  return sockets;
}

void write_ports(const std::vector<unsigned>& ports) {
  FILE* f = _wfopen(L"C:\\e2e\\dns-sim.ports", L"wb");
  if (!f) return;
  for (unsigned p : ports) std::fprintf(f, "%u\n", p);
  std::fclose(f);
}

DWORD start(int argc, wchar_t** argv, e2e::Log& log) {
  WSADATA wsa;
  if (int rc = ::WSAStartup(MAKEWORD(2, 2), &wsa)) return static_cast<DWORD>(rc);

  const auto ver = e2e::os_version();
  const DWORD count = number(argc, argv, L"--count", L"SocketPoolSize", 2500);
  const DWORD seed = number(argc, argv, L"--seed", L"SimSeed", 1);
  const DWORD force_first = number(argc, argv, L"--force-first", L"SimForceFirstPort", 0);
  std::vector<unsigned> bound;

  if (e2e::has_flag(argc, argv, L"--os-allocates")) {
    for (DWORD i = 0; i < count; ++i) {
      // Closed at once: a real allocation, but this mode is only a probe of the OS allocator.
      const portguard::win32::unique_socket s(::socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP));
      sockaddr_in a{};
      a.sin_family = AF_INET;
      ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
      int len = sizeof a;
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
      bound.push_back(ntohs(a.sin_port));
    }
    write_ports(bound);
    log.line("dns-sim: os-allocates mode: %zu ports chosen by the stack", bound.size());
    return 0;
  }

  std::string range_source;
  const PortRange range = dynamic_range(argc, argv, ver, range_source);
  const Exclusions ex = host_exclusions(ver, log);

  std::mt19937 rng(seed);
  std::uniform_int_distribution<unsigned> pick(range.first, range.last);
  std::set<unsigned> tried;
  unsigned skipped_reserved = 0, skipped_in_use = 0;
  const size_t span = range.last - range.first + 1;
  const DWORD target = static_cast<DWORD>(std::min<size_t>(count, span));
  bool first = true;
  // Draw with rejection until the pool is full or every port of the range was tried.
  while (bound.size() < target && tried.size() < span) {
    unsigned port = pick(rng);
    if (first && force_first != 0) port = force_first;
    const bool was_first = first;
    first = false;
    if (!tried.insert(port).second) continue;
    if (ex.excludes(port)) {
      ++skipped_reserved;
      if (was_first) log.line("dns-sim: first choice UDP %u skipped: reserved (%s)", port, ex.source.c_str());
      continue;
    }
    const int err = pool().bind_udp(port, false);
    if (err != 0) {
      ++skipped_in_use;
      if (was_first) log.line("dns-sim: first choice UDP %u skipped: %s (%d)", port, e2e::wsa_name(err), err);
      continue;
    }
    if (was_first) log.line("dns-sim: first choice UDP %u taken", port);
    bound.push_back(port);
  }
  std::sort(bound.begin(), bound.end());
  write_ports(bound);
  log.line("dns-sim: Windows %lu.%lu, seed %lu, dynamic range %u-%u (%s), excluded %s (%s): bound %zu UDP ports, "
           "skipped %u reserved, %u in use",
           ver.first, ver.second, seed, range.first, range.last, range_source.c_str(), ex.describe().c_str(),
           ex.source.c_str(), bound.size(), skipped_reserved, skipped_in_use);
  return 0;
}

} // namespace

int wmain(int argc, wchar_t** argv) {
  e2e::Log log(L"dns-sim");
  auto& host = e2e::ServiceHost::instance();
  if (e2e::has_flag(argc, argv, L"--console")) return host.run_console(argc, argv, &start, log, true);
  if (host.run_as_service(L"DNS", &start, log, [] { pool().close_all(); })) return 0;
  std::fputs("dns-sim: not started by the service control manager; use --console to run interactively\n", stderr);
  return 1;
}
