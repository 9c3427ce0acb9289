#include "portguard/install/service_registration.hpp"

#include "portguard/install/boot_protection.hpp"
#include "portguard/adapters/data_layout.hpp"
#include "portguard/adapters/event_log.hpp"
#include "portguard/adapters/paths.hpp"
#include "portguard/adapters/policy_acl.hpp"
#include "portguard/adapters/registry_store.hpp"
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include "portguard/core/text.hpp"

#include <algorithm>

namespace portguard::win32 {
namespace {

constexpr wchar_t description[] =
    L"Keeps the ports boot-time services need (RADIUS, SNMP, NTP...) reserved, so that random port allocation "
    L"(the DNS socket pool, the dynamic port range) cannot take them. Watches and repairs drift.";

/// Records the data folder where every later run reads it (paths.hpp), as the MSI does: the
/// service then never loads the shell to find it. An existing value (the MSI's, or one an
/// administrator moved) is kept as it is: DataLayout::installed answers it.
void record_data_dir(Win32RegistryStore& registry, const DataLayout& layout) {
  registry.write_string(data_dir_key, data_dir_value, narrow(layout.root().wstring()));
}

} // namespace

std::optional<bool> group_in_service_group_order(RegistryStore& registry, const std::wstring& group) {
  const auto list = registry.read_multi_string("HKLM\\SYSTEM\\CurrentControlSet\\Control\\ServiceGroupOrder", "List");
  if (!list.present) return std::nullopt;
  const std::string g = narrow(group);
  return std::any_of(list.strings.begin(), list.strings.end(), [&](const std::string& s) { return iequals_ascii(s, g); });
}

void install_service(Win32RegistryStore& registry, const InstallOptions& options) {
  const std::filesystem::path exe = options.binary.empty() ? this_exe() : options.binary;
  const std::wstring command = L"\"" + exe.wstring() + L"\" run";
  unique_schandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CREATE_SERVICE | SC_MANAGER_CONNECT));
  if (!scm) throw_last_error("OpenSCManagerW");
  // LocalSystem: the reservation mechanisms need it (HKLM\...\Tcpip and DNS parameters are writable
  // by SYSTEM and Administrators only; persistent reservations need an elevated administrator).
  unique_schandle svc(::CreateServiceW(scm.get(), service_name, L"PortGuard", SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
                                       SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, command.c_str(), options.group.c_str(), nullptr, nullptr,
                                       nullptr, nullptr));
  if (!svc) throw_last_error("CreateServiceW", "PortGuard");
  SERVICE_DESCRIPTIONW desc{const_cast<wchar_t*>(description)};
  if (!::ChangeServiceConfig2W(svc.get(), SERVICE_CONFIG_DESCRIPTION, &desc)) throw_last_error("ChangeServiceConfig2W", "DESCRIPTION");
  try {
    configure_recovery_actions();
  } catch (const Win32Error&) {
    // Stored by Windows; Wine refuses FAILURE_ACTIONS_FLAG. The service retries at every start.
  }
  register_event_source(registry, exe);
  const DataLayout layout = DataLayout::installed(registry);
  record_data_dir(registry, layout);
  secure_data_dir(layout.root());
  if (options.start && !::StartServiceW(svc.get(), 0, nullptr)) throw_last_error("StartServiceW", "PortGuard");
}

bool uninstall_service(Win32RegistryStore& registry, const DataLayout& layout, std::vector<std::string>* log) {
  const auto say = [&](const std::string& s) {
    if (log) log->push_back(s);
  };
  for (const auto& r : load_protect_records(layout)) {
    if (unprotect_service(registry, r.service, layout)) say("removed PortGuard from " + r.service + "'s DependOnService");
  }
  unique_schandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) throw_last_error("OpenSCManagerW");
  unique_schandle svc(::OpenServiceW(scm.get(), service_name, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
  if (svc) {
    SERVICE_STATUS st{};
    if (::ControlService(svc.get(), SERVICE_CONTROL_STOP, &st)) {
      for (int i = 0; i < 300 && st.dwCurrentState != SERVICE_STOPPED; ++i) {
        ::Sleep(100);
        if (!::QueryServiceStatus(svc.get(), &st)) break;
      }
      say("service stopped");
    }
    if (!::DeleteService(svc.get()) && ::GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE) throw_last_error("DeleteService", "PortGuard");
    say("service deleted");
  } else if (::GetLastError() != ERROR_SERVICE_DOES_NOT_EXIST) {
    throw_last_error("OpenServiceW", "PortGuard");
  }
  unregister_event_source(registry);
  return static_cast<bool>(svc);
}

} // namespace portguard::win32
