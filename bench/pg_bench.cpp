// pg-bench.exe: the Windows side of the service benchmarks (issue 9, performance 1-4), driven by
// bench/service_bench.sh under Wine. Every timing is taken here, inside one Windows process, with
// QueryPerformanceCounter, so process start-up cost does not pollute the figures.
//
//   pg-bench create-services N                 N demand-start services BenchSvc000.. (a busy host)
//   pg-bench start-latency NAME RUNS           StartServiceW -> RUNNING, RUNS times (stops it between)
//   pg-bench drift RUNS GAP_MS BATCH NAME      RUNS external RegSetValueExW that drop the RADIUS
//                                              ports from ReservedPorts; time until the guard's
//                                              repaired value is readable. The service NAME is
//                                              restarted every BATCH drifts (see below).
//   pg-bench storm SECONDS RATE                RATE writes/s of an unrelated value under
//                                              Tcpip\Parameters (BenchStorm, REG_DWORD)
//   pg-bench pid NAME                          the service's Windows PID
//   pg-bench show                              ReservedPorts exactly: "TYPE|s1|s2|..." or "absent"
//   pg-bench break                             ReservedPorts := "1433-1434" (a drift), then exit
//
// Prints one line per sample ("sample N ms") and a summary "median M min A max B (n)".
// A benchmark, not a test: it exits 0 whatever the numbers are (2 on API errors).
#include "portguard/adapters/unique_handle.hpp"

#include <windows.h>

#include <algorithm>
#include <cstdio>
#include <cwchar>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using portguard::win32::unique_handle_t;
using portguard::win32::unique_hkey;
using portguard::win32::unique_schandle;

const wchar_t* const tcpip = L"SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters";

[[noreturn]] void fail(const char* api, DWORD code = ::GetLastError()) {
  throw std::runtime_error(std::string(api) + " failed: Win32 error " + std::to_string(code));
}

double now_ms() {
  static LARGE_INTEGER freq = [] {
    LARGE_INTEGER f;
    ::QueryPerformanceFrequency(&f);
    return f;
  }();
  LARGE_INTEGER t;
  ::QueryPerformanceCounter(&t);
  return 1000.0 * static_cast<double>(t.QuadPart) / static_cast<double>(freq.QuadPart);
}

void summary(const char* what, std::vector<double> ms) {
  if (ms.empty()) {
    std::printf("%s: no samples\n", what);
    return;
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%s: median %.1f ms, min %.1f ms, max %.1f ms, p90 %.1f ms (n=%zu)\n", what, ms[ms.size() / 2], ms.front(), ms.back(),
              ms[std::min(ms.size() - 1, ms.size() * 9 / 10)], ms.size());
}

unique_schandle open_scm(DWORD access) {
  unique_schandle scm(::OpenSCManagerW(nullptr, nullptr, access));
  if (!scm) fail("OpenSCManagerW");
  return scm;
}

SERVICE_STATUS_PROCESS status(SC_HANDLE svc) {
  SERVICE_STATUS_PROCESS st{};
  DWORD needed = 0;
  if (!::QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&st), sizeof st, &needed)) fail("QueryServiceStatusEx");
  return st;
}

/// Polls every millisecond (the resolution we report); false on timeout.
bool wait_state(SC_HANDLE svc, DWORD state, double timeout_ms) {
  const double t0 = now_ms();
  while (now_ms() - t0 < timeout_ms) {
    if (status(svc).dwCurrentState == state) return true;
    ::Sleep(1);
  }
  return false;
}

void stop_service(SC_HANDLE svc) {
  if (status(svc).dwCurrentState == SERVICE_STOPPED) return;
  SERVICE_STATUS ss{};
  if (!::ControlService(svc, SERVICE_CONTROL_STOP, &ss) && ::GetLastError() != ERROR_SERVICE_NOT_ACTIVE) fail("ControlService(STOP)");
  if (!wait_state(svc, SERVICE_STOPPED, 30000)) throw std::runtime_error("service did not stop within 30 s");
}

/// Starts the service and returns StartServiceW -> RUNNING in ms (negative: it did not get there).
double start_service(SC_HANDLE svc) {
  const double t0 = now_ms();
  if (!::StartServiceW(svc, 0, nullptr)) fail("StartServiceW");
  for (;;) {
    const DWORD s = status(svc).dwCurrentState;
    if (s == SERVICE_RUNNING) return now_ms() - t0;
    if (s == SERVICE_STOPPED || now_ms() - t0 > 30000) return -1;
    ::Sleep(1);
  }
}

int create_services(int n) {
  auto scm = open_scm(SC_MANAGER_CREATE_SERVICE);
  int created = 0;
  for (int i = 0; i < n; ++i) {
    wchar_t name[32];
    std::swprintf(name, 32, L"BenchSvc%03d", i);
    // Never started: they only have to exist, as the ~300 services of a Windows server do.
    unique_schandle svc(::CreateServiceW(scm.get(), name, name, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
                                         i % 3 == 0 ? SERVICE_AUTO_START : SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL,
                                         L"C:\\windows\\system32\\svchost.exe -k bench", nullptr, nullptr, nullptr, nullptr, nullptr));
    if (!svc) {
      if (::GetLastError() == ERROR_SERVICE_EXISTS) continue;
      fail("CreateServiceW");
    }
    ++created;
  }
  std::printf("created %d services\n", created);
  return 0;
}

int start_latency(const wchar_t* name, int runs) {
  auto scm = open_scm(SC_MANAGER_CONNECT);
  unique_schandle svc(::OpenServiceW(scm.get(), name, SERVICE_START | SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!svc) fail("OpenServiceW");
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    stop_service(svc.get());
    ::Sleep(200);   // let the old process go away completely
    const double t = start_service(svc.get());
    if (t < 0) {
      std::printf("sample %d: did not reach RUNNING\n", i);
      continue;
    }
    std::printf("sample %d %.1f ms\n", i, t);
    ms.push_back(t);
  }
  summary("StartService -> RUNNING", ms);
  return 0;
}

std::wstring read_reserved(HKEY key) {
  wchar_t data[8192];
  DWORD type = 0, size = sizeof data - 2 * sizeof(wchar_t);
  if (::RegQueryValueExW(key, L"ReservedPorts", nullptr, &type, reinterpret_cast<BYTE*>(data), &size) != ERROR_SUCCESS) return {};
  data[size / sizeof(wchar_t)] = 0;
  data[size / sizeof(wchar_t) + 1] = 0;
  return std::wstring(data, size / sizeof(wchar_t));
}

bool holds_radius(const std::wstring& multi) { return multi.find(L"1645-1646") != std::wstring::npos; }

int drift(int runs, int gap_ms, int batch, const wchar_t* name) {
  unique_hkey key;
  if (::RegOpenKeyExW(HKEY_LOCAL_MACHINE, tcpip, 0, KEY_QUERY_VALUE | KEY_SET_VALUE | KEY_NOTIFY, key.put()) != ERROR_SUCCESS)
    fail("RegOpenKeyExW(Tcpip\\Parameters)");
  unique_handle_t changed(::CreateEventW(nullptr, FALSE, FALSE, nullptr));
  auto scm = open_scm(SC_MANAGER_CONNECT);
  unique_schandle svc(::OpenServiceW(scm.get(), name, SERVICE_START | SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!svc) fail("OpenServiceW");
  if (!holds_radius(read_reserved(key.get()))) throw std::runtime_error("ReservedPorts does not hold 1645-1646: is the guard running?");

  // The drifted value: an admin tool rewrites ReservedPorts with only its own entry.
  const wchar_t broken[] = L"1433-1434\0";
  std::vector<double> ms;
  int lost = 0;
  for (int i = 0; i < runs; ++i) {
    if (batch > 0 && i > 0 && i % batch == 0) {
      // The guard's registry-fight rule (5 repairs of one target within 60 s -> back off 15 min)
      // would rightly stop repairing a value rewritten this often; a restart clears that state.
      stop_service(svc.get());
      if (start_service(svc.get()) < 0) throw std::runtime_error("the guard did not restart");
    }
    ::Sleep(static_cast<DWORD>(gap_ms));
    if (::RegNotifyChangeKeyValue(key.get(), FALSE, REG_NOTIFY_CHANGE_LAST_SET, changed.get(), TRUE) != ERROR_SUCCESS)
      fail("RegNotifyChangeKeyValue");
    const double t0 = now_ms();
    if (::RegSetValueExW(key.get(), L"ReservedPorts", 0, REG_MULTI_SZ, reinterpret_cast<const BYTE*>(broken), sizeof broken) != ERROR_SUCCESS)
      fail("RegSetValueExW");
    bool repaired = false;
    while (now_ms() - t0 < 5000) {
      // Our own write signals the event too; whatever woke us, look at the value.
      ::WaitForSingleObject(changed.get(), 1);
      if (::RegNotifyChangeKeyValue(key.get(), FALSE, REG_NOTIFY_CHANGE_LAST_SET, changed.get(), TRUE) != ERROR_SUCCESS)
        fail("RegNotifyChangeKeyValue");
      if (holds_radius(read_reserved(key.get()))) {
        repaired = true;
        break;
      }
    }
    const double t = now_ms() - t0;
    if (!repaired) {
      ++lost;
      std::printf("sample %d: not repaired within 5 s\n", i);
      continue;
    }
    std::printf("sample %d %.1f ms\n", i, t);
    ms.push_back(t);
  }
  summary("drift -> repaired value readable", ms);
  std::printf("not repaired within 5 s: %d of %d\n", lost, runs);
  return 0;
}

int storm(double seconds, int rate) {
  unique_hkey key;
  if (::RegOpenKeyExW(HKEY_LOCAL_MACHINE, tcpip, 0, KEY_SET_VALUE, key.put()) != ERROR_SUCCESS) fail("RegOpenKeyExW(Tcpip\\Parameters)");
  const double t0 = now_ms();
  const double period = 1000.0 / rate;
  DWORD n = 0;
  while (now_ms() - t0 < seconds * 1000.0) {
    ++n;
    if (::RegSetValueExW(key.get(), L"BenchStorm", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&n), sizeof n) != ERROR_SUCCESS)
      fail("RegSetValueExW(BenchStorm)");
    const double next = t0 + n * period;
    const double left = next - now_ms();
    if (left > 0) ::Sleep(static_cast<DWORD>(left));
  }
  std::printf("storm: %lu writes in %.1f s\n", static_cast<unsigned long>(n), (now_ms() - t0) / 1000.0);
  return 0;
}

/// ReservedPorts exactly: "TYPE|string|string|..." (type number, then each string), or "absent".
int show() {
  unique_hkey key;
  if (::RegOpenKeyExW(HKEY_LOCAL_MACHINE, tcpip, 0, KEY_QUERY_VALUE, key.put()) != ERROR_SUCCESS) fail("RegOpenKeyExW(Tcpip\\Parameters)");
  std::vector<BYTE> data(256 * 1024);
  DWORD type = 0, size = static_cast<DWORD>(data.size());
  const LONG rc = ::RegQueryValueExW(key.get(), L"ReservedPorts", nullptr, &type, data.data(), &size);
  if (rc == ERROR_FILE_NOT_FOUND) {
    std::printf("absent\n");
    return 0;
  }
  if (rc != ERROR_SUCCESS) fail("RegQueryValueExW", static_cast<DWORD>(rc));
  std::printf("%lu", static_cast<unsigned long>(type));
  const auto* w = reinterpret_cast<const wchar_t*>(data.data());
  const std::size_t n = size / sizeof(wchar_t);
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i;
    while (j < n && w[j] != 0) ++j;
    if (j == i && (j + 1 >= n)) break;   // the list terminator
    std::printf("|");
    for (std::size_t k = i; k < j; ++k) std::printf("%lc", static_cast<wint_t>(w[k]));
    i = j + 1;
  }
  std::printf("\n");
  return 0;
}

/// The drift of an admin tool: ReservedPorts rewritten with only "1433-1434".
int break_value() {
  unique_hkey key;
  if (::RegOpenKeyExW(HKEY_LOCAL_MACHINE, tcpip, 0, KEY_SET_VALUE, key.put()) != ERROR_SUCCESS) fail("RegOpenKeyExW(Tcpip\\Parameters)");
  const wchar_t broken[] = L"1433-1434\0";
  if (::RegSetValueExW(key.get(), L"ReservedPorts", 0, REG_MULTI_SZ, reinterpret_cast<const BYTE*>(broken), sizeof broken) != ERROR_SUCCESS)
    fail("RegSetValueExW");
  return 0;
}

int pid(const wchar_t* name) {
  auto scm = open_scm(SC_MANAGER_CONNECT);
  unique_schandle svc(::OpenServiceW(scm.get(), name, SERVICE_QUERY_STATUS));
  if (!svc) fail("OpenServiceW");
  std::printf("%lu\n", static_cast<unsigned long>(status(svc.get()).dwProcessId));
  return 0;
}

} // namespace

int wmain(int argc, wchar_t** argv) {
  try {
    const std::wstring cmd = argc > 1 ? argv[1] : L"";
    if (cmd == L"create-services" && argc > 2) return create_services(_wtoi(argv[2]));
    if (cmd == L"start-latency" && argc > 3) return start_latency(argv[2], _wtoi(argv[3]));
    if (cmd == L"drift" && argc > 5) return drift(_wtoi(argv[2]), _wtoi(argv[3]), _wtoi(argv[4]), argv[5]);
    if (cmd == L"storm" && argc > 3) return storm(_wtof(argv[2]), _wtoi(argv[3]));
    if (cmd == L"pid" && argc > 2) return pid(argv[2]);
    if (cmd == L"show") return show();
    if (cmd == L"break") return break_value();
    std::fprintf(stderr, "usage: pg-bench create-services N | start-latency NAME RUNS | drift RUNS GAP_MS BATCH NAME | storm SECONDS RATE | pid NAME | show | break\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg-bench: %s\n", e.what());
    return 2;
  }
}
