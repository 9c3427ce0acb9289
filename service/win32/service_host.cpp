// Walking-skeleton service host: reports RUNNING, waits for STOP. Issue 6 grows it into the guard.
#include "win32/commands.hpp"
#include "win32/unique_handle.hpp"
#include "win32/win32_error.hpp"

#include <ostream>

namespace portguard::win32 {
namespace {

constexpr wchar_t service_name[] = L"PortGuard";

struct ServiceHost {
  SERVICE_STATUS_HANDLE status_handle = nullptr;
  SERVICE_STATUS status{SERVICE_WIN32_OWN_PROCESS, SERVICE_START_PENDING, 0, NO_ERROR, 0, 0, 3000};
  unique_handle_t stop_event;

  void set_state(DWORD state, DWORD exit_code = NO_ERROR) {
    status.dwCurrentState = state;
    status.dwWin32ExitCode = exit_code;
    status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP : 0;
    status.dwCheckPoint = (state == SERVICE_RUNNING || state == SERVICE_STOPPED) ? 0 : status.dwCheckPoint + 1;
    ::SetServiceStatus(status_handle, &status);
  }
};

ServiceHost* g_host = nullptr;  // only ServiceMain and the handler see it; one service per process

DWORD WINAPI control_handler(DWORD control, DWORD, void*, void* context) {
  auto* host = static_cast<ServiceHost*>(context);
  switch (control) {
    case SERVICE_CONTROL_STOP:
      host->set_state(SERVICE_STOP_PENDING);
      ::SetEvent(host->stop_event.get());
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void WINAPI service_main(DWORD, LPWSTR*) {
  ServiceHost& host = *g_host;
  host.status_handle = ::RegisterServiceCtrlHandlerExW(service_name, &control_handler, &host);
  if (host.status_handle == nullptr) return;
  host.stop_event.reset(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!host.stop_event) {
    host.set_state(SERVICE_STOPPED, ::GetLastError());
    return;
  }
  host.set_state(SERVICE_RUNNING);
  ::WaitForSingleObject(host.stop_event.get(), INFINITE);
  host.set_state(SERVICE_STOPPED);
}

} // namespace

int command_run(const std::vector<std::string>&, cli::Io io) {
  ServiceHost host;
  g_host = &host;
  SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(service_name), &service_main}, {nullptr, nullptr}};
  if (!::StartServiceCtrlDispatcherW(table)) {
    const DWORD error = ::GetLastError();
    if (error == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      io.err << "portguard run: not started by the Service Control Manager.\n";
      return cli::exit_usage;
    }
    throw Win32Error(error, "StartServiceCtrlDispatcherW");
  }
  return static_cast<int>(host.status.dwWin32ExitCode);
}

} // namespace portguard::win32
