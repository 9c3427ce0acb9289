#include "win32/system_probe.hpp"

#include "portguard/core/exclusions.hpp"

#include "portguard/core/backup_store.hpp"
#include "portguard/core/error.hpp"
#include "portguard/core/port_list_codec.hpp"
#include "win32/registry_store.hpp"
#include "win32/unique_handle.hpp"
#include "win32/win32_error.hpp"

// winsock2 before windows.h (via the headers above, WIN32_LEAN_AND_MEAN keeps winsock.h out).
#include <winsock2.h>
#include <ws2tcpip.h>
#include <iphlpapi.h>
#include <tlhelp32.h>
#include <wbemidl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

namespace portguard::win32 {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Case-insensitive glob with '*' only (service and subkey names).
bool glob(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern.front() == '*') {
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (glob(pattern.substr(1), text.substr(i))) return true;
    }
    return false;
  }
  return !text.empty() && std::tolower(static_cast<unsigned char>(pattern.front())) == std::tolower(static_cast<unsigned char>(text.front())) &&
         glob(pattern.substr(1), text.substr(1));
}

ServiceState state_of(DWORD s) {
  switch (s) {
    case SERVICE_STOPPED: return ServiceState::stopped;
    case SERVICE_START_PENDING: return ServiceState::start_pending;
    case SERVICE_STOP_PENDING: return ServiceState::stop_pending;
    case SERVICE_RUNNING: return ServiceState::running;
    case SERVICE_CONTINUE_PENDING: return ServiceState::continue_pending;
    case SERVICE_PAUSE_PENDING: return ServiceState::pause_pending;
    case SERVICE_PAUSED: return ServiceState::paused;
    default: return ServiceState::unknown;
  }
}

/// Winsock for the process lifetime (the probe can run many times in the service).
void ensure_winsock() {
  static const int started = [] {
    WSADATA data;
    return ::WSAStartup(MAKEWORD(2, 2), &data);
  }();
  if (started != 0) throw Win32Error(static_cast<DWORD>(started), "WSAStartup");
}

using ProcessNames = std::map<DWORD, std::string>;

/// Image names by PID: one Toolhelp snapshot (a few ms under Wine), shared by a capture's users.
ProcessNames process_names() {
  ProcessNames names;
  unique_file snap(::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0));
  if (!snap) return names;   // not fatal: holders stay anonymous
  PROCESSENTRY32W entry{};
  entry.dwSize = sizeof entry;
  for (BOOL ok = ::Process32FirstW(snap.get(), &entry); ok; ok = ::Process32NextW(snap.get(), &entry)) {
    names[entry.th32ProcessID] = narrow(entry.szExeFile);
  }
  return names;
}

template <typename Fn>
std::vector<std::uint8_t> read_table(Fn call, const char* api) {
  std::vector<std::uint8_t> buffer(16 * 1024);
  for (int attempt = 0; attempt < 8; ++attempt) {
    DWORD size = static_cast<DWORD>(buffer.size());
    const DWORD rc = call(buffer.data(), &size);
    if (rc == NO_ERROR) return buffer;
    if (rc == ERROR_INSUFFICIENT_BUFFER) {
      buffer.resize(static_cast<std::size_t>(size) + 4096);
      continue;
    }
    if (rc == ERROR_NOT_SUPPORTED) return {};   // e.g. no IPv6 stack
    throw Win32Error(rc, api);
  }
  throw Error(std::string(api) + ": the table kept growing; try again");
}

struct RawBound {
  Protocol protocol;
  Port port;
  DWORD pid;
};

std::vector<RawBound> raw_bound_ports() {
  std::vector<RawBound> out;
  for (ULONG family : {AF_INET, AF_INET6}) {
    auto udp = read_table([&](void* p, DWORD* s) { return ::GetExtendedUdpTable(p, s, FALSE, family, UDP_TABLE_OWNER_PID, 0); }, "GetExtendedUdpTable");
    if (!udp.empty()) {
      if (family == AF_INET) {
        const auto* t = reinterpret_cast<const MIB_UDPTABLE_OWNER_PID*>(udp.data());
        for (DWORD i = 0; i < t->dwNumEntries; ++i) out.push_back({Protocol::udp, ::ntohs(static_cast<u_short>(t->table[i].dwLocalPort)), t->table[i].dwOwningPid});
      } else {
        const auto* t = reinterpret_cast<const MIB_UDP6TABLE_OWNER_PID*>(udp.data());
        for (DWORD i = 0; i < t->dwNumEntries; ++i) out.push_back({Protocol::udp, ::ntohs(static_cast<u_short>(t->table[i].dwLocalPort)), t->table[i].dwOwningPid});
      }
    }
    auto tcp = read_table([&](void* p, DWORD* s) { return ::GetExtendedTcpTable(p, s, FALSE, family, TCP_TABLE_OWNER_PID_ALL, 0); }, "GetExtendedTcpTable");
    if (!tcp.empty()) {
      if (family == AF_INET) {
        const auto* t = reinterpret_cast<const MIB_TCPTABLE_OWNER_PID*>(tcp.data());
        for (DWORD i = 0; i < t->dwNumEntries; ++i) {
          // A TIME_WAIT row belongs to no process any more: it is not a holder to report.
          if (t->table[i].dwState == MIB_TCP_STATE_TIME_WAIT) continue;
          out.push_back({Protocol::tcp, ::ntohs(static_cast<u_short>(t->table[i].dwLocalPort)), t->table[i].dwOwningPid});
        }
      } else {
        const auto* t = reinterpret_cast<const MIB_TCP6TABLE_OWNER_PID*>(tcp.data());
        for (DWORD i = 0; i < t->dwNumEntries; ++i) {
          if (t->table[i].dwState == MIB_TCP_STATE_TIME_WAIT) continue;
          out.push_back({Protocol::tcp, ::ntohs(static_cast<u_short>(t->table[i].dwLocalPort)), t->table[i].dwOwningPid});
        }
      }
    }
  }
  return out;
}

std::optional<std::uint64_t> process_start_unix(DWORD pid) {
  if (pid == 0) return std::nullopt;
  // The limited right (Vista+) is all Windows 8.1+ grants on services.exe, a protected process;
  // 2003 knows only the full one.
  constexpr DWORD query_limited_information = 0x1000;   // PROCESS_QUERY_LIMITED_INFORMATION
  unique_handle_t process(::OpenProcess(query_limited_information, FALSE, pid));
  if (!process) process.reset(::OpenProcess(PROCESS_QUERY_INFORMATION, FALSE, pid));
  if (!process) return std::nullopt;
  FILETIME created{}, exited{}, kernel{}, user{};
  if (!::GetProcessTimes(process.get(), &created, &exited, &kernel, &user)) return std::nullopt;
  const std::uint64_t ticks = (std::uint64_t{created.dwHighDateTime} << 32) | created.dwLowDateTime;
  constexpr std::uint64_t epoch_diff = 116444736000000000ULL;   // 1601 -> 1970 in 100 ns
  if (ticks < epoch_diff) return std::nullopt;
  return (ticks - epoch_diff) / 10000000ULL;
}

/// Seconds since boot: GetTickCount64 where it exists (Vista+), else GetTickCount, which wraps after
/// 49.7 days (only a fallback: scm_start_unix answers on every version).
std::uint64_t uptime_seconds() {
  using TickCount64Fn = ULONGLONG(WINAPI*)();
  static const auto tick_count64 = reinterpret_cast<TickCount64Fn>(
      reinterpret_cast<void*>(::GetProcAddress(::GetModuleHandleW(L"kernel32.dll"), "GetTickCount64")));
  return (tick_count64 != nullptr ? tick_count64() : ::GetTickCount()) / 1000;
}

/// When the Service Control Manager (services.exe) started: the start of this boot as far as
/// services are concerned. Preferred over now - GetTickCount64(), which under Wine is the Linux
/// host's uptime and does not change when a prefix restarts; on Windows both agree within seconds.
std::optional<std::uint64_t> scm_start_unix(const ProcessNames& names) {
  for (const auto& [pid, name] : names) {
    if (_stricmp(name.c_str(), "services.exe") == 0) return process_start_unix(pid);
  }
  return std::nullopt;
}

/// "1433", "1433,1434", " 1433 " -> ranges; empty or "0" (dynamic) -> none; garbage -> none.
std::vector<PortRange> parse_configured(const std::string& text) {
  std::vector<PortRange> out;
  std::size_t i = 0;
  while (i <= text.size()) {
    const std::size_t comma = text.find(',', i);
    std::string part = text.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    part.erase(std::remove_if(part.begin(), part.end(), [](unsigned char c) { return std::isspace(c); }), part.end());
    if (!part.empty() && std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c); }) && part.size() <= 5) {
      const long port = std::stol(part);
      if (port >= 1 && port <= 65535) out.push_back(PortRange::single(static_cast<Port>(port)));
    }
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  return out;
}

std::optional<std::string> read_port_text(RegistryStore& registry, const std::string& key, const std::string& value) {
  // The value may be REG_SZ (SQL Server) or REG_DWORD (RDP PortNumber, WDS): try the string form
  // first and fall back to the number; a value of another type is ignored.
  try {
    if (auto s = registry.read_string(key, value)) return s;
    return std::nullopt;
  } catch (const std::exception&) {
  }
  try {
    if (auto d = registry.read_dword(key, value)) return std::to_string(*d);
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

/// Expands one '*' component of a key against the registry; returns (key, matched text).
std::vector<std::pair<std::string, std::string>> expand_key(RegistryStore& registry, const std::string& key) {
  const auto star = key.find('*');
  if (star == std::string::npos) return {{key, ""}};
  const auto start = key.rfind('\\', star);
  const auto end = key.find('\\', star);
  const std::string parent = key.substr(0, start);
  const std::string pattern = key.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
  const std::string rest = end == std::string::npos ? "" : key.substr(end);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& sub : registry.subkeys(parent)) {
    if (glob(pattern, sub)) out.push_back({parent + "\\" + sub + rest, sub});
  }
  return out;
}

std::string resolve_service(const std::string& pattern, const std::string& matched, const std::vector<ServiceInfo>& services) {
  if (pattern.find('*') == std::string::npos) return pattern;
  // SQL Server: subkey "MSSQL15.SQLEXPRESS" belongs to service "MSSQL$SQLEXPRESS" (or MSSQLSERVER
  // for the default instance): the instance is the text after the last '.'.
  const auto dot = matched.rfind('.');
  const std::string instance = lower(dot == std::string::npos ? matched : matched.substr(dot + 1));
  for (const auto& s : services) {
    const std::string name = lower(s.name);
    if (glob(pattern, s.name) && !instance.empty() && name.size() >= instance.size() &&
        name.compare(name.size() - instance.size(), instance.size(), instance) == 0)
      return s.name;
  }
  std::string out = pattern;
  out.replace(out.find('*'), 1, matched);
  return out;
}

/// Start type, group, image path and dependencies from the service's registry key. One unreadable
/// or oddly typed value must not hide the service: each field is best effort.
void read_registry_details(RegistryStore& registry, ServiceInfo& s) {
  const std::string key = std::string(registry_paths::services_root) + "\\" + s.name;
  try {
    if (auto start = registry.read_dword(key, "Start")) {
      switch (*start) {
        case 0: s.start_type = StartType::boot; break;
        case 1: s.start_type = StartType::system; break;
        case 2: s.start_type = StartType::automatic; break;
        case 3: s.start_type = StartType::manual; break;
        case 4: s.start_type = StartType::disabled; break;
        default: s.start_type = StartType::unknown; break;
      }
      if (*start == 2 && registry.read_dword(key, "DelayedAutostart").value_or(0) == 1) s.start_type = StartType::delayed_automatic;
    }
  } catch (const std::exception&) {
  }
  try { s.group = registry.read_string(key, "Group").value_or(""); } catch (const std::exception&) {}
  try { s.image_path = registry.read_string(key, "ImagePath").value_or(""); } catch (const std::exception&) {}
  try {
    for (auto& d : registry.read_multi_string(key, "DependOnService").strings) {
      if (!d.empty()) s.depend_on.push_back(std::move(d));
    }
  } catch (const std::exception&) {
  }
}

template <typename T>
struct com_ptr_traits {
  using pointer = T*;
  static pointer invalid() noexcept { return nullptr; }
  static void close(pointer p) noexcept { p->Release(); }
};
template <typename T>
using com_ptr = unique_handle<com_ptr_traits<T>>;

struct bstr_traits {
  using pointer = BSTR;
  static pointer invalid() noexcept { return nullptr; }
  static void close(pointer p) noexcept { ::SysFreeString(p); }
};
using unique_bstr = unique_handle<bstr_traits>;

/// COM for one WMI call on this thread (MTA); uninitialised on scope exit when this call initialised it.
class ComScope {
public:
  ComScope() : init_(::CoInitializeEx(nullptr, COINIT_MULTITHREADED)) {}
  ~ComScope() {
    if (SUCCEEDED(init_)) ::CoUninitialize();
  }
  ComScope(const ComScope&) = delete;
  ComScope& operator=(const ComScope&) = delete;
  bool usable() const noexcept { return SUCCEEDED(init_) || init_ == RPC_E_CHANGED_MODE; }

private:
  HRESULT init_;
};

/// root\StandardCimv2 with an explicit proxy blanket; empty when WMI cannot be reached.
com_ptr<IWbemServices> standard_cimv2() {
  com_ptr<IWbemLocator> locator;
  if (FAILED(::CoCreateInstance(CLSID_WbemLocator, nullptr, CLSCTX_INPROC_SERVER, IID_IWbemLocator, reinterpret_cast<void**>(locator.put()))))
    return {};
  unique_bstr ns(::SysAllocString(L"ROOT\\StandardCimv2"));
  com_ptr<IWbemServices> services;
  if (!ns || FAILED(locator.get()->ConnectServer(ns.get(), nullptr, nullptr, nullptr, 0, nullptr, nullptr, services.put()))) return {};
  // N.B. without an explicit blanket the proxy may use an authentication level WMI refuses.
  if (FAILED(::CoSetProxyBlanket(services.get(), RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, nullptr, RPC_C_AUTHN_LEVEL_CALL,
                                 RPC_C_IMP_LEVEL_IMPERSONATE, nullptr, EOAC_NONE)))
    return {};
  return services;
}

const wchar_t* setting_class(Protocol protocol) { return protocol == Protocol::udp ? L"MSFT_NetUDPSetting" : L"MSFT_NetTCPSetting"; }

/// Every instance of the protocol's setting class (TCP: one per template), each row waited for at
/// most 5 s so a hung WMI cannot hang a check. nullopt when the query cannot run.
std::optional<std::vector<com_ptr<IWbemClassObject>>> setting_rows(IWbemServices* services, Protocol protocol) {
  unique_bstr wql(::SysAllocString(L"WQL"));
  unique_bstr query(::SysAllocString((std::wstring(L"SELECT * FROM ") + setting_class(protocol)).c_str()));
  com_ptr<IEnumWbemClassObject> rows;
  if (!wql || !query ||
      FAILED(services->ExecQuery(wql.get(), query.get(), WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY, nullptr, rows.put())))
    return std::nullopt;
  std::vector<com_ptr<IWbemClassObject>> out;
  for (;;) {
    com_ptr<IWbemClassObject> row;
    ULONG returned = 0;
    if (rows.get()->Next(5000, 1, row.put(), &returned) != WBEM_S_NO_ERROR || returned == 0) break;
    out.push_back(std::move(row));
  }
  return out;
}

std::optional<long> wmi_number(IWbemClassObject* row, const wchar_t* name) {
  VARIANT v;
  ::VariantInit(&v);
  std::optional<long> out;
  if (SUCCEEDED(row->Get(name, 0, &v, nullptr, nullptr)) && SUCCEEDED(::VariantChangeType(&v, &v, 0, VT_I4))) out = v.lVal;
  ::VariantClear(&v);
  return out;
}

/// The dynamic range of one protocol from WMI (Windows 8 / 2012 and later): root\StandardCimv2
/// MSFT_NetUDPSetting / MSFT_NetTCPSetting. TCP has one instance per setting template (Internet,
/// Datacenter, Compat, ...): the envelope of all of them is returned, since a port inside any of
/// them can be handed out. nullopt when WMI cannot answer (older Windows, Wine, WMI broken).
std::optional<PortRange> wmi_dynamic_range(Protocol protocol) {
  ComScope com;
  if (!com.usable()) return std::nullopt;
  const auto services = standard_cimv2();
  if (!services) return std::nullopt;
  const auto rows = setting_rows(services.get(), protocol);
  if (!rows) return std::nullopt;
  std::optional<PortRange> envelope;
  for (const auto& row : *rows) {
    const auto start = wmi_number(row.get(), L"DynamicPortRangeStartPort");
    const auto count = wmi_number(row.get(), L"DynamicPortRangeNumberOfPorts");
    if (!start || !count || *start < 1 || *count < 1 || *start + *count - 1 > 65535) continue;
    const PortRange r = PortRange::make(*start, *start + *count - 1);
    envelope = envelope ? PortRange::make(std::min(envelope->first(), r.first()), std::max(envelope->last(), r.last())) : r;
  }
  return envelope;
}

/// Sets DynamicPortRangeStartPort / DynamicPortRangeNumberOfPorts on every instance (what
/// Set-NetUDPSetting / Set-NetTCPSetting do). Throws Error naming the instance and the HRESULT.
void write_wmi_dynamic_range(Protocol protocol, PortRange range) {
  ComScope com;
  const std::string cls = narrow(setting_class(protocol));
  if (!com.usable()) throw Error("cannot set the dynamic port range through WMI " + cls + ": COM could not be initialised");
  const auto services = standard_cimv2();
  if (!services) throw Error("cannot set the dynamic port range: WMI root\\StandardCimv2 cannot be reached");
  const auto rows = setting_rows(services.get(), protocol);
  if (!rows || rows->empty()) throw Error("cannot set the dynamic port range: WMI lists no " + cls + " instance");
  const auto put = [](IWbemClassObject* row, const wchar_t* name, long value) {
    VARIANT v;
    ::VariantInit(&v);
    v.vt = VT_I4;
    v.lVal = value;
    const HRESULT hr = row->Put(name, 0, &v, 0);
    ::VariantClear(&v);
    return hr;
  };
  for (const auto& row : *rows) {
    HRESULT hr = put(row.get(), L"DynamicPortRangeStartPort", range.first());
    if (SUCCEEDED(hr)) hr = put(row.get(), L"DynamicPortRangeNumberOfPorts", static_cast<long>(range.size()));
    if (SUCCEEDED(hr)) hr = services.get()->PutInstance(row.get(), WBEM_FLAG_UPDATE_ONLY, nullptr, nullptr);
    if (FAILED(hr)) {
      char code[16];
      std::snprintf(code, sizeof code, "0x%08lX", static_cast<unsigned long>(hr));
      const auto name = [&]() -> std::string {
        VARIANT v;
        ::VariantInit(&v);
        std::string out = "(unnamed)";
        if (SUCCEEDED(row.get()->Get(L"SettingName", 0, &v, nullptr, nullptr)) && v.vt == VT_BSTR) out = narrow(v.bstrVal);
        ::VariantClear(&v);
        return out;
      }();
      throw Error("WMI " + cls + " instance '" + name + "' refused DynamicPortRangeStartPort = " + std::to_string(range.first()) +
                  ", DynamicPortRangeNumberOfPorts = " + std::to_string(range.size()) + " (IWbemServices::PutInstance, HRESULT " + code + ")");
    }
  }
}

/// WMI is slow to start (COM, the WMI service): the guard's passes reuse an answer for a minute.
struct WmiCache {
  std::mutex mutex;
  std::optional<PortRange> cached[2];
  std::chrono::steady_clock::time_point when[2];
  bool valid[2] = {false, false};
};
WmiCache& wmi_cache() {
  static WmiCache cache;
  return cache;
}

std::optional<PortRange> cached_wmi_dynamic_range(Protocol protocol) {
  WmiCache& c = wmi_cache();
  auto& [mutex, cached, when, valid] = c;
  const int i = protocol == Protocol::udp ? 0 : 1;
  std::lock_guard lock(mutex);
  const auto now = std::chrono::steady_clock::now();
  if (!valid[i] || now - when[i] > std::chrono::seconds(60)) {
    cached[i] = wmi_dynamic_range(protocol);
    when[i] = now;
    valid[i] = true;
  }
  return cached[i];
}

/// Forgets the cached answer after a write, so the next capture reads what was written.
void forget_cached_wmi_dynamic_range(Protocol protocol) {
  WmiCache& c = wmi_cache();
  std::lock_guard lock(c.mutex);
  c.valid[protocol == Protocol::udp ? 0 : 1] = false;
}

} // namespace

std::optional<PortRange> Win32DynamicRangeWmi::read(Protocol protocol) { return wmi_dynamic_range(protocol); }

void Win32DynamicRangeWmi::write(Protocol protocol, PortRange range) {
  // N.B. forget the cache even when a later instance fails: earlier instances may have changed.
  struct Forget {
    Protocol p;
    ~Forget() { forget_cached_wmi_dynamic_range(p); }
  } forget{protocol};
  write_wmi_dynamic_range(protocol, range);
}

WindowsVersion real_windows_version() {
  using RtlGetVersionFn = LONG(WINAPI*)(OSVERSIONINFOEXW*);
  WindowsVersion v;
  OSVERSIONINFOEXW info{};
  info.dwOSVersionInfoSize = sizeof info;
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  auto fn = ntdll ? reinterpret_cast<RtlGetVersionFn>(reinterpret_cast<void*>(::GetProcAddress(ntdll, "RtlGetVersion"))) : nullptr;
  if (fn == nullptr || fn(&info) != 0) throw Error("RtlGetVersion is not available: cannot tell which Windows version this is");
  v.major = info.dwMajorVersion;
  v.minor = info.dwMinorVersion;
  v.build = info.dwBuildNumber;
  v.server = info.wProductType != VER_NT_WORKSTATION;
  return v;
}

std::vector<ServiceInfo> installed_services(RegistryStore& registry, ServiceDetail detail) {
  unique_schandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ENUMERATE_SERVICE | SC_MANAGER_CONNECT));
  if (!scm) throw_last_error("OpenSCManagerW");
  std::vector<ServiceInfo> out;
  std::vector<std::uint8_t> buffer(64 * 1024);
  DWORD resume = 0;
  for (;;) {
    DWORD needed = 0, count = 0;
    const BOOL ok = ::EnumServicesStatusExW(scm.get(), SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL, buffer.data(),
                                            static_cast<DWORD>(buffer.size()), &needed, &count, &resume, nullptr);
    const DWORD error = ok ? ERROR_SUCCESS : ::GetLastError();
    if (!ok && error != ERROR_MORE_DATA) throw Win32Error(error, "EnumServicesStatusExW");
    const auto* entries = reinterpret_cast<const ENUM_SERVICE_STATUS_PROCESSW*>(buffer.data());
    for (DWORD i = 0; i < count; ++i) {
      ServiceInfo s;
      s.name = narrow(entries[i].lpServiceName);
      s.display_name = entries[i].lpDisplayName ? narrow(entries[i].lpDisplayName) : std::string{};
      s.state = state_of(entries[i].ServiceStatusProcess.dwCurrentState);
      s.pid = entries[i].ServiceStatusProcess.dwProcessId;
      out.push_back(std::move(s));
    }
    if (ok) break;
    if (count == 0) buffer.resize(std::max<std::size_t>(buffer.size() * 2, needed));
  }
  if (detail == ServiceDetail::full) {
    for (auto& s : out) read_registry_details(registry, s);
  }
  // Sorted by lower-case name; each key is computed once, not twice per comparison.
  std::vector<std::pair<std::string, ServiceInfo>> keyed;
  keyed.reserve(out.size());
  for (auto& s : out) keyed.emplace_back(lower(s.name), std::move(s));
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < keyed.size(); ++i) out[i] = std::move(keyed[i].second);
  return out;
}

namespace {

std::vector<PortInUse> bound_ports(const std::vector<ServiceInfo>& services, const ProcessNames& names) {
  ensure_winsock();
  std::map<DWORD, std::string> service_of;
  for (const auto& s : services) {
    if (s.pid == 0 || s.state != ServiceState::running) continue;
    auto& text = service_of[s.pid];
    text += text.empty() ? s.name : "," + s.name;   // svchost hosts several
  }
  std::set<std::tuple<int, Port, DWORD>> seen;
  std::vector<PortInUse> out;
  for (const auto& b : raw_bound_ports()) {
    if (!seen.insert({static_cast<int>(b.protocol), b.port, b.pid}).second) continue;
    PortInUse u;
    u.protocol = b.protocol;
    u.port = b.port;
    u.pid = b.pid;
    if (b.pid != 0) {
      if (auto n = names.find(b.pid); n != names.end()) u.process = n->second;
      if (auto s = service_of.find(b.pid); s != service_of.end()) u.service = s->second;
    }
    out.push_back(std::move(u));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return std::tie(a.protocol, a.port, a.pid) < std::tie(b.protocol, b.port, b.pid); });
  return out;
}

} // namespace

std::vector<PortInUse> bound_ports(const std::vector<ServiceInfo>& services) { return bound_ports(services, process_names()); }

std::vector<DynamicPortRange> dynamic_port_ranges(const WindowsVersion& version, RegistryStore& registry) {
  std::vector<DynamicPortRange> out;
  auto add = [&](PortRange range, bool assumed, const std::string& source) {
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      for (IpVersion ip : {IpVersion::v4, IpVersion::v6}) out.push_back({p, ip, range, assumed, source});
    }
  };
  if (version.major < 6) {
    // Windows 2000/XP/2003: 1025..MaxUserPort (default 5000), the same for TCP and UDP.
    std::optional<std::uint32_t> max;
    try {
      max = registry.read_dword(registry_paths::tcpip_parameters, "MaxUserPort");
    } catch (const std::exception&) {
    }
    if (max && *max >= 5000 && *max <= 65534) {
      add(PortRange::make(1025, *max), false, "MaxUserPort");
    } else {
      add(PortRange::make(1025, 5000), true, "default for Windows " + std::to_string(version.major) + "." + std::to_string(version.minor) +
                                                 " (MaxUserPort not set)");
    }
    return out;
  }
  // Vista/2008 and later, per protocol: WMI (Windows 8 / 2012 and later), else the administrator's
  // override, else the documented default marked assumed (docs/architecture.md).
  const std::string version_text = std::to_string(version.major) + "." + std::to_string(version.minor);
  for (Protocol p : {Protocol::udp, Protocol::tcp}) {
    PortRange range = PortRange::make(49152, 65535);
    bool assumed = true;
    std::string source = "documented default for Windows " + version_text + " (not read from the host)";
    const bool win8 = version.major > 6 || (version.major == 6 && version.minor >= 2);
    if (const auto wmi = win8 ? cached_wmi_dynamic_range(p) : std::nullopt) {
      range = *wmi;
      assumed = false;
      source = p == Protocol::udp ? "MSFT_NetUDPSetting" : "MSFT_NetTCPSetting";
    } else {
      const std::string name = p == Protocol::udp ? "DynamicPortRangeUdp" : "DynamicPortRangeTcp";
      try {
        if (const auto text = registry.read_string(dynamic_range_override_key, name)) {
          const PortList parsed = parse_port_list({*text});
          if (parsed.ports.ranges().size() == 1 && parsed.unrecognised.empty()) {
            range = parsed.ports.ranges().front();
            assumed = false;
            source = "administrator override " + std::string(dynamic_range_override_key) + "\\" + name;
          }
        }
      } catch (const std::exception&) {
        // A mistyped override is ignored: the default stays, marked assumed.
      }
    }
    for (IpVersion ip : {IpVersion::v4, IpVersion::v6}) out.push_back({p, ip, range, assumed, source});
  }
  return out;
}

std::vector<ConfiguredPort> configured_ports(const std::vector<ConfiguredPortQuery>& queries, RegistryStore& registry,
                                             const std::vector<ServiceInfo>& services) {
  std::vector<ConfiguredPort> out;
  for (const auto& q : queries) {
    std::vector<std::pair<std::string, std::string>> keys;
    try {
      keys = expand_key(registry, q.key);
    } catch (const std::exception&) {
      continue;   // an unreadable key is the same as no configuration here
    }
    for (const auto& [key, matched] : keys) {
      const auto text = read_port_text(registry, key, q.value);
      if (!text) continue;
      std::vector<PortRange> ranges = parse_configured(*text);
      if (!q.end_value.empty() && ranges.size() == 1) {
        const auto end_text = read_port_text(registry, key, q.end_value);
        const auto end = end_text ? parse_configured(*end_text) : std::vector<PortRange>{};
        if (end.size() != 1 || end[0].first() < ranges[0].first()) continue;
        ranges = {PortRange::make(ranges[0].first(), end[0].first())};
      }
      for (const auto& r : ranges) {
        out.push_back({resolve_service(q.service, matched, services), q.protocol, r, key + "\\" + q.value});
      }
    }
  }
  return out;
}

bool exclusive_bind_fails(Protocol protocol, Port port) { return exclusive_bind(protocol, port) != BindOutcome::bound; }

BindOutcome exclusive_bind(Protocol protocol, Port port) {
  ensure_winsock();
  unique_socket s(::socket(AF_INET, protocol == Protocol::udp ? SOCK_DGRAM : SOCK_STREAM, protocol == Protocol::udp ? IPPROTO_UDP : IPPROTO_TCP));
  if (!s) throw Win32Error(static_cast<DWORD>(::WSAGetLastError()), "socket");
  BOOL on = TRUE;
  if (::setsockopt(s.get(), SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&on), sizeof on) != 0)
    throw Win32Error(static_cast<DWORD>(::WSAGetLastError()), "setsockopt(SO_EXCLUSIVEADDRUSE)");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(port);
  if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return BindOutcome::bound;
  const int error = ::WSAGetLastError();
  if (error == WSAEADDRINUSE) return BindOutcome::address_in_use;
  if (error == WSAEACCES) return BindOutcome::access_denied;
  throw Win32Error(static_cast<DWORD>(error), "bind", std::string(to_string(protocol)) + " port " + std::to_string(port));
}

std::string describe_holders(Protocol protocol, PortRange range) {
  std::vector<ServiceInfo> services;
  try {
    Win32RegistryStore registry;
    services = installed_services(registry, ServiceDetail::state);
  } catch (const std::exception&) {
    // Without the service list the holders are still named by process.
  }
  std::string text;
  try {
    for (const auto& u : bound_ports(services)) {
      if (u.protocol != protocol || !range.contains(u.port)) continue;
      if (!text.empty()) text += ", ";
      text += u.describe_holder() + " on port " + std::to_string(u.port);
    }
  } catch (const std::exception&) {
  }
  return text.empty() ? "an unknown process" : text;
}

Win32SystemProbe::Win32SystemProbe(RegistryStore& registry, PersistentReservationApi& reservations, const ReservationLedger* ledger,
                                   CallTrace* trace)
    : registry_(registry), reservations_(reservations), ledger_(ledger), trace_(trace) {}

HostSnapshot Win32SystemProbe::capture(const std::vector<ConfiguredPortQuery>& queries, ServiceDetail detail) {
  using Step = CallTrace::Step;
  HostSnapshot s;
  {
    const Step step(trace_, "GetComputerNameExW");
    wchar_t host[256];
    DWORD host_len = 256;
    if (::GetComputerNameExW(ComputerNameDnsHostname, host, &host_len)) s.hostname = narrow(std::wstring_view(host, host_len));
  }
  s.captured_at = iso8601_utc(std::chrono::system_clock::now());
  s.version = real_windows_version();
  {
    const Step step(trace_, "the SCM's service list (EnumServicesStatusExW) and the services' registry keys");
    s.services = installed_services(registry_, detail);
  }
  {
    const Step step(trace_, "reading ReservedPorts and SocketPoolExcludedPortRanges");
    s.reserved_ports = registry_.read_multi_string(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value);
    s.dns_socket_pool_excluded = registry_.read_multi_string(registry_paths::dns_parameters, registry_paths::socket_pool_excluded_value);
  }
  if (reservations_.available()) {
    s.persistent_reservations = look_up_reservations({});
  }
  {
    const Step step(trace_, "reading the dynamic port ranges (registry, WMI)");
    s.dynamic_ranges = dynamic_port_ranges(s.version, registry_);
  }
  // Excluded ranges exist from Vista/2008 on. What can be read without netsh: the administered
  // ones in the NSI store; the persistent reservation look-ups and the exclusive-bind probe of
  // required ports are added by the assessment (core/assess.cpp). Ranges HNS/WinNAT hold are not
  // stored anywhere readable: only the probe sees them, port by port.
  if (s.version.major >= 6) {
    const Step step(trace_, "reading the administered excluded ranges (NSI registry store)");
    s.excluded_ranges = read_administered_exclusions(registry_);
  }
  ProcessNames names;
  {
    const Step step(trace_, "the process list (CreateToolhelp32Snapshot)");
    names = process_names();
  }
  {
    const Step step(trace_, "the UDP and TCP tables (GetExtendedUdpTable, GetExtendedTcpTable)");
    s.ports_in_use = bound_ports(s.services, names);
  }
  {
    const Step step(trace_, "reading the services' configured ports (registry)");
    s.configured_ports = configured_ports(queries, registry_, s.services);
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const Step step(trace_, "the boot and DNS start times (process times)");
  s.boot_time_unix = scm_start_unix(names).value_or(static_cast<std::uint64_t>(now) - uptime_seconds());
  if (const ServiceInfo* dns = s.find_service("DNS"); dns != nullptr && dns->state == ServiceState::running) {
    s.dns_start_time_unix = process_start_unix(dns->pid);
  }
  return s;
}

bool Win32SystemProbe::port_in_use(Protocol protocol, Port port) {
  const CallTrace::Step step(trace_, "an exclusive bind (socket, bind)");
  return exclusive_bind_fails(protocol, port);
}

BindOutcome Win32SystemProbe::try_exclusive_bind(Protocol protocol, Port port) {
  const CallTrace::Step step(trace_, "an exclusive bind (socket, bind)");
  return exclusive_bind(protocol, port);
}

std::vector<PersistentReservation> Win32SystemProbe::created_by_portguard() {
  if (ledger_ == nullptr) return {};
  try {
    return ledger_->load();
  } catch (const std::exception&) {
    return {};   // a broken ledger: no block is known to be PortGuard's, so none is deleted
  }
}

std::optional<std::vector<PersistentReservation>> Win32SystemProbe::look_up_reservations(std::span<const PortRange> candidates) {
  if (!reservations_.available()) return std::nullopt;
  const CallTrace::Step step(trace_, "the persistent reservation look-ups (LookupPersistentUdpPortReservation, ...Tcp...)");
  std::vector<PersistentReservation> all = reservations_.list(Protocol::udp, candidates);
  for (auto& r : reservations_.list(Protocol::tcp, candidates)) all.push_back(r);
  return all;
}

} // namespace portguard::win32
