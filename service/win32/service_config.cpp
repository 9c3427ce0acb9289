#include "win32/service_config.hpp"

#include "portguard/core/backup_store.hpp"
#include "portguard/core/error.hpp"
#include "portguard/core/text.hpp"
#include "win32/event_log.hpp"
#include "win32/paths.hpp"
#include "win32/policy_acl.hpp"
#include "win32/registry_store.hpp"
#include "win32/unique_handle.hpp"
#include "win32/win32_error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace portguard::win32 {
namespace {

constexpr wchar_t description[] =
    L"Keeps the ports boot-time services need (RADIUS, SNMP, NTP...) reserved, so that random port allocation "
    L"(the DNS socket pool, the dynamic port range) cannot take them. Watches and repairs drift.";

std::filesystem::path this_exe() {
  std::wstring buf(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = ::GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
    if (n == 0) throw_last_error("GetModuleFileNameW");
    if (n < buf.size()) return std::filesystem::path(buf.substr(0, n));
    buf.resize(buf.size() * 2);
  }
}

std::string service_key(const std::string& service) { return "HKLM\\SYSTEM\\CurrentControlSet\\Services\\" + service; }

const std::string portguard_name = "PortGuard";

std::filesystem::path record_file(const std::filesystem::path& state_dir) { return state_dir / "protected-services.json"; }

void save_records(const std::filesystem::path& state_dir, const std::vector<ProtectRecord>& records) {
  nlohmann::json doc;
  doc["format"] = 1;
  doc["protected"] = nlohmann::json::array();
  for (const auto& r : records)
    doc["protected"].push_back({{"service", r.service}, {"created_value", r.created_value}, {"previous", r.previous}});
  write_file_atomically(record_file(state_dir), doc.dump(2) + "\n", ParentFolder::create);
}

bool portguard_installed() {
  unique_schandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) throw_last_error("OpenSCManagerW");
  unique_schandle svc(::OpenServiceW(scm.get(), service_name, SERVICE_QUERY_STATUS));
  return static_cast<bool>(svc);
}

} // namespace

void configure_recovery_actions() {
  unique_schandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) throw_last_error("OpenSCManagerW");
  unique_schandle svc(::OpenServiceW(scm.get(), service_name, SERVICE_CHANGE_CONFIG | SERVICE_START));
  if (!svc) throw_last_error("OpenServiceW", "PortGuard");
  SC_ACTION actions[3] = {{SC_ACTION_RESTART, 60'000}, {SC_ACTION_RESTART, 60'000}, {SC_ACTION_RESTART, 60'000}};
  SERVICE_FAILURE_ACTIONSW fa{};
  fa.dwResetPeriod = 24 * 60 * 60;
  fa.cActions = 3;
  fa.lpsaActions = actions;
  if (!::ChangeServiceConfig2W(svc.get(), SERVICE_CONFIG_FAILURE_ACTIONS, &fa)) throw_last_error("ChangeServiceConfig2W", "FAILURE_ACTIONS");
  // Also when PortGuard stops with an error exit code rather than crashing (Vista+; 2003 and Wine
  // refuse the level with ERROR_INVALID_LEVEL / 124). Declared here: the headers target 2003.
  constexpr DWORD config_failure_actions_flag = 4;   // SERVICE_CONFIG_FAILURE_ACTIONS_FLAG
  struct {
    BOOL on_non_crash_failures;
  } flag{TRUE};   // SERVICE_FAILURE_ACTIONS_FLAG
  if (!::ChangeServiceConfig2W(svc.get(), config_failure_actions_flag, &flag))
    throw_last_error("ChangeServiceConfig2W", "FAILURE_ACTIONS_FLAG");
}

std::optional<bool> group_in_service_group_order(const std::wstring& group) {
  Win32RegistryStore reg;
  const auto list = reg.read_multi_string("HKLM\\SYSTEM\\CurrentControlSet\\Control\\ServiceGroupOrder", "List");
  if (!list.present) return std::nullopt;
  const std::string g = narrow(group);
  return std::any_of(list.strings.begin(), list.strings.end(), [&](const std::string& s) { return iequals_ascii(s, g); });
}

namespace {

/// Records the data folder where every later run reads it (paths.hpp), as the MSI does: the
/// service then never loads the shell to find it. An existing value (the MSI's, or one an
/// administrator moved) is kept as it is.
void record_data_dir() {
  const std::wstring dir = data_dir().wstring();
  const std::wstring key_path = widen(std::string(data_dir_key).substr(std::string_view("HKLM\\").size()));
  unique_hkey key;
  check_status(::RegCreateKeyExW(HKEY_LOCAL_MACHINE, key_path.c_str(), 0, nullptr, 0, KEY_SET_VALUE | KEY_WOW64_64KEY, nullptr, key.put(),
                                 nullptr),
               "RegCreateKeyExW", std::string(data_dir_key));
  const std::wstring name = widen(std::string(data_dir_value));
  check_status(::RegSetValueExW(key.get(), name.c_str(), 0, REG_SZ, reinterpret_cast<const BYTE*>(dir.c_str()),
                                static_cast<DWORD>((dir.size() + 1) * sizeof(wchar_t))),
               "RegSetValueExW", std::string(data_dir_value));
}

} // namespace

void install_service(const InstallOptions& options) {
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
  register_event_source(exe.wstring());
  record_data_dir();
  secure_data_dir(data_dir());
  if (options.start && !::StartServiceW(svc.get(), 0, nullptr)) throw_last_error("StartServiceW", "PortGuard");
}

bool uninstall_service(const std::filesystem::path& state_dir, std::vector<std::string>* log) {
  const auto say = [&](const std::string& s) {
    if (log) log->push_back(s);
  };
  for (const auto& r : load_protect_records(state_dir)) {
    if (unprotect_service(r.service, state_dir)) say("removed PortGuard from " + r.service + "'s DependOnService");
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
  unregister_event_source();
  return static_cast<bool>(svc);
}

std::vector<ProtectRecord> load_protect_records(const std::filesystem::path& state_dir) {
  std::ifstream in(record_file(state_dir), std::ios::binary);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  std::vector<ProtectRecord> out;
  try {
    const auto doc = nlohmann::json::parse(text.str());
    for (const auto& j : doc.at("protected"))
      out.push_back({j.at("service").get<std::string>(), j.at("created_value").get<bool>(), j.at("previous").get<std::vector<std::string>>()});
  } catch (const nlohmann::json::exception& e) {
    throw InputError(record_file(state_dir).string(), std::string("broken record of protected services: ") + e.what());
  }
  return out;
}

bool is_recorded(const std::string& service, const std::filesystem::path& state_dir) {
  const auto records = load_protect_records(state_dir);
  return std::any_of(records.begin(), records.end(), [&](const ProtectRecord& r) { return iequals_ascii(r.service, service); });
}

bool protect_service(const std::string& service, const std::filesystem::path& state_dir) {
  Win32RegistryStore reg;
  const std::string key = service_key(service);
  if (reg.read_string(key, "ImagePath") == std::nullopt && reg.read_dword(key, "Start") == std::nullopt)
    throw InputError(service, "no service named '" + service + "' is installed (" + key + " not found)");
  // A boot- or system-start driver is loaded by the kernel before the SCM starts any service: a
  // dependency could never make it wait, and would only mislead (issue 16: protect the HNS service,
  // not a driver such as WinNAT's when it is registered that way).
  const auto type = reg.read_dword(key, "Type");
  const auto start = reg.read_dword(key, "Start");
  if (type && (*type == 1 || *type == 2) && start && *start <= 1)
    throw InputError(service, service + " is a driver started by the " + std::string(*start == 0 ? "boot loader" : "kernel (IoInitSystem)") +
                                  " before the Service Control Manager starts any service, so it cannot wait for PortGuard; protect the "
                                  "service that starts its port allocation instead (for Docker Desktop and WSL hosts: hns; docs/service.md)");
  // A service that depends on a missing service cannot start at all: never protect before install.
  if (!portguard_installed())
    throw InputError(service, "the PortGuard service is not installed; install it first (portguard install-service or the MSI), "
                              "or " + service + " would no longer start");
  const MultiStringValue current = reg.read_multi_string(key, "DependOnService");
  if (!current.type_problem.empty())
    throw InputError(key + "\\DependOnService", current.type_problem + "; fix the value before protecting " + service);
  if (std::any_of(current.strings.begin(), current.strings.end(), [](const std::string& s) { return iequals_ascii(s, portguard_name); }))
    return false;
  auto records = load_protect_records(state_dir);
  std::erase_if(records, [&](const ProtectRecord& r) { return iequals_ascii(r.service, service); });
  // Record first: if the write below fails, unprotect finds nothing to remove and says so.
  records.push_back({service, !current.present, current.strings});
  save_records(state_dir, records);
  std::vector<std::string> updated;
  for (const auto& s : current.strings)
    if (!s.empty()) updated.push_back(s);  // an empty string would end the list early for the SCM
  updated.push_back(portguard_name);
  reg.write_multi_string(key, "DependOnService", updated);
  return true;
}

std::string dependency_tradeoff(const std::string& service) {
  Win32RegistryStore reg;
  const auto start = reg.read_dword(service_key(service), "Start");
  const std::string when = start && *start == 2 ? "at boot the SCM starts it only after PortGuard is RUNNING (its first pass done)"
                                                : "whenever something starts it (on demand or by a trigger), the SCM starts PortGuard first "
                                                  "and starts " + service + " only once PortGuard is RUNNING";
  return when + "; if PortGuard is disabled or fails to start, starting " + service +
         " fails with error 1068 (ERROR_SERVICE_DEPENDENCY_FAIL) until PortGuard runs (docs/service.md)";
}

bool unprotect_service(const std::string& service, const std::filesystem::path& state_dir) {
  auto records = load_protect_records(state_dir);
  const auto it = std::find_if(records.begin(), records.end(), [&](const ProtectRecord& r) { return iequals_ascii(r.service, service); });
  if (it == records.end()) return false;
  Win32RegistryStore reg;
  const std::string key = service_key(it->service);
  const MultiStringValue current = reg.read_multi_string(key, "DependOnService");
  if (current.present) {
    std::vector<std::string> updated;
    for (const auto& s : current.strings)
      if (!iequals_ascii(s, portguard_name)) updated.push_back(s);
    if (updated.size() != current.strings.size()) {
      if (updated.empty() && it->created_value) reg.delete_value(key, "DependOnService");
      else reg.write_multi_string(key, "DependOnService", updated);
    }
  }
  records.erase(it);
  save_records(state_dir, records);
  return true;
}

} // namespace portguard::win32
