// The installed services: the SCM's list (state, PID) and, for ServiceDetail::full, each one's
// registry key (start type, group, image path, dependencies).
#include "portguard/adapters/system_probe.hpp"

#include "portguard/core/text.hpp"
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <algorithm>

namespace portguard::win32 {
namespace {

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

} // namespace

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
  for (auto& s : out) keyed.emplace_back(lower_ascii(s.name), std::move(s));
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < keyed.size(); ++i) out[i] = std::move(keyed[i].second);
  return out;
}

} // namespace portguard::win32
