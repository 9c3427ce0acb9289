// pg-svc-helper.exe: the service scenario scripts' hands on the SCM and the registry of a Wine
// prefix, through the real APIs (`wine sc depend=` writes garbage; `reg query` hides exact bytes).
//
//   start NAME TIMEOUT_S          StartServiceW, then polls QueryServiceStatusEx every 2 ms and
//                                 prints every state/checkpoint change with its time since start:
//                                 "t=12ms START_PENDING checkpoint=2 wait_hint=60000".
//                                 Exit 0 once RUNNING, 1 if it STOPPED or timed out.
//   stop NAME TIMEOUT_S           ControlService(STOP), waits for STOPPED, prints
//                                 "STOPPED win32_exit=0 service_exit=0"; exit 0 when stopped.
//   paramchange NAME              ControlService(SERVICE_CONTROL_PARAMCHANGE); exit 0 when accepted.
//   deny-key KEY [SDDL]           sets a DACL on HKLM\KEY (RegSetKeySecurity; Wine enforces registry
//                                 DACLs); default "D:(D;;KA;;;WD)" denies Everyone everything.
//   create NAME [DEPENDENCY...]   CreateServiceW (demand start, own process) with dependencies
//                                 written by the SCM API; the binary is cmd.exe (never started).
//   read-multi KEY VALUE          prints the REG_MULTI_SZ strings joined by '|', or "<absent>".
//   read-sz KEY VALUE             prints a REG_SZ value, or "<absent>".
//   read-dword KEY VALUE          prints a REG_DWORD value in decimal, or "<absent>".
//   wait-dword KEY VALUE EXPECTED TIMEOUT_MS
//                                 polls every 5 ms until the REG_DWORD equals EXPECTED (decimal);
//                                 prints "matched after N ms"; exit 0, or 1 on timeout.
//   wait-multi KEY VALUE EXPECTED TIMEOUT_MS
//                                 polls every 5 ms until the value (joined by '|') equals EXPECTED;
//                                 prints "matched after N ms"; exit 0, or 1 on timeout.
//   drift KEY VALUE DATA EXPECTED TIMEOUT_MS
//                                 writes DATA, then polls every 5 ms until the value is EXPECTED:
//                                 "repaired after N ms" measured from the write (exact).
//   observe KEY VALUE DRIFTED REPAIRED TIMEOUT_MS
//                                 prints "ready", then polls every 5 ms: the moment the value becomes
//                                 DRIFTED (another process wrote it) and the moment it becomes
//                                 REPAIRED; prints "repair latency N ms" (exact to ~5 ms, independent
//                                 of how long the writing process takes to start or exit).
//   fight KEY VALUE DATA SECONDS INTERVAL_MS
//                                 another tool that disagrees: writes DATA ('|'-separated) whenever
//                                 the value differs from it, checking every INTERVAL_MS for SECONDS.
//                                 Prints "fight: N rewrites, last rewrite at T ms".
//   tick KEY VALUE COUNT INTERVAL_MS
//                                 writes COUNT different REG_MULTI_SZ values to KEY\VALUE, INTERVAL_MS
//                                 apart: a change the guard's registry watch sees (so it runs a pass)
//                                 in a value it does not manage. Prints "ticks: N".
//   read-loop FILE SECONDS LAST_PREFIX
//                                 reads FILE whole, again and again for SECONDS, opened as Go's
//                                 os.ReadFile (windows_exporter) opens it: FILE_SHARE_READ|WRITE, no
//                                 FILE_SHARE_DELETE. A read is partial when it is empty, does not end
//                                 with a newline or its last line does not start with LAST_PREFIX.
//                                 Prints "reads N versions M partial P missing Q"; exit 1 when P > 0.
// KEY is below HKLM ("SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters").
#include <windows.h>
#include <sddl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// Milliseconds on a monotonic clock (GetTickCount64 is Vista+; the headers target 2003).
static ULONGLONG tick_ms() {
  return static_cast<ULONGLONG>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

namespace {

std::string narrow(const std::wstring& w) {
  if (w.empty()) return {};
  const int n = ::WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), out.data(), n, nullptr, nullptr);
  return out;
}

[[noreturn]] void die(const char* api, DWORD code = ::GetLastError()) {
  std::fprintf(stderr, "pg-svc-helper: %s failed (Win32 error %lu)\n", api, code);
  std::exit(2);
}

const char* state_name(DWORD s) {
  switch (s) {
    case SERVICE_STOPPED: return "STOPPED";
    case SERVICE_START_PENDING: return "START_PENDING";
    case SERVICE_STOP_PENDING: return "STOP_PENDING";
    case SERVICE_RUNNING: return "RUNNING";
    default: return "OTHER";
  }
}

struct Sc {
  SC_HANDLE h = nullptr;
  explicit Sc(SC_HANDLE x) : h(x) {}
  ~Sc() {
    if (h) ::CloseServiceHandle(h);
  }
  Sc(const Sc&) = delete;
  Sc& operator=(const Sc&) = delete;
};

SERVICE_STATUS_PROCESS query(SC_HANDLE svc) {
  SERVICE_STATUS_PROCESS st{};
  DWORD needed = 0;
  if (!::QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&st), sizeof st, &needed)) die("QueryServiceStatusEx");
  return st;
}

int cmd_start(const std::wstring& name, double timeout_s) {
  Sc scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm.h) die("OpenSCManagerW");
  Sc svc(::OpenServiceW(scm.h, name.c_str(), SERVICE_START | SERVICE_QUERY_STATUS));
  if (!svc.h) die("OpenServiceW");
  const ULONGLONG t0 = tick_ms();
  if (!::StartServiceW(svc.h, 0, nullptr)) die("StartServiceW");
  DWORD last_state = 0, last_cp = ~0u;
  for (;;) {
    const auto st = query(svc.h);
    const ULONGLONG t = tick_ms() - t0;
    if (st.dwCurrentState != last_state || st.dwCheckPoint != last_cp) {
      std::printf("t=%llums %s checkpoint=%lu wait_hint=%lu\n", t, state_name(st.dwCurrentState), st.dwCheckPoint, st.dwWaitHint);
      std::fflush(stdout);
      last_state = st.dwCurrentState;
      last_cp = st.dwCheckPoint;
    }
    if (st.dwCurrentState == SERVICE_RUNNING) return 0;
    if (st.dwCurrentState == SERVICE_STOPPED && t > 200) {
      std::printf("STOPPED win32_exit=%lu service_exit=%lu\n", st.dwWin32ExitCode, st.dwServiceSpecificExitCode);
      return 1;
    }
    if (t > timeout_s * 1000) {
      std::printf("timeout\n");
      return 1;
    }
    ::Sleep(2);
  }
}

int cmd_stop(const std::wstring& name, double timeout_s) {
  Sc scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm.h) die("OpenSCManagerW");
  Sc svc(::OpenServiceW(scm.h, name.c_str(), SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!svc.h) die("OpenServiceW");
  SERVICE_STATUS s{};
  if (!::ControlService(svc.h, SERVICE_CONTROL_STOP, &s)) die("ControlService");
  const ULONGLONG t0 = tick_ms();
  for (;;) {
    const auto st = query(svc.h);
    if (st.dwCurrentState == SERVICE_STOPPED) {
      std::printf("STOPPED win32_exit=%lu service_exit=%lu after %llums\n", st.dwWin32ExitCode, st.dwServiceSpecificExitCode,
                  tick_ms() - t0);
      return 0;
    }
    if (tick_ms() - t0 > timeout_s * 1000) {
      std::printf("timeout in %s\n", state_name(st.dwCurrentState));
      return 1;
    }
    ::Sleep(10);
  }
}

int cmd_paramchange(const std::wstring& name) {
  Sc scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm.h) die("OpenSCManagerW");
  Sc svc(::OpenServiceW(scm.h, name.c_str(), SERVICE_PAUSE_CONTINUE));
  if (!svc.h) die("OpenServiceW");
  SERVICE_STATUS s{};
  if (!::ControlService(svc.h, SERVICE_CONTROL_PARAMCHANGE, &s)) die("ControlService(PARAMCHANGE)");
  std::printf("paramchange accepted\n");
  return 0;
}

int cmd_deny_key(const std::wstring& key, const std::wstring& sddl) {
  HKEY k = nullptr;
  if (::RegOpenKeyExW(HKEY_LOCAL_MACHINE, key.c_str(), 0, WRITE_DAC | KEY_WOW64_64KEY, &k) != ERROR_SUCCESS) die("RegOpenKeyExW");
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &sd, nullptr))
    die("ConvertStringSecurityDescriptorToSecurityDescriptorW");
  const LSTATUS s = ::RegSetKeySecurity(k, DACL_SECURITY_INFORMATION, sd);
  ::LocalFree(sd);
  ::RegCloseKey(k);
  if (s != ERROR_SUCCESS) die("RegSetKeySecurity", static_cast<DWORD>(s));
  std::printf("denied\n");
  return 0;
}

int cmd_create(const std::wstring& name, const std::vector<std::wstring>& deps) {
  std::wstring multi;
  for (const auto& d : deps) {
    multi += d;
    multi.push_back(L'\0');
  }
  multi.push_back(L'\0');
  Sc scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CREATE_SERVICE));
  if (!scm.h) die("OpenSCManagerW");
  Sc svc(::CreateServiceW(scm.h, name.c_str(), name.c_str(), SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START,
                          SERVICE_ERROR_NORMAL, L"C:\\windows\\system32\\cmd.exe", nullptr, nullptr, deps.empty() ? nullptr : multi.c_str(),
                          nullptr, nullptr));
  if (!svc.h) die("CreateServiceW");
  std::printf("created %s\n", narrow(name).c_str());
  return 0;
}

/// nullopt-like: returns false when absent.
bool read_multi(const std::wstring& key, const std::wstring& value, std::string& joined) {
  HKEY k = nullptr;
  if (::RegOpenKeyExW(HKEY_LOCAL_MACHINE, key.c_str(), 0, KEY_QUERY_VALUE | KEY_WOW64_64KEY, &k) != ERROR_SUCCESS) return false;
  DWORD type = 0, size = 0;
  LSTATUS s = ::RegQueryValueExW(k, value.c_str(), nullptr, &type, nullptr, &size);
  if (s != ERROR_SUCCESS) {
    ::RegCloseKey(k);
    return false;
  }
  std::vector<wchar_t> buf(size / sizeof(wchar_t) + 2, L'\0');
  s = ::RegQueryValueExW(k, value.c_str(), nullptr, &type, reinterpret_cast<BYTE*>(buf.data()), &size);
  ::RegCloseKey(k);
  if (s != ERROR_SUCCESS) return false;
  joined.clear();
  const size_t n = size / sizeof(wchar_t);
  size_t i = 0;
  bool first = true;
  while (i < n && buf[i] != L'\0') {
    std::wstring item(&buf[i]);
    if (!first) joined += '|';
    joined += narrow(item);
    first = false;
    i += item.size() + 1;
  }
  return true;
}

void write_multi(const std::wstring& key, const std::wstring& value, const std::string& data) {
  std::wstring multi;
  for (char c : data) multi.push_back(c == '|' ? L'\0' : static_cast<wchar_t>(c));
  multi.push_back(L'\0');
  multi.push_back(L'\0');
  HKEY k = nullptr;
  if (::RegCreateKeyExW(HKEY_LOCAL_MACHINE, key.c_str(), 0, nullptr, 0, KEY_SET_VALUE | KEY_WOW64_64KEY, nullptr, &k, nullptr) != ERROR_SUCCESS)
    die("RegCreateKeyExW");
  const LSTATUS s = ::RegSetValueExW(k, value.c_str(), 0, REG_MULTI_SZ, reinterpret_cast<const BYTE*>(multi.c_str()),
                                     static_cast<DWORD>(multi.size() * sizeof(wchar_t)));
  ::RegCloseKey(k);
  if (s != ERROR_SUCCESS) die("RegSetValueExW", static_cast<DWORD>(s));
}

int cmd_read_sz(const std::wstring& key, const std::wstring& value) {
  wchar_t buf[1024];
  DWORD size = sizeof buf;
  if (::RegGetValueW(HKEY_LOCAL_MACHINE, key.c_str(), value.c_str(), RRF_RT_REG_SZ, nullptr, buf, &size) != ERROR_SUCCESS) {
    std::printf("<absent>\n");
    return 0;
  }
  std::printf("%s\n", narrow(buf).c_str());
  return 0;
}

bool read_dword(const std::wstring& key, const std::wstring& value, DWORD& out) {
  DWORD size = sizeof out;
  return ::RegGetValueW(HKEY_LOCAL_MACHINE, key.c_str(), value.c_str(), RRF_RT_REG_DWORD, nullptr, &out, &size) == ERROR_SUCCESS;
}

int cmd_read_dword(const std::wstring& key, const std::wstring& value) {
  DWORD v = 0;
  if (read_dword(key, value, v)) std::printf("%lu\n", static_cast<unsigned long>(v));
  else std::printf("<absent>\n");
  return 0;
}

int cmd_wait_dword(const std::wstring& key, const std::wstring& value, DWORD expected, ULONGLONG timeout_ms) {
  const ULONGLONG t0 = tick_ms();
  for (;;) {
    DWORD v = 0;
    const bool present = read_dword(key, value, v);
    if (present && v == expected) {
      std::printf("matched after %llu ms\n", tick_ms() - t0);
      return 0;
    }
    if (tick_ms() - t0 > timeout_ms) {
      std::printf("timeout after %llu ms; value is %s\n", timeout_ms, present ? std::to_string(v).c_str() : "<absent>");
      return 1;
    }
    ::Sleep(5);
  }
}

int cmd_wait_multi(const std::wstring& key, const std::wstring& value, const std::string& expected, ULONGLONG timeout_ms) {
  const ULONGLONG t0 = tick_ms();
  std::string now;
  for (;;) {
    if (read_multi(key, value, now) && now == expected) {
      std::printf("matched after %llu ms\n", tick_ms() - t0);
      return 0;
    }
    if (tick_ms() - t0 > timeout_ms) {
      std::printf("timeout after %llu ms; value is '%s'\n", timeout_ms, now.c_str());
      return 1;
    }
    ::Sleep(5);  // each read is a wineserver round trip: do not starve the service under load
  }
}

int cmd_drift(const std::wstring& key, const std::wstring& value, const std::string& data, const std::string& expected, ULONGLONG timeout_ms) {
  LARGE_INTEGER f, t0, t;
  ::QueryPerformanceFrequency(&f);
  write_multi(key, value, data);
  ::QueryPerformanceCounter(&t0);
  std::string now;
  for (;;) {
    ::QueryPerformanceCounter(&t);
    const double ms = static_cast<double>(t.QuadPart - t0.QuadPart) * 1000.0 / static_cast<double>(f.QuadPart);
    if (read_multi(key, value, now) && now == expected) {
      std::printf("repaired after %.1f ms\n", ms);
      return 0;
    }
    if (ms > static_cast<double>(timeout_ms)) {
      std::printf("not repaired after %llu ms; value is '%s'\n", timeout_ms, now.c_str());
      return 1;
    }
    ::Sleep(5);
  }
}

int cmd_observe(const std::wstring& key, const std::wstring& value, const std::string& drifted, const std::string& repaired,
                ULONGLONG timeout_ms) {
  LARGE_INTEGER f, t0, t, t_drift{};
  ::QueryPerformanceFrequency(&f);
  ::QueryPerformanceCounter(&t0);
  const auto ms = [&](const LARGE_INTEGER& a, const LARGE_INTEGER& b) {
    return static_cast<double>(b.QuadPart - a.QuadPart) * 1000.0 / static_cast<double>(f.QuadPart);
  };
  std::printf("ready\n");
  std::fflush(stdout);
  bool seen_drift = false;
  std::string now;
  for (;;) {
    ::QueryPerformanceCounter(&t);
    const bool have = read_multi(key, value, now);
    if (!seen_drift && have && now == drifted) {
      seen_drift = true;
      t_drift = t;
    } else if (seen_drift && have && now == repaired) {
      std::printf("repair latency %.1f ms\n", ms(t_drift, t));
      return 0;
    }
    if (ms(t0, t) > static_cast<double>(timeout_ms)) {
      std::printf("%s after %llu ms; value is '%s'\n", seen_drift ? "not repaired" : "drift never seen", timeout_ms, now.c_str());
      return 1;
    }
    ::Sleep(5);
  }
}

int cmd_fight(const std::wstring& key, const std::wstring& value, const std::string& data, double seconds, DWORD interval_ms) {
  const ULONGLONG t0 = tick_ms();
  unsigned rewrites = 0;
  ULONGLONG last = 0;
  std::string now;
  while (tick_ms() - t0 < seconds * 1000) {
    if (!read_multi(key, value, now) || now != data) {
      write_multi(key, value, data);
      ++rewrites;
      last = tick_ms() - t0;
    }
    ::Sleep(interval_ms);
  }
  std::printf("fight: %u rewrites, last rewrite at %llu ms\n", rewrites, last);
  return 0;
}

int cmd_tick(const std::wstring& key, const std::wstring& value, int count, DWORD interval_ms) {
  for (int i = 1; i <= count; ++i) {
    write_multi(key, value, "tick-" + std::to_string(i));
    ::Sleep(interval_ms);
  }
  std::printf("ticks: %d\n", count);
  return 0;
}

int cmd_read_loop(const std::wstring& file, double seconds, const std::string& last_prefix) {
  const ULONGLONG t0 = tick_ms();
  unsigned reads = 0, partial = 0, missing = 0, versions = 0;
  std::string last;
  while (tick_ms() - t0 < seconds * 1000) {
    HANDLE h = ::CreateFileW(file.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
      ++missing;
      ::Sleep(2);
      continue;
    }
    std::string text;
    char buf[4096];
    DWORD got = 0;
    while (::ReadFile(h, buf, sizeof buf, &got, nullptr) && got > 0) text.append(buf, got);
    ::CloseHandle(h);
    ++reads;
    const auto cut = text.size() >= 2 ? text.rfind('\n', text.size() - 2) : std::string::npos;
    const std::string last_line = cut == std::string::npos ? text : text.substr(cut + 1);
    if (text.empty() || text.back() != '\n' || last_line.rfind(last_prefix, 0) != 0) {
      ++partial;
      std::printf("partial read %u (%u bytes): ...%s\n", reads, static_cast<unsigned>(text.size()), text.substr(text.size() > 80 ? text.size() - 80 : 0).c_str());
    }
    if (text != last) {
      ++versions;
      last = std::move(text);
    }
    ::Sleep(2);
  }
  std::printf("reads %u versions %u partial %u missing %u\n", reads, versions, partial, missing);
  return partial == 0 ? 0 : 1;
}

} // namespace

int wmain(int argc, wchar_t** argv) {
  // Unbuffered: what was printed survives if the process dies early (a scenario that sees no
  // output at all cannot tell how far the helper got).
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  const std::wstring cmd = argc > 1 ? argv[1] : L"";
  auto arg = [&](int i) { return i < argc ? std::wstring(argv[i]) : std::wstring(); };
  if (cmd == L"start" && argc == 4) return cmd_start(arg(2), _wtof(argv[3]));
  if (cmd == L"stop" && argc == 4) return cmd_stop(arg(2), _wtof(argv[3]));
  if (cmd == L"paramchange" && argc == 3) return cmd_paramchange(arg(2));
  if (cmd == L"deny-key" && (argc == 3 || argc == 4)) return cmd_deny_key(arg(2), argc == 4 ? arg(3) : L"D:(D;;KA;;;WD)");
  if (cmd == L"create" && argc >= 3) return cmd_create(arg(2), std::vector<std::wstring>(argv + 3, argv + argc));
  if (cmd == L"read-multi" && argc == 4) {
    std::string v;
    std::printf("%s\n", read_multi(arg(2), arg(3), v) ? v.c_str() : "<absent>");
    return 0;
  }
  if (cmd == L"read-sz" && argc == 4) return cmd_read_sz(arg(2), arg(3));
  if (cmd == L"read-dword" && argc == 4) return cmd_read_dword(arg(2), arg(3));
  if (cmd == L"wait-dword" && argc == 6) return cmd_wait_dword(arg(2), arg(3), static_cast<DWORD>(_wtoi64(argv[4])), _wtoi64(argv[5]));
  if (cmd == L"wait-multi" && argc == 6) return cmd_wait_multi(arg(2), arg(3), narrow(arg(4)), _wtoi64(argv[5]));
  if (cmd == L"drift" && argc == 7) return cmd_drift(arg(2), arg(3), narrow(arg(4)), narrow(arg(5)), _wtoi64(argv[6]));
  if (cmd == L"observe" && argc == 7) return cmd_observe(arg(2), arg(3), narrow(arg(4)), narrow(arg(5)), _wtoi64(argv[6]));
  if (cmd == L"fight" && argc == 7)
    return cmd_fight(arg(2), arg(3), narrow(arg(4)), _wtof(argv[5]), static_cast<DWORD>(_wtoi(argv[6])));
  if (cmd == L"tick" && argc == 6) return cmd_tick(arg(2), arg(3), _wtoi(argv[4]), static_cast<DWORD>(_wtoi(argv[5])));
  if (cmd == L"read-loop" && argc == 5) return cmd_read_loop(arg(2), _wtof(argv[3]), narrow(arg(4)));
  std::fputs("usage: see the header of tests/service/svc_helper.cpp\n", stderr);
  return 2;
}
