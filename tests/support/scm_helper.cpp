// pg-scm.exe: the test scripts' hands on the Service Control Manager and the registry of a Wine
// prefix, through the real APIs (`wine sc` cannot be trusted: `depend=` writes garbage, `qc` prints
// nothing; `reg query` hides exact bytes). Used by the service, end-to-end, robustness and bench kits.
//
// Services
//   create NAME [--binary PATH] [--start auto|demand] [--display TEXT] [--depend NAME]...
//                                 CreateServiceW, own process, LocalSystem; dependencies written by
//                                 the SCM API. Defaults: cmd.exe (never started), demand, NAME.
//   delete NAME                   stops it first if running, then DeleteService.
//   start NAME [--timeout S] [--trace] [-- ARGS...]
//                                 StartServiceW, then waits (S seconds, default 60) until RUNNING or
//                                 STOPPED. Prints the final status line (below); with --trace polls
//                                 every 2 ms and prints every state/checkpoint change with its time
//                                 since the start instead: "t=12ms START_PENDING checkpoint=2
//                                 wait_hint=60000". Exit 0 once RUNNING, 1 if it STOPPED or timed out.
//   stop NAME [--timeout S]       ControlService(STOP), waits for STOPPED; prints the status line with
//                                 "after N ms"; exit 0 when stopped (also when it was not running).
//   status NAME                   the status line; exit 0 only when RUNNING.
//   wait NAME RUNNING|STOPPED S   waits until the service reaches that state; prints the status line.
//   list                          Win32 services: name, state, display name.
//   paramchange NAME              ControlService(SERVICE_CONTROL_PARAMCHANGE); exit 0 when accepted.
//   The status line: "NAME: STATE", and when STOPPED " win32_exit=W service_exit=S" followed by
//   ", Win32 exit code W: TEXT" or ", service-specific exit code S" when the service failed.
//
// Registry (KEY is below HKLM, e.g. "SYSTEM\CurrentControlSet\Services\Tcpip\Parameters")
//   deny-key KEY [SDDL]           sets a DACL on HKLM\KEY (RegSetKeySecurity; Wine enforces registry
//                                 DACLs); default "D:(D;;KA;;;WD)" denies Everyone everything.
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
//   delete-and-wait KEY VALUE [SECONDS]
//                                 an admin tool deletes HKLM\KEY\VALUE; waits (RegNotifyChangeKeyValue)
//                                 until something writes it back; prints "restored after N ms: DATA";
//                                 exit 0 restored, 1 not within SECONDS (default 5).
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
//   boot-snapshot                 records Tcpip ReservedPorts as this "boot" saw it, for dns-sim
//                                 (tcpip.sys reads ReservedPorts only at boot).
//
// Files and events
//   read-loop FILE SECONDS LAST_PREFIX
//                                 reads FILE whole, again and again for SECONDS, opened as Go's
//                                 os.ReadFile (windows_exporter) opens it: FILE_SHARE_READ|WRITE, no
//                                 FILE_SHARE_DELETE. A read is partial when it is empty, does not end
//                                 with a newline or its last line does not start with LAST_PREFIX.
//                                 Prints "reads N versions M partial P missing Q"; exit 1 when P > 0.
//   format-event EXE ID [STRINGS...]
//                                 the event's text as Event Viewer shows it: EXE's message table
//                                 (FormatMessageW) with the insertion strings; exit 1 if unresolved.
// Exit 2 on usage or API errors, with the API name and the Win32 error text on stderr.
#include "win32_tool.hpp"

#include <sddl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cwchar>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using portguard::win32::unique_file;
using portguard::win32::unique_handle_t;
using portguard::win32::unique_hkey;
using portguard::win32::unique_hlocal;
using portguard::win32::unique_hmodule;
using portguard::win32::unique_schandle;
using win32_tool::narrow;
using win32_tool::state_name;
using win32_tool::tick_ms;

struct ToolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const char* api, const std::wstring& what, DWORD code = ::GetLastError()) {
  throw ToolError(std::string(api) + "(" + narrow(what) + ") failed: " + win32_tool::error_text(code) + " (Win32 error " +
                  std::to_string(code) + ")");
}

[[noreturn]] void usage(const char* synopsis) { throw ToolError(std::string("usage: pg-scm ") + synopsis); }

/// The command line after the command name, with "--name value" options looked up by name.
class Args {
public:
  Args(int argc, wchar_t** argv) : args_(argv + 2, argv + std::max(argc, 2)) {}
  size_t size() const { return args_.size(); }
  const std::wstring& operator[](size_t i) const { return args_.at(i); }
  std::string utf8(size_t i) const { return narrow(args_.at(i)); }
  double real(size_t i) const { return _wtof(args_.at(i).c_str()); }
  ULONGLONG whole(size_t i) const { return static_cast<ULONGLONG>(_wtoi64(args_.at(i).c_str())); }
  std::vector<std::wstring> words() const { return args_; }

private:
  std::vector<std::wstring> args_;
};

// --- services ------------------------------------------------------------------------------------

/// How long start and stop wait for a service to settle by default: generous, because a loaded
/// 2-core machine can take seconds to start a Wine process; the wait ends as soon as it settles.
constexpr double kSettleSeconds = 60;

unique_schandle open_scm(DWORD access) {
  unique_schandle scm(::OpenSCManagerW(nullptr, nullptr, access));
  if (!scm) fail("OpenSCManagerW", L"local");
  return scm;
}

unique_schandle open_service(SC_HANDLE scm, const std::wstring& name, DWORD access) {
  unique_schandle svc(::OpenServiceW(scm, name.c_str(), access));
  if (!svc) fail("OpenServiceW", name);
  return svc;
}

SERVICE_STATUS_PROCESS query(SC_HANDLE svc, const std::wstring& name) {
  SERVICE_STATUS_PROCESS st{};
  DWORD needed = 0;
  if (!::QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&st), sizeof st, &needed))
    fail("QueryServiceStatusEx", name);
  return st;
}

bool pending(DWORD state) {
  return state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING || state == SERVICE_CONTINUE_PENDING ||
         state == SERVICE_PAUSE_PENDING;
}

/// Polls until the service reaches `want`, up to `seconds`.
SERVICE_STATUS_PROCESS wait_for(SC_HANDLE svc, const std::wstring& name, DWORD want, double seconds) {
  const ULONGLONG deadline = tick_ms() + static_cast<ULONGLONG>(seconds * 1000);
  for (;;) {
    auto st = query(svc, name);
    if (st.dwCurrentState == want || tick_ms() > deadline) return st;
    ::Sleep(10);
  }
}

/// The status line (see the header). `tail` ends the line (e.g. " after 12 ms").
void print_status(const std::wstring& name, const SERVICE_STATUS_PROCESS& st, const std::string& tail = {}) {
  std::printf("%s: %s", narrow(name).c_str(), state_name(st.dwCurrentState));
  if (st.dwCurrentState == SERVICE_STOPPED) {
    std::printf(" win32_exit=%lu service_exit=%lu", st.dwWin32ExitCode, st.dwServiceSpecificExitCode);
    if (st.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR)
      std::printf(", service-specific exit code %lu", st.dwServiceSpecificExitCode);
    else if (st.dwWin32ExitCode != 0)
      std::printf(", Win32 exit code %lu: %s", st.dwWin32ExitCode, win32_tool::error_text(st.dwWin32ExitCode).c_str());
  }
  std::printf("%s\n", tail.c_str());
}

/// "--name value" options and "--flag"s of a command, then its positional words; "--" ends options.
struct Options {
  std::vector<std::wstring> positional;
  std::vector<std::pair<std::wstring, std::wstring>> values;
  std::vector<std::wstring> flags;
  std::vector<std::wstring> rest;  // after "--"

  Options(const Args& args, const std::vector<std::wstring>& valued, const std::vector<std::wstring>& flag_names,
          const char* synopsis) {
    const auto words = args.words();
    for (size_t i = 0; i < words.size(); ++i) {
      const std::wstring& w = words[i];
      if (w == L"--") {
        rest.assign(words.begin() + static_cast<std::ptrdiff_t>(i) + 1, words.end());
        break;
      }
      if (std::find(valued.begin(), valued.end(), w) != valued.end()) {
        if (i + 1 >= words.size()) usage(synopsis);
        values.emplace_back(w, words[++i]);
      } else if (std::find(flag_names.begin(), flag_names.end(), w) != flag_names.end()) {
        flags.push_back(w);
      } else if (w.rfind(L"--", 0) == 0) {
        usage(synopsis);
      } else {
        positional.push_back(w);
      }
    }
  }
  std::wstring value(const std::wstring& name, const std::wstring& fallback) const {
    std::wstring out = fallback;
    for (const auto& [n, v] : values)
      if (n == name) out = v;
    return out;
  }
  std::vector<std::wstring> all(const std::wstring& name) const {
    std::vector<std::wstring> out;
    for (const auto& [n, v] : values)
      if (n == name) out.push_back(v);
    return out;
  }
  bool flag(const std::wstring& name) const { return std::find(flags.begin(), flags.end(), name) != flags.end(); }
};

int cmd_create(const Args& args) {
  const char* synopsis = "create NAME [--binary PATH] [--start auto|demand] [--display TEXT] [--depend NAME]...";
  const Options opt(args, {L"--binary", L"--start", L"--display", L"--depend"}, {}, synopsis);
  if (opt.positional.size() != 1) usage(synopsis);
  const std::wstring& name = opt.positional[0];
  std::wstring binary = opt.value(L"--binary", L"C:\\windows\\system32\\cmd.exe");
  if (binary.find(L' ') != std::wstring::npos && binary.front() != L'"') binary = L"\"" + binary + L"\"";
  const std::wstring start = opt.value(L"--start", L"demand");
  if (start != L"auto" && start != L"demand") usage(synopsis);
  const DWORD start_type = start == L"auto" ? SERVICE_AUTO_START : SERVICE_DEMAND_START;
  const std::wstring display = opt.value(L"--display", name);
  const auto deps = opt.all(L"--depend");
  std::wstring multi;
  for (const auto& d : deps) {
    multi += d;
    multi.push_back(L'\0');
  }
  multi.push_back(L'\0');
  auto scm = open_scm(SC_MANAGER_CREATE_SERVICE);
  unique_schandle svc(::CreateServiceW(scm.get(), name.c_str(), display.c_str(), SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
                                       start_type, SERVICE_ERROR_NORMAL, binary.c_str(), nullptr, nullptr,
                                       deps.empty() ? nullptr : multi.c_str(), nullptr, nullptr));
  if (!svc) fail("CreateServiceW", name);
  std::printf("%s: created (%s start)\n", narrow(name).c_str(), narrow(start).c_str());
  return 0;
}

/// Stops the service if it runs; exit code 0 once STOPPED.
int stop_service(SC_HANDLE svc, const std::wstring& name, double seconds) {
  const ULONGLONG t0 = tick_ms();
  auto st = query(svc, name);
  if (st.dwCurrentState != SERVICE_STOPPED) {
    SERVICE_STATUS ss{};
    if (!::ControlService(svc, SERVICE_CONTROL_STOP, &ss) && ::GetLastError() != ERROR_SERVICE_NOT_ACTIVE)
      fail("ControlService(STOP)", name);
    st = wait_for(svc, name, SERVICE_STOPPED, seconds);
  }
  print_status(name, st, " after " + std::to_string(tick_ms() - t0) + " ms");
  return st.dwCurrentState == SERVICE_STOPPED ? 0 : 1;
}

int cmd_delete(const Args& args) {
  if (args.size() != 1) usage("delete NAME");
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), args[0], SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
  stop_service(svc.get(), args[0], kSettleSeconds);
  if (!::DeleteService(svc.get())) fail("DeleteService", args[0]);
  std::printf("%s: deleted\n", args.utf8(0).c_str());
  return 0;
}

int cmd_start(const Args& args) {
  const char* synopsis = "start NAME [--timeout S] [--trace] [-- ARGS...]";
  const Options opt(args, {L"--timeout"}, {L"--trace"}, synopsis);
  if (opt.positional.size() != 1) usage(synopsis);
  const std::wstring& name = opt.positional[0];
  const double timeout_ms = 1000 * _wtof(opt.value(L"--timeout", std::to_wstring(kSettleSeconds)).c_str());
  const bool trace = opt.flag(L"--trace");
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), name, SERVICE_START | SERVICE_QUERY_STATUS);
  std::vector<const wchar_t*> argv;
  for (const auto& a : opt.rest) argv.push_back(a.c_str());
  const ULONGLONG t0 = tick_ms();
  if (!::StartServiceW(svc.get(), static_cast<DWORD>(argv.size()), argv.empty() ? nullptr : argv.data()) &&
      ::GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
    fail("StartServiceW", name);
  DWORD last_state = 0, last_checkpoint = ~0u;
  for (;;) {
    const auto st = query(svc.get(), name);
    const ULONGLONG t = tick_ms() - t0;
    if (trace && (st.dwCurrentState != last_state || st.dwCheckPoint != last_checkpoint)) {
      std::printf("t=%llums %s checkpoint=%lu wait_hint=%lu\n", t, state_name(st.dwCurrentState), st.dwCheckPoint, st.dwWaitHint);
      last_state = st.dwCurrentState;
      last_checkpoint = st.dwCheckPoint;
    }
    if (st.dwCurrentState == SERVICE_RUNNING) {
      if (!trace) print_status(name, st);
      return 0;
    }
    // A STOPPED seen at once may be the state before the SCM took the start in: give it 200 ms.
    if ((st.dwCurrentState == SERVICE_STOPPED && t > 200) || (!pending(st.dwCurrentState) && st.dwCurrentState != SERVICE_STOPPED)) {
      print_status(name, st);
      return 1;
    }
    if (static_cast<double>(t) > timeout_ms) {
      print_status(name, st, " (timeout)");
      return 1;
    }
    ::Sleep(trace ? 2 : 20);  // each query is a wineserver round trip: poll hard only to trace
  }
}

int cmd_stop(const Args& args) {
  const char* synopsis = "stop NAME [--timeout S]";
  const Options opt(args, {L"--timeout"}, {}, synopsis);
  if (opt.positional.size() != 1) usage(synopsis);
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), opt.positional[0], SERVICE_STOP | SERVICE_QUERY_STATUS);
  return stop_service(svc.get(), opt.positional[0], _wtof(opt.value(L"--timeout", std::to_wstring(kSettleSeconds)).c_str()));
}

int cmd_status(const Args& args) {
  if (args.size() != 1) usage("status NAME");
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), args[0], SERVICE_QUERY_STATUS);
  const auto st = query(svc.get(), args[0]);
  print_status(args[0], st);
  return st.dwCurrentState == SERVICE_RUNNING ? 0 : 1;
}

int cmd_wait(const Args& args) {
  if (args.size() != 3 || (args[1] != L"RUNNING" && args[1] != L"STOPPED")) usage("wait NAME RUNNING|STOPPED SECONDS");
  const DWORD want = args[1] == L"RUNNING" ? SERVICE_RUNNING : SERVICE_STOPPED;
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), args[0], SERVICE_QUERY_STATUS);
  const auto st = wait_for(svc.get(), args[0], want, args.real(2));
  print_status(args[0], st);
  return st.dwCurrentState == want ? 0 : 1;
}

int cmd_list() {
  auto scm = open_scm(SC_MANAGER_ENUMERATE_SERVICE);
  DWORD needed = 0, count = 0, resume = 0;
  ::EnumServicesStatusExW(scm.get(), SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL, nullptr, 0, &needed, &count, &resume,
                          nullptr);
  std::vector<BYTE> buf(needed + 4096);
  resume = 0;
  if (!::EnumServicesStatusExW(scm.get(), SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL, buf.data(),
                               static_cast<DWORD>(buf.size()), &needed, &count, &resume, nullptr))
    fail("EnumServicesStatusExW", L"SERVICE_WIN32");
  const auto* rows = reinterpret_cast<const ENUM_SERVICE_STATUS_PROCESSW*>(buf.data());
  for (DWORD i = 0; i < count; ++i) {
    std::printf("%-24s %-13s %s\n", narrow(rows[i].lpServiceName).c_str(), state_name(rows[i].ServiceStatusProcess.dwCurrentState),
                narrow(rows[i].lpDisplayName).c_str());
  }
  return 0;
}

int cmd_paramchange(const Args& args) {
  if (args.size() != 1) usage("paramchange NAME");
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), args[0], SERVICE_PAUSE_CONTINUE);
  SERVICE_STATUS s{};
  if (!::ControlService(svc.get(), SERVICE_CONTROL_PARAMCHANGE, &s)) fail("ControlService(PARAMCHANGE)", args[0]);
  std::printf("paramchange accepted\n");
  return 0;
}

// --- registry ------------------------------------------------------------------------------------

int cmd_deny_key(const Args& args) {
  if (args.size() != 1 && args.size() != 2) usage("deny-key KEY [SDDL]");
  const std::wstring sddl = args.size() == 2 ? args[1] : L"D:(D;;KA;;;WD)";
  unique_hkey key;
  if (LSTATUS rc = ::RegOpenKeyExW(HKEY_LOCAL_MACHINE, args[0].c_str(), 0, WRITE_DAC | KEY_WOW64_64KEY, key.put()); rc != ERROR_SUCCESS)
    fail("RegOpenKeyExW", args[0], static_cast<DWORD>(rc));
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &sd, nullptr))
    fail("ConvertStringSecurityDescriptorToSecurityDescriptorW", sddl);
  const unique_hlocal owned_sd(sd);
  if (LSTATUS rc = ::RegSetKeySecurity(key.get(), DACL_SECURITY_INFORMATION, sd); rc != ERROR_SUCCESS)
    fail("RegSetKeySecurity", args[0], static_cast<DWORD>(rc));
  std::printf("denied\n");
  return 0;
}

/// The REG_MULTI_SZ strings joined by '|'; false when the key or value is absent.
bool read_multi(const std::wstring& key_path, const std::wstring& value, std::string& joined) {
  unique_hkey key;
  if (::RegOpenKeyExW(HKEY_LOCAL_MACHINE, key_path.c_str(), 0, KEY_QUERY_VALUE | KEY_WOW64_64KEY, key.put()) != ERROR_SUCCESS) return false;
  DWORD type = 0, size = 0;
  if (::RegQueryValueExW(key.get(), value.c_str(), nullptr, &type, nullptr, &size) != ERROR_SUCCESS) return false;
  std::vector<wchar_t> buf(size / sizeof(wchar_t) + 2, L'\0');
  if (::RegQueryValueExW(key.get(), value.c_str(), nullptr, &type, reinterpret_cast<BYTE*>(buf.data()), &size) != ERROR_SUCCESS) return false;
  joined.clear();
  const size_t n = size / sizeof(wchar_t);
  for (size_t i = 0; i < n && buf[i] != L'\0';) {
    const std::wstring item(&buf[i]);
    if (i > 0) joined += '|';
    joined += narrow(item);
    i += item.size() + 1;
  }
  return true;
}

void write_multi(const std::wstring& key_path, const std::wstring& value, const std::string& data) {
  std::wstring multi;
  for (char c : data) multi.push_back(c == '|' ? L'\0' : static_cast<wchar_t>(c));
  multi.push_back(L'\0');
  multi.push_back(L'\0');
  unique_hkey key;
  if (LSTATUS rc = ::RegCreateKeyExW(HKEY_LOCAL_MACHINE, key_path.c_str(), 0, nullptr, 0, KEY_SET_VALUE | KEY_WOW64_64KEY, nullptr,
                                     key.put(), nullptr);
      rc != ERROR_SUCCESS)
    fail("RegCreateKeyExW", key_path, static_cast<DWORD>(rc));
  if (LSTATUS rc = ::RegSetValueExW(key.get(), value.c_str(), 0, REG_MULTI_SZ, reinterpret_cast<const BYTE*>(multi.c_str()),
                                    static_cast<DWORD>(multi.size() * sizeof(wchar_t)));
      rc != ERROR_SUCCESS)
    fail("RegSetValueExW", value, static_cast<DWORD>(rc));
}

int cmd_read_multi(const Args& args) {
  if (args.size() != 2) usage("read-multi KEY VALUE");
  std::string joined;
  std::printf("%s\n", read_multi(args[0], args[1], joined) ? joined.c_str() : "<absent>");
  return 0;
}

int cmd_read_sz(const Args& args) {
  if (args.size() != 2) usage("read-sz KEY VALUE");
  wchar_t buf[1024];
  DWORD size = sizeof buf;
  if (::RegGetValueW(HKEY_LOCAL_MACHINE, args[0].c_str(), args[1].c_str(), RRF_RT_REG_SZ, nullptr, buf, &size) != ERROR_SUCCESS) {
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

int cmd_read_dword(const Args& args) {
  if (args.size() != 2) usage("read-dword KEY VALUE");
  DWORD v = 0;
  if (read_dword(args[0], args[1], v)) std::printf("%lu\n", static_cast<unsigned long>(v));
  else std::printf("<absent>\n");
  return 0;
}

int cmd_wait_dword(const Args& args) {
  if (args.size() != 4) usage("wait-dword KEY VALUE EXPECTED TIMEOUT_MS");
  const auto expected = static_cast<DWORD>(args.whole(2));
  const ULONGLONG timeout_ms = args.whole(3), t0 = tick_ms();
  for (;;) {
    DWORD v = 0;
    const bool present = read_dword(args[0], args[1], v);
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

int cmd_wait_multi(const Args& args) {
  if (args.size() != 4) usage("wait-multi KEY VALUE EXPECTED TIMEOUT_MS");
  const std::string expected = args.utf8(2);
  const ULONGLONG timeout_ms = args.whole(3), t0 = tick_ms();
  std::string now;
  for (;;) {
    if (read_multi(args[0], args[1], now) && now == expected) {
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

/// Milliseconds between two QueryPerformanceCounter readings.
double elapsed_ms(const LARGE_INTEGER& from, const LARGE_INTEGER& to) {
  LARGE_INTEGER f;
  ::QueryPerformanceFrequency(&f);
  return static_cast<double>(to.QuadPart - from.QuadPart) * 1000.0 / static_cast<double>(f.QuadPart);
}

int cmd_drift(const Args& args) {
  if (args.size() != 5) usage("drift KEY VALUE DATA EXPECTED TIMEOUT_MS");
  const std::string expected = args.utf8(3);
  const ULONGLONG timeout_ms = args.whole(4);
  LARGE_INTEGER t0, t;
  write_multi(args[0], args[1], args.utf8(2));
  ::QueryPerformanceCounter(&t0);
  std::string now;
  for (;;) {
    ::QueryPerformanceCounter(&t);
    const double ms = elapsed_ms(t0, t);
    if (read_multi(args[0], args[1], now) && now == expected) {
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

std::wstring multi_sz_text(const std::vector<BYTE>& data) {
  std::wstring out;
  for (size_t i = 0; i + 1 < data.size(); i += 2) {
    const wchar_t c = static_cast<wchar_t>(data[i] | (data[i + 1] << 8));
    out.push_back(c == L'\0' ? L';' : c);
  }
  while (!out.empty() && out.back() == L';') out.pop_back();
  return out;
}

int cmd_delete_and_wait(const Args& args) {
  if (args.size() != 2 && args.size() != 3) usage("delete-and-wait KEY VALUE [SECONDS]");
  const std::wstring &key_path = args[0], &value = args[1];
  const double seconds = args.size() == 3 ? args.real(2) : 5.0;
  unique_hkey key;
  if (LSTATUS rc = ::RegOpenKeyExW(HKEY_LOCAL_MACHINE, key_path.c_str(), 0, KEY_READ | KEY_SET_VALUE | KEY_NOTIFY, key.put());
      rc != ERROR_SUCCESS)
    fail("RegOpenKeyExW", key_path, static_cast<DWORD>(rc));
  unique_handle_t changed(::CreateEventW(nullptr, FALSE, FALSE, nullptr));
  // N.B. arm the notification before deleting, or a fast repair could land unseen in between.
  auto arm = [&] {
    if (LSTATUS rc = ::RegNotifyChangeKeyValue(key.get(), FALSE, REG_NOTIFY_CHANGE_LAST_SET, changed.get(), TRUE); rc != ERROR_SUCCESS)
      fail("RegNotifyChangeKeyValue", key_path, static_cast<DWORD>(rc));
  };
  arm();
  LARGE_INTEGER t0, t1;
  if (LSTATUS rc = ::RegDeleteValueW(key.get(), value.c_str()); rc != ERROR_SUCCESS) fail("RegDeleteValueW", value, static_cast<DWORD>(rc));
  ::QueryPerformanceCounter(&t0);
  std::printf("deleted %s\\%s\n", narrow(key_path).c_str(), narrow(value).c_str());
  const ULONGLONG deadline = tick_ms() + static_cast<ULONGLONG>(seconds * 1000);
  for (;;) {
    DWORD type = 0, size = 0;
    if (::RegQueryValueExW(key.get(), value.c_str(), nullptr, &type, nullptr, &size) == ERROR_SUCCESS) {
      ::QueryPerformanceCounter(&t1);
      std::vector<BYTE> data(size);
      ::RegQueryValueExW(key.get(), value.c_str(), nullptr, &type, data.data(), &size);
      std::printf("restored after %.0f ms: %s\n", elapsed_ms(t0, t1), narrow(multi_sz_text(data)).c_str());
      return 0;
    }
    const ULONGLONG now = tick_ms();
    if (now >= deadline) break;
    // Wake on the change, or every 50 ms in case a notification is lost.
    ::WaitForSingleObject(changed.get(), static_cast<DWORD>(std::min<ULONGLONG>(50, deadline - now)));
    arm();
  }
  std::printf("not restored within %.1f s\n", seconds);
  return 1;
}

int cmd_observe(const Args& args) {
  if (args.size() != 5) usage("observe KEY VALUE DRIFTED REPAIRED TIMEOUT_MS");
  const std::string drifted = args.utf8(2), repaired = args.utf8(3);
  const ULONGLONG timeout_ms = args.whole(4);
  LARGE_INTEGER t0, t, t_drift{};
  ::QueryPerformanceCounter(&t0);
  std::printf("ready\n");
  bool seen_drift = false;
  std::string now;
  for (;;) {
    ::QueryPerformanceCounter(&t);
    const bool have = read_multi(args[0], args[1], now);
    if (!seen_drift && have && now == drifted) {
      seen_drift = true;
      t_drift = t;
    } else if (seen_drift && have && now == repaired) {
      std::printf("repair latency %.1f ms\n", elapsed_ms(t_drift, t));
      return 0;
    }
    if (elapsed_ms(t0, t) > static_cast<double>(timeout_ms)) {
      std::printf("%s after %llu ms; value is '%s'\n", seen_drift ? "not repaired" : "drift never seen", timeout_ms, now.c_str());
      return 1;
    }
    ::Sleep(5);
  }
}

int cmd_fight(const Args& args) {
  if (args.size() != 5) usage("fight KEY VALUE DATA SECONDS INTERVAL_MS");
  const std::string data = args.utf8(2);
  const double seconds = args.real(3);
  const auto interval_ms = static_cast<DWORD>(args.whole(4));
  const ULONGLONG t0 = tick_ms();
  unsigned rewrites = 0;
  ULONGLONG last = 0;
  std::string now;
  while (static_cast<double>(tick_ms() - t0) < seconds * 1000) {
    if (!read_multi(args[0], args[1], now) || now != data) {
      write_multi(args[0], args[1], data);
      ++rewrites;
      last = tick_ms() - t0;
    }
    ::Sleep(interval_ms);
  }
  std::printf("fight: %u rewrites, last rewrite at %llu ms\n", rewrites, last);
  return 0;
}

int cmd_tick(const Args& args) {
  if (args.size() != 4) usage("tick KEY VALUE COUNT INTERVAL_MS");
  const auto count = static_cast<int>(args.whole(2));
  for (int i = 1; i <= count; ++i) {
    write_multi(args[0], args[1], "tick-" + std::to_string(i));
    ::Sleep(static_cast<DWORD>(args.whole(3)));
  }
  std::printf("ticks: %d\n", count);
  return 0;
}

int cmd_boot_snapshot() {
  // What tcpip.sys would have read at this boot. Kept apart from the real value so that the guard's
  // repair (live value) and the stack's behaviour (boot value) can differ, as on real 2003.
  const wchar_t* boot_path = L"SOFTWARE\\PortGuardE2E\\Boot";
  unique_hkey boot;
  if (::RegCreateKeyExW(HKEY_LOCAL_MACHINE, boot_path, 0, nullptr, 0, KEY_ALL_ACCESS, nullptr, boot.put(), nullptr) != ERROR_SUCCESS)
    fail("RegCreateKeyExW", boot_path);
  unique_hkey live;
  ::RegOpenKeyExW(HKEY_LOCAL_MACHINE, L"SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters", 0, KEY_READ, live.put());
  std::vector<BYTE> data;
  DWORD type = 0, size = 0;
  const bool present = live && ::RegQueryValueExW(live.get(), L"ReservedPorts", nullptr, &type, nullptr, &size) == ERROR_SUCCESS;
  if (present) {
    data.resize(size);
    ::RegQueryValueExW(live.get(), L"ReservedPorts", nullptr, &type, data.data(), &size);
    if (LSTATUS rc = ::RegSetValueExW(boot.get(), L"ReservedPorts", 0, type, data.data(), size); rc != ERROR_SUCCESS)
      fail("RegSetValueExW", L"ReservedPorts", static_cast<DWORD>(rc));
  } else {
    ::RegDeleteValueW(boot.get(), L"ReservedPorts");
  }
  const DWORD one = 1;
  ::RegSetValueExW(boot.get(), L"Snapshot", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&one), sizeof one);
  std::printf("boot: ReservedPorts %s\n", present ? "recorded" : "absent");
  return 0;
}

// --- files and events ----------------------------------------------------------------------------

/// FILE's whole content, opened as Go's os.ReadFile opens it and closed at once (a handle kept open
/// longer than a reader keeps it would make the writer's rename fail where a real reader does not).
bool read_whole(const std::wstring& path, std::string& text) {
  const unique_file file(::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                                       FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!file) return false;
  char buf[4096];
  DWORD got = 0;
  while (::ReadFile(file.get(), buf, sizeof buf, &got, nullptr) && got > 0) text.append(buf, got);
  return true;
}

int cmd_read_loop(const Args& args) {
  if (args.size() != 3) usage("read-loop FILE SECONDS LAST_PREFIX");
  const double seconds = args.real(1);
  const std::string last_prefix = args.utf8(2);
  const ULONGLONG t0 = tick_ms();
  unsigned reads = 0, partial = 0, missing = 0, versions = 0;
  std::string last;
  while (static_cast<double>(tick_ms() - t0) < seconds * 1000) {
    std::string text;
    if (!read_whole(args[0], text)) {
      ++missing;
      ::Sleep(2);
      continue;
    }
    ++reads;
    const auto cut = text.size() >= 2 ? text.rfind('\n', text.size() - 2) : std::string::npos;
    const std::string last_line = cut == std::string::npos ? text : text.substr(cut + 1);
    if (text.empty() || text.back() != '\n' || last_line.rfind(last_prefix, 0) != 0) {
      ++partial;
      std::printf("partial read %u (%u bytes): ...%s\n", reads, static_cast<unsigned>(text.size()),
                  text.substr(text.size() > 80 ? text.size() - 80 : 0).c_str());
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

int cmd_format_event(const Args& args) {
  if (args.size() < 2) usage("format-event EXE ID [STRINGS...]");
  unique_hmodule module(::LoadLibraryExW(args[0].c_str(), nullptr, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE));
  if (!module) fail("LoadLibraryExW", args[0]);
  const DWORD id = static_cast<DWORD>(wcstoul(args[1].c_str(), nullptr, 0));
  const auto words = args.words();
  std::vector<DWORD_PTR> inserts;
  for (size_t i = 2; i < words.size(); ++i) inserts.push_back(reinterpret_cast<DWORD_PTR>(words[i].c_str()));
  // Like Event Viewer: fewer strings than placeholders must not read garbage.
  while (inserts.size() < 32) inserts.push_back(reinterpret_cast<DWORD_PTR>(L""));
  // The event ID is the message ID's low word; try the severity variants a .mc may have used.
  for (DWORD severity : {0x00000000u, 0x40000000u, 0x80000000u, 0xC0000000u}) {
    wchar_t* buf = nullptr;
    const DWORD n = ::FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                                     module.get(), id | severity, 0, reinterpret_cast<wchar_t*>(&buf), 0,
                                     reinterpret_cast<va_list*>(inserts.data()));
    const unique_hlocal owned(buf);
    if (n && buf) {
      std::wstring text(buf, n);
      while (!text.empty() && (text.back() == L'\r' || text.back() == L'\n')) text.pop_back();
      std::printf("%s\n", narrow(text).c_str());
      return 0;
    }
  }
  std::printf("(no text for event %lu in the message table)\n", id);
  return 1;
}

int run(const std::wstring& command, const Args& args) {
  if (command == L"create") return cmd_create(args);
  if (command == L"delete") return cmd_delete(args);
  if (command == L"start") return cmd_start(args);
  if (command == L"stop") return cmd_stop(args);
  if (command == L"status") return cmd_status(args);
  if (command == L"wait") return cmd_wait(args);
  if (command == L"list") return cmd_list();
  if (command == L"paramchange") return cmd_paramchange(args);
  if (command == L"deny-key") return cmd_deny_key(args);
  if (command == L"read-multi") return cmd_read_multi(args);
  if (command == L"read-sz") return cmd_read_sz(args);
  if (command == L"read-dword") return cmd_read_dword(args);
  if (command == L"wait-dword") return cmd_wait_dword(args);
  if (command == L"wait-multi") return cmd_wait_multi(args);
  if (command == L"drift") return cmd_drift(args);
  if (command == L"delete-and-wait") return cmd_delete_and_wait(args);
  if (command == L"observe") return cmd_observe(args);
  if (command == L"fight") return cmd_fight(args);
  if (command == L"tick") return cmd_tick(args);
  if (command == L"boot-snapshot") return cmd_boot_snapshot();
  if (command == L"read-loop") return cmd_read_loop(args);
  if (command == L"format-event") return cmd_format_event(args);
  throw ToolError("unknown command '" + narrow(command) + "' (the commands are listed in tests/support/scm_helper.cpp)");
}

} // namespace

int wmain(int argc, wchar_t** argv) {
  // Unbuffered: what was printed survives if the process dies early (a scenario that sees no
  // output at all cannot tell how far the helper got).
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  try {
    if (argc < 2) usage("COMMAND ... (the commands are listed in tests/support/scm_helper.cpp)");
    return run(argv[1], Args(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg-scm: %s\n", e.what());
    return 2;
  }
}
