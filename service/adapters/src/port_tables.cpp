// Ports in use and who holds them (the IP helper's UDP and TCP tables, the Toolhelp process list),
// and the exclusive-bind probe of one port.
#include "portguard/adapters/system_probe.hpp"
#include "system_probe_internal.hpp"

#include "portguard/core/error.hpp"
#include "portguard/adapters/registry_store.hpp"
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

// winsock2 before windows.h (unique_handle.hpp sees to it; WIN32_LEAN_AND_MEAN keeps winsock.h out).
#include <winsock2.h>
#include <ws2tcpip.h>
#include <iphlpapi.h>
#include <tlhelp32.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace portguard::win32 {
namespace {

/// Winsock for the process lifetime (the probe can run many times in the service).
void ensure_winsock() {
  static const int started = [] {
    WSADATA data;
    return ::WSAStartup(MAKEWORD(2, 2), &data);
  }();
  if (started != 0) throw Win32Error(static_cast<DWORD>(started), "WSAStartup");
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

} // namespace

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

std::vector<PortInUse> bound_ports(const std::vector<ServiceInfo>& services) { return bound_ports(services, process_names()); }
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

std::string describe_holders(RegistryStore& registry, Protocol protocol, PortRange range) {
  std::vector<ServiceInfo> services;
  try {
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

} // namespace portguard::win32
