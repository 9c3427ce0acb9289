#include "portguard/adapters/scm.hpp"

#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <string>

namespace portguard::win32 {

std::filesystem::path this_exe() {
  std::wstring buf(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = ::GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
    if (n == 0) throw_last_error("GetModuleFileNameW");
    if (n < buf.size()) return std::filesystem::path(buf.substr(0, n));
    buf.resize(buf.size() * 2);
  }
}

bool portguard_installed() {
  unique_schandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) throw_last_error("OpenSCManagerW");
  unique_schandle svc(::OpenServiceW(scm.get(), service_name, SERVICE_QUERY_STATUS));
  return static_cast<bool>(svc);
}

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

} // namespace portguard::win32
