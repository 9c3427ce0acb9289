// e2e-svc.exe: the scenario scripts' hands on the Service Control Manager of a Wine prefix, using
// the SCM API directly (`wine sc` cannot be trusted: `depend=` writes garbage, `qc` prints nothing).
//
//   e2e-svc create NAME BINARY [auto|demand] [DISPLAY NAME]   CreateServiceW, own process, LocalSystem
//   e2e-svc delete NAME                                        stops it first if running
//   e2e-svc start NAME [ARGS...]    StartServiceW, waits for RUNNING or STOPPED (20 s);
//                                   exit 0 RUNNING, 1 failed to start (prints the Win32 exit code)
//   e2e-svc stop NAME               waits for STOPPED; exit 0 (also when it was not running)
//   e2e-svc status NAME             "NAME: RUNNING" ...; exit 0 only when RUNNING
//   e2e-svc wait NAME STATE SECONDS waits until the service reaches STATE (RUNNING/STOPPED)
//   e2e-svc list                    Win32 services: name, state, pid, display name
//   e2e-svc drift KEY VALUE [SECONDS]  an admin tool deletes HKLM\KEY\VALUE; waits (RegNotifyChangeKeyValue)
//                                   until something writes it back; prints "restored after N ms: DATA";
//                                   exit 0 restored, 1 not within SECONDS (default 5)
//   e2e-svc format-event EXE ID [STRINGS...]  the event's text as Event Viewer shows it: EXE's message
//                                   table (FormatMessageW) with the insertion strings; exit 1 if unresolved
//   e2e-svc boot-snapshot           records Tcpip ReservedPorts as this "boot" saw it, for dns-sim
//                                   (tcpip.sys reads ReservedPorts only at boot)
// Exit 2 on usage or API errors, with the API name and the Win32 error text.
#include "sim_common.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

// Milliseconds on a monotonic clock (GetTickCount64 is Vista+; the headers target 2003).
static ULONGLONG tick_ms() {
  return static_cast<ULONGLONG>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

namespace {

using portguard::win32::unique_schandle;

struct ApiError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const char* api, const std::wstring& what, DWORD code = ::GetLastError()) {
  throw ApiError(std::string(api) + "(" + e2e::narrow(what) + ") failed: " + e2e::error_text(code) + " (Win32 error " +
                 std::to_string(code) + ")");
}

const char* state_name(DWORD s) {
  switch (s) {
    case SERVICE_STOPPED: return "STOPPED";
    case SERVICE_START_PENDING: return "START_PENDING";
    case SERVICE_STOP_PENDING: return "STOP_PENDING";
    case SERVICE_RUNNING: return "RUNNING";
    case SERVICE_CONTINUE_PENDING: return "CONTINUE_PENDING";
    case SERVICE_PAUSE_PENDING: return "PAUSE_PENDING";
    case SERVICE_PAUSED: return "PAUSED";
    default: return "UNKNOWN";
  }
}

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

/// How long start and stop wait for a service to settle: generous, because a loaded 2-core machine
/// can take seconds to start a Wine process; the wait ends as soon as the service has settled.
constexpr double kSettleSeconds = 60;

/// Polls until the service leaves the pending states (or reaches `want`), up to `seconds`.
SERVICE_STATUS_PROCESS wait_settled(SC_HANDLE svc, const std::wstring& name, DWORD want, double seconds) {
  const ULONGLONG deadline = tick_ms() + static_cast<ULONGLONG>(seconds * 1000);
  for (;;) {
    auto st = query(svc, name);
    const bool pending = st.dwCurrentState == SERVICE_START_PENDING || st.dwCurrentState == SERVICE_STOP_PENDING ||
                         st.dwCurrentState == SERVICE_CONTINUE_PENDING || st.dwCurrentState == SERVICE_PAUSE_PENDING;
    if ((want != 0 && st.dwCurrentState == want) || (want == 0 && !pending) || tick_ms() > deadline) return st;
    ::Sleep(20);
  }
}

void print_status(const std::wstring& name, const SERVICE_STATUS_PROCESS& st) {
  std::printf("%s: %s", e2e::narrow(name).c_str(), state_name(st.dwCurrentState));
  if (st.dwCurrentState == SERVICE_STOPPED && st.dwWin32ExitCode != 0) {
    DWORD code = st.dwWin32ExitCode;
    if (code == ERROR_SERVICE_SPECIFIC_ERROR) {
      std::printf(", service-specific exit code %lu", st.dwServiceSpecificExitCode);
    } else {
      std::printf(", Win32 exit code %lu: %s", code, e2e::error_text(code).c_str());
    }
  }
  std::printf("\n");
  std::fflush(stdout);
}

int cmd_create(int argc, wchar_t** argv) {
  if (argc < 4) throw ApiError("usage: e2e-svc create NAME BINARY [auto|demand] [DISPLAY NAME]");
  const std::wstring name = argv[2];
  std::wstring binary = argv[3];
  if (binary.find(L' ') != std::wstring::npos && binary.front() != L'"') binary = L"\"" + binary + L"\"";
  const DWORD start_type = (argc > 4 && wcscmp(argv[4], L"auto") == 0) ? SERVICE_AUTO_START : SERVICE_DEMAND_START;
  const std::wstring display = argc > 5 ? argv[5] : name;
  auto scm = open_scm(SC_MANAGER_CREATE_SERVICE);
  unique_schandle svc(::CreateServiceW(scm.get(), name.c_str(), display.c_str(), SERVICE_ALL_ACCESS,
                                       SERVICE_WIN32_OWN_PROCESS, start_type, SERVICE_ERROR_NORMAL, binary.c_str(),
                                       nullptr, nullptr, nullptr, nullptr, nullptr));
  if (!svc) fail("CreateServiceW", name);
  std::printf("%s: created (%s start)\n", e2e::narrow(name).c_str(), start_type == SERVICE_AUTO_START ? "auto" : "demand");
  return 0;
}

int cmd_stop_impl(SC_HANDLE svc, const std::wstring& name) {
  auto st = query(svc, name);
  if (st.dwCurrentState != SERVICE_STOPPED) {
    SERVICE_STATUS ss{};
    if (!::ControlService(svc, SERVICE_CONTROL_STOP, &ss) && ::GetLastError() != ERROR_SERVICE_NOT_ACTIVE)
      fail("ControlService(STOP)", name);
    st = wait_settled(svc, name, SERVICE_STOPPED, kSettleSeconds);
  }
  print_status(name, st);
  return st.dwCurrentState == SERVICE_STOPPED ? 0 : 1;
}

int cmd_delete(int argc, wchar_t** argv) {
  if (argc < 3) throw ApiError("usage: e2e-svc delete NAME");
  const std::wstring name = argv[2];
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), name, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
  cmd_stop_impl(svc.get(), name);
  if (!::DeleteService(svc.get())) fail("DeleteService", name);
  std::printf("%s: deleted\n", e2e::narrow(name).c_str());
  return 0;
}

int cmd_start(int argc, wchar_t** argv) {
  if (argc < 3) throw ApiError("usage: e2e-svc start NAME [ARGS...]");
  const std::wstring name = argv[2];
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), name, SERVICE_START | SERVICE_QUERY_STATUS);
  std::vector<const wchar_t*> args;
  for (int i = 3; i < argc; ++i) args.push_back(argv[i]);
  if (!::StartServiceW(svc.get(), static_cast<DWORD>(args.size()), args.empty() ? nullptr : args.data()) &&
      ::GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
    fail("StartServiceW", name);
  const auto st = wait_settled(svc.get(), name, 0, kSettleSeconds);
  print_status(name, st);
  return st.dwCurrentState == SERVICE_RUNNING ? 0 : 1;
}

int cmd_stop(int argc, wchar_t** argv) {
  if (argc < 3) throw ApiError("usage: e2e-svc stop NAME");
  const std::wstring name = argv[2];
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), name, SERVICE_STOP | SERVICE_QUERY_STATUS);
  return cmd_stop_impl(svc.get(), name);
}

int cmd_status(int argc, wchar_t** argv) {
  if (argc < 3) throw ApiError("usage: e2e-svc status NAME");
  const std::wstring name = argv[2];
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), name, SERVICE_QUERY_STATUS);
  const auto st = query(svc.get(), name);
  print_status(name, st);
  return st.dwCurrentState == SERVICE_RUNNING ? 0 : 1;
}

int cmd_wait(int argc, wchar_t** argv) {
  if (argc < 5) throw ApiError("usage: e2e-svc wait NAME RUNNING|STOPPED SECONDS");
  const std::wstring name = argv[2];
  const DWORD want = wcscmp(argv[3], L"RUNNING") == 0 ? SERVICE_RUNNING : SERVICE_STOPPED;
  auto scm = open_scm(SC_MANAGER_CONNECT);
  auto svc = open_service(scm.get(), name, SERVICE_QUERY_STATUS);
  const auto st = wait_settled(svc.get(), name, want, _wtof(argv[4]));
  print_status(name, st);
  return st.dwCurrentState == want ? 0 : 1;
}

int cmd_list() {
  auto scm = open_scm(SC_MANAGER_ENUMERATE_SERVICE);
  DWORD needed = 0, count = 0, resume = 0;
  ::EnumServicesStatusExW(scm.get(), SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL, nullptr, 0, &needed, &count,
                          &resume, nullptr);
  std::vector<BYTE> buf(needed + 4096);
  resume = 0;
  if (!::EnumServicesStatusExW(scm.get(), SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL, buf.data(),
                               static_cast<DWORD>(buf.size()), &needed, &count, &resume, nullptr))
    fail("EnumServicesStatusExW", L"SERVICE_WIN32");
  auto* rows = reinterpret_cast<ENUM_SERVICE_STATUS_PROCESSW*>(buf.data());
  for (DWORD i = 0; i < count; ++i) {
    std::printf("%-24s %-13s %s\n", e2e::narrow(rows[i].lpServiceName).c_str(),
                state_name(rows[i].ServiceStatusProcess.dwCurrentState), e2e::narrow(rows[i].lpDisplayName).c_str());
  }
  return 0;
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

int cmd_drift(int argc, wchar_t** argv) {
  if (argc < 4) throw ApiError("usage: e2e-svc drift KEY VALUE [SECONDS]");
  const std::wstring key_path = argv[2], value = argv[3];
  const double seconds = argc > 4 ? _wtof(argv[4]) : 5.0;
  portguard::win32::unique_hkey key;
  if (LSTATUS rc = ::RegOpenKeyExW(HKEY_LOCAL_MACHINE, key_path.c_str(), 0, KEY_READ | KEY_SET_VALUE | KEY_NOTIFY, key.put());
      rc != ERROR_SUCCESS)
    fail("RegOpenKeyExW", key_path, static_cast<DWORD>(rc));
  portguard::win32::unique_handle_t changed(::CreateEventW(nullptr, FALSE, FALSE, nullptr));
  // N.B. arm the notification before deleting, or a fast repair could land unseen in between.
  auto arm = [&] {
    if (LSTATUS rc = ::RegNotifyChangeKeyValue(key.get(), FALSE, REG_NOTIFY_CHANGE_LAST_SET, changed.get(), TRUE);
        rc != ERROR_SUCCESS)
      fail("RegNotifyChangeKeyValue", key_path, static_cast<DWORD>(rc));
  };
  arm();
  LARGE_INTEGER freq, t0, t1;
  ::QueryPerformanceFrequency(&freq);
  if (LSTATUS rc = ::RegDeleteValueW(key.get(), value.c_str()); rc != ERROR_SUCCESS)
    fail("RegDeleteValueW", value, static_cast<DWORD>(rc));
  ::QueryPerformanceCounter(&t0);
  std::printf("deleted %s\\%s\n", e2e::narrow(key_path).c_str(), e2e::narrow(value).c_str());
  const ULONGLONG deadline = tick_ms() + static_cast<ULONGLONG>(seconds * 1000);
  for (;;) {
    DWORD type = 0, size = 0;
    if (::RegQueryValueExW(key.get(), value.c_str(), nullptr, &type, nullptr, &size) == ERROR_SUCCESS) {
      ::QueryPerformanceCounter(&t1);
      std::vector<BYTE> data(size);
      ::RegQueryValueExW(key.get(), value.c_str(), nullptr, &type, data.data(), &size);
      const double ms = 1000.0 * static_cast<double>(t1.QuadPart - t0.QuadPart) / static_cast<double>(freq.QuadPart);
      std::printf("restored after %.0f ms: %s\n", ms, e2e::narrow(multi_sz_text(data)).c_str());
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

int cmd_format_event(int argc, wchar_t** argv) {
  if (argc < 4) throw ApiError("usage: e2e-svc format-event EXE ID [STRINGS...]");
  portguard::win32::unique_hmodule module(
      ::LoadLibraryExW(argv[2], nullptr, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE));
  if (!module) fail("LoadLibraryExW", argv[2]);
  const DWORD id = static_cast<DWORD>(wcstoul(argv[3], nullptr, 0));
  std::vector<DWORD_PTR> args;
  for (int i = 4; i < argc; ++i) args.push_back(reinterpret_cast<DWORD_PTR>(argv[i]));
  // Like Event Viewer: fewer strings than placeholders must not read garbage.
  while (args.size() < 32) args.push_back(reinterpret_cast<DWORD_PTR>(L""));
  // The event ID is the message ID's low word; try the severity variants a .mc may have used.
  for (DWORD sev : {0x00000000u, 0x40000000u, 0x80000000u, 0xC0000000u}) {
    wchar_t* buf = nullptr;
    const DWORD n = ::FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                                     module.get(), id | sev, 0, reinterpret_cast<wchar_t*>(&buf), 0,
                                     reinterpret_cast<va_list*>(args.data()));
    if (n && buf) {
      std::wstring text(buf, n);
      ::LocalFree(buf);
      while (!text.empty() && (text.back() == L'\r' || text.back() == L'\n')) text.pop_back();
      std::printf("%s\n", e2e::narrow(text).c_str());
      return 0;
    }
  }
  std::printf("(no text for event %lu in the message table)\n", id);
  return 1;
}

int cmd_boot_snapshot() {
  // What tcpip.sys would have read at this boot. Kept apart from the real value so that the guard's
  // repair (live value) and the stack's behaviour (boot value) can differ, as on real 2003.
  portguard::win32::unique_hkey boot;
  if (::RegCreateKeyExW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\PortGuardE2E\\Boot", 0, nullptr, 0, KEY_ALL_ACCESS, nullptr,
                        boot.put(), nullptr) != ERROR_SUCCESS)
    fail("RegCreateKeyExW", L"SOFTWARE\\PortGuardE2E\\Boot");
  auto live = e2e::open_key(e2e::kTcpipParameters);
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

} // namespace

int wmain(int argc, wchar_t** argv) {
  // Unbuffered: what was printed survives if the process dies early (a scenario that sees no
  // output at all cannot tell how far the helper got).
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  try {
    if (argc < 2) throw ApiError("usage: e2e-svc create|delete|start|stop|status|wait|list|boot-snapshot ...");
    const std::wstring cmd = argv[1];
    if (cmd == L"create") return cmd_create(argc, argv);
    if (cmd == L"delete") return cmd_delete(argc, argv);
    if (cmd == L"start") return cmd_start(argc, argv);
    if (cmd == L"stop") return cmd_stop(argc, argv);
    if (cmd == L"status") return cmd_status(argc, argv);
    if (cmd == L"wait") return cmd_wait(argc, argv);
    if (cmd == L"list") return cmd_list();
    if (cmd == L"boot-snapshot") return cmd_boot_snapshot();
    if (cmd == L"drift") return cmd_drift(argc, argv);
    if (cmd == L"format-event") return cmd_format_event(argc, argv);
    throw ApiError("e2e-svc: unknown command '" + e2e::narrow(cmd) + "'");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "e2e-svc: %s\n", e.what());
    return 2;
  }
}
