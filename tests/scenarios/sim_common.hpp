#pragma once
// Shared plumbing of the end-to-end scenario programs (dns-sim, radius-sim): a minimal but real
// Windows service host, registry readers for the reservation mechanisms the OS honours, and a
// line log in C:\e2e\ that the scenario scripts read (a service's stdout/stderr is not reliably
// visible under Wine: it goes to whichever wine command started the prefix's services.exe).
//
// These are test programs, not product code: they model the behaviour of the Windows services
// PortGuard protects (DNS, IAS), so they stay independent of PortGuard's own libraries.
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <cstdarg>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "win32_tool.hpp"

namespace e2e {

using portguard::win32::unique_hkey;

struct PortRange {
  unsigned first = 0;
  unsigned last = 0;
  bool contains(unsigned p) const { return p >= first && p <= last; }
};

using win32_tool::error_text;
using win32_tool::narrow;

inline const char* wsa_name(int code) {
  switch (code) {
    case WSAEADDRINUSE: return "WSAEADDRINUSE";
    case WSAEACCES: return "WSAEACCES";
    case WSAEADDRNOTAVAIL: return "WSAEADDRNOTAVAIL";
    default: return "WSA error";
  }
}

/// Appends timestamped lines to C:\e2e\<name>.log (created on demand). Missing directory or file
/// are created; a log that cannot be opened only costs the log, never the service.
class Log {
public:
  explicit Log(const std::wstring& name) {
    ::CreateDirectoryW(L"C:\\e2e", nullptr);
    const std::wstring path = L"C:\\e2e\\" + name + L".log";
    file_ = _wfopen(path.c_str(), L"ab");
  }
  ~Log() {
    if (file_) std::fclose(file_);
  }
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  void line(const char* fmt, ...) __attribute__((format(gnu_printf, 2, 3))) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (file_) {
      std::fprintf(file_, "%s\n", buf);
      std::fflush(file_);
    }
    if (echo_) {
      std::fprintf(stderr, "%s\n", buf);
      std::fflush(stderr);
    }
  }
  void set_echo(bool on) { echo_ = on; }

private:
  FILE* file_ = nullptr;
  bool echo_ = false;
};

inline unique_hkey open_key(const std::wstring& path) {
  unique_hkey key;
  if (::RegOpenKeyExW(HKEY_LOCAL_MACHINE, path.c_str(), 0, KEY_READ, key.put()) != ERROR_SUCCESS) return {};
  return key;
}

/// A REG_DWORD value; nullopt when the key or value is missing or has another type.
inline std::optional<DWORD> read_dword(const std::wstring& key_path, const wchar_t* name) {
  auto key = open_key(key_path);
  if (!key) return std::nullopt;
  DWORD type = 0, value = 0, size = sizeof value;
  if (::RegQueryValueExW(key.get(), name, nullptr, &type, reinterpret_cast<BYTE*>(&value), &size) != ERROR_SUCCESS ||
      type != REG_DWORD)
    return std::nullopt;
  return value;
}

/// A REG_SZ value; nullopt when missing.
inline std::optional<std::wstring> read_string(const std::wstring& key_path, const wchar_t* name) {
  auto key = open_key(key_path);
  if (!key) return std::nullopt;
  DWORD type = 0, size = 0;
  if (::RegQueryValueExW(key.get(), name, nullptr, &type, nullptr, &size) != ERROR_SUCCESS ||
      (type != REG_SZ && type != REG_EXPAND_SZ))
    return std::nullopt;
  std::wstring s(size / sizeof(wchar_t) + 1, L'\0');
  if (::RegQueryValueExW(key.get(), name, nullptr, &type, reinterpret_cast<BYTE*>(s.data()), &size) != ERROR_SUCCESS)
    return std::nullopt;
  s.resize(wcsnlen(s.c_str(), s.size()));
  return s;
}

/// The strings of a REG_MULTI_SZ (or a single REG_SZ, which some admins write by mistake);
/// nullopt when the value is missing. A missing final terminator is tolerated.
inline std::optional<std::vector<std::wstring>> read_multi_sz(const std::wstring& key_path, const wchar_t* name) {
  auto key = open_key(key_path);
  if (!key) return std::nullopt;
  DWORD type = 0, size = 0;
  if (::RegQueryValueExW(key.get(), name, nullptr, &type, nullptr, &size) != ERROR_SUCCESS) return std::nullopt;
  if (type != REG_MULTI_SZ && type != REG_SZ) return std::nullopt;
  std::vector<wchar_t> buf(size / sizeof(wchar_t) + 2, L'\0');
  if (::RegQueryValueExW(key.get(), name, nullptr, &type, reinterpret_cast<BYTE*>(buf.data()), &size) != ERROR_SUCCESS)
    return std::nullopt;
  std::vector<std::wstring> out;
  std::wstring cur;
  for (size_t i = 0; i < size / sizeof(wchar_t); ++i) {
    if (buf[i] == L'\0') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(buf[i]);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

/// "1645-1646" or "1645" -> range; nullopt for anything else (the OS ignores such entries too).
inline std::optional<PortRange> parse_range(const std::wstring& s) {
  unsigned a = 0, b = 0;
  wchar_t tail = 0;
  if (swscanf(s.c_str(), L" %u - %u %lc", &a, &b, &tail) == 2 && a >= 1 && b <= 65535 && a <= b) return PortRange{a, b};
  if (swscanf(s.c_str(), L" %u %lc", &a, &tail) == 1 && a >= 1 && a <= 65535) return PortRange{a, a};
  return std::nullopt;
}

/// Major/minor version the prefix reports. RtlGetVersion is not subject to the manifest-based
/// version lie of GetVersionExW, so it reports what `winecfg -v` configured.
inline std::pair<DWORD, DWORD> os_version() {
  using RtlGetVersionFn = LONG(WINAPI*)(OSVERSIONINFOW*);
  OSVERSIONINFOW vi{};
  vi.dwOSVersionInfoSize = sizeof vi;
  if (HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll")) {
    auto fn = reinterpret_cast<RtlGetVersionFn>(reinterpret_cast<void*>(::GetProcAddress(ntdll, "RtlGetVersion")));
    if (fn && fn(&vi) == 0) return {vi.dwMajorVersion, vi.dwMinorVersion};
  }
  return {0, 0};
}

inline constexpr wchar_t kTcpipParameters[] = L"SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters";
inline std::wstring service_parameters(const std::wstring& service) {
  return L"SYSTEM\\CurrentControlSet\\Services\\" + service + L"\\Parameters";
}

/// The smallest service host that behaves like a real one: START_PENDING, RUNNING once the work
/// that can fail is done, STOP through an event, STOPPED with the Win32 exit code of the failure.
/// Each program supplies `start` (returns 0 or a Win32 error; may keep resources until stop).
class ServiceHost {
public:
  using StartFn = DWORD (*)(int argc, wchar_t** argv, Log& log);
  using ReleaseFn = void (*)();

  static ServiceHost& instance() {
    static ServiceHost host;
    return host;
  }

  /// Runs under the SCM. Returns false when not started by the SCM (then run_console applies).
  /// `release` frees what `start` kept (sockets) and runs before every SERVICE_STOPPED report: a
  /// real service closes its sockets before it reports STOPPED, and ports held until the process
  /// exits would make a start right after the stop fail with WSAEADDRINUSE.
  bool run_as_service(const wchar_t* name, StartFn start, Log& log, ReleaseFn release = nullptr) {
    name_ = name;
    start_ = start;
    release_ = release;
    log_ = &log;
    SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(name), &ServiceHost::service_main}, {nullptr, nullptr}};
    return ::StartServiceCtrlDispatcherW(table) != FALSE;
  }

  /// Console mode: start, then wait for Enter/EOF or Ctrl+C; the exit code is the Win32 error.
  int run_console(int argc, wchar_t** argv, StartFn start, Log& log, bool wait) {
    log.set_echo(true);
    const DWORD rc = start(argc, argv, log);
    if (rc != 0 || !wait) return static_cast<int>(rc);
    std::getchar();
    return 0;
  }

private:
  static void WINAPI service_main(DWORD argc, wchar_t** argv) {
    auto& self = instance();
    self.status_handle_ = ::RegisterServiceCtrlHandlerExW(self.name_.c_str(), &ServiceHost::handler, &self);
    if (!self.status_handle_) return;
    self.stop_.reset(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
    self.report(SERVICE_START_PENDING, 0, 5000);
    DWORD rc = 0;
    try {
      rc = self.start_(static_cast<int>(argc), argv, *self.log_);
    } catch (...) {
      rc = ERROR_EXCEPTION_IN_SERVICE;
    }
    if (rc != 0) {
      if (self.release_) self.release_();
      self.report(SERVICE_STOPPED, rc, 0);
      return;
    }
    self.report(SERVICE_RUNNING, 0, 0);
    ::WaitForSingleObject(self.stop_.get(), INFINITE);
    if (self.release_) self.release_();
    self.report(SERVICE_STOPPED, 0, 0);
  }

  static DWORD WINAPI handler(DWORD control, DWORD, void*, void* context) {
    auto* self = static_cast<ServiceHost*>(context);
    switch (control) {
      case SERVICE_CONTROL_STOP:
      case SERVICE_CONTROL_SHUTDOWN:
        self->report(SERVICE_STOP_PENDING, 0, 3000);
        ::SetEvent(self->stop_.get());
        return NO_ERROR;
      case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
      default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
  }

  void report(DWORD state, DWORD exit_code, DWORD wait_hint) {
    SERVICE_STATUS st{};
    st.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    st.dwCurrentState = state;
    st.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    st.dwWin32ExitCode = exit_code;
    st.dwCheckPoint = (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING) ? ++checkpoint_ : 0;
    st.dwWaitHint = wait_hint;
    ::SetServiceStatus(status_handle_, &st);
  }

  std::wstring name_;
  StartFn start_ = nullptr;
  ReleaseFn release_ = nullptr;
  Log* log_ = nullptr;
  SERVICE_STATUS_HANDLE status_handle_ = nullptr;
  portguard::win32::unique_handle_t stop_;
  DWORD checkpoint_ = 0;
};

/// Owns the UDP sockets a simulated service holds for its lifetime.
class SocketSet {
public:
  void close_all() { sockets_.clear(); }
  /// Binds UDP 0.0.0.0:port. Returns 0 or the WinSock error (WSAEADDRINUSE / WSAEACCES when held).
  int bind_udp(unsigned port, bool exclusive) {
    portguard::win32::unique_socket s(::socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP));
    if (!s) return ::WSAGetLastError();
    if (exclusive) {
      BOOL on = TRUE;
      ::setsockopt(s.get(), SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&on), sizeof on);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(static_cast<u_short>(port));
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == SOCKET_ERROR) return ::WSAGetLastError();
    sockets_.push_back(std::move(s));
    return 0;
  }
  size_t size() const { return sockets_.size(); }

private:
  std::vector<portguard::win32::unique_socket> sockets_;
};

/// "--name value" lookup in an argv; nullptr when absent.
inline const wchar_t* arg_value(int argc, wchar_t** argv, const wchar_t* name) {
  for (int i = 0; i + 1 < argc; ++i)
    if (wcscmp(argv[i], name) == 0) return argv[i + 1];
  return nullptr;
}
inline bool has_flag(int argc, wchar_t** argv, const wchar_t* name) {
  for (int i = 0; i < argc; ++i)
    if (wcscmp(argv[i], name) == 0) return true;
  return false;
}

} // namespace e2e
