// The PortGuard service (entry point for the SCM) and its console twin, which runs the same routine
// (run_guard) with Ctrl+C as stop. `portguard run` (commands/cmd_run.cpp) chooses between them.
//
// Lifecycle contract (docs/service.md):
//  - START_PENDING with a rising checkpoint at every startup milestone and a wait hint that
//    covers the slowest one (the first pass);
//  - RUNNING only after the policy is loaded (or the last known good is used) and the first
//    check-and-repair pass finished — services that depend on PortGuard wait for exactly that;
//  - STOP, SHUTDOWN: the control handler reports STOP_PENDING and signals an event; it never blocks;
//  - STOPPED with NO_ERROR, or ERROR_SERVICE_SPECIFIC_ERROR + a RunExit code;
//  - no exception crosses ServiceMain or the control handler.
#include "portguard/host/service_host.hpp"

#include "portguard/core/event_ids.hpp"
#include "portguard/adapters/event_log.hpp"
#include "portguard/adapters/scm.hpp"
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <mutex>
#include <stdexcept>
#include <string>

namespace portguard::win32 {
namespace {

constexpr DWORD startup_wait_hint_ms = 60'000;  // the first pass probes the host: be generous
constexpr DWORD stop_wait_hint_ms = 10'000;

class ServiceHost {
public:
  /// `startup_error`: a failure found before the dispatcher started (the data folder setting). It is
  /// reported from ServiceMain like any other startup failure, so that the SCM gets a real exit
  /// code and monitoring gets event 3010 instead of a process that just vanished.
  ServiceHost(RunOptions options, std::shared_ptr<spdlog::logger> log, std::string startup_error)
      : options_(std::move(options)), log_(std::move(log)), startup_error_(std::move(startup_error)) {
    stop_.reset(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
    recheck_.reset(::CreateEventW(nullptr, FALSE, FALSE, nullptr));
    if (!stop_ || !recheck_) throw_last_error("CreateEventW");
  }

  /// ServiceMain's body. noexcept by construction: everything is caught and becomes STOPPED.
  void main() noexcept {
    status_handle_ = ::RegisterServiceCtrlHandlerExW(service_name, &ServiceHost::handler, this);
    if (status_handle_ == nullptr) {
      log_->critical("RegisterServiceCtrlHandlerExW failed (Win32 error {})", ::GetLastError());
      return;
    }
    DWORD code = run_ok;
    try {
      report(SERVICE_START_PENDING, startup_wait_hint_ms);
      if (!startup_error_.empty()) throw std::runtime_error(startup_error_);
      try {
        configure_recovery_actions();
      } catch (const std::exception& e) {
        log_->warn("recovery actions not configured: {}", e.what());
      }
      RunHooks hooks;
      hooks.progress = [this] { report(SERVICE_START_PENDING, startup_wait_hint_ms); };
      hooks.running = [this] { report(SERVICE_RUNNING); };
      code = run_guard(options_, stop_.get(), recheck_.get(), hooks, log_);
    } catch (const std::exception& e) {
      report_start_failed(e.what());
      code = run_startup_failed;
    } catch (...) {
      report_start_failed("unknown exception");
      code = run_startup_failed;
    }
    exit_code_ = code;
    report(SERVICE_STOPPED, 0, code);
  }

  DWORD exit_code() const noexcept { return exit_code_; }

private:
  static DWORD WINAPI handler(DWORD control, DWORD, void*, void* context) noexcept {
    auto* self = static_cast<ServiceHost*>(context);
    try {
      switch (control) {
        case SERVICE_CONTROL_STOP:
        case SERVICE_CONTROL_SHUTDOWN:
        case SERVICE_CONTROL_PRESHUTDOWN:
          self->report(SERVICE_STOP_PENDING, stop_wait_hint_ms);
          ::SetEvent(self->stop_.get());
          return NO_ERROR;
        case SERVICE_CONTROL_PARAMCHANGE:  // "re-read the policy and check now"
          ::SetEvent(self->recheck_.get());
          return NO_ERROR;
        case SERVICE_CONTROL_INTERROGATE:
          return NO_ERROR;
        default:
          return ERROR_CALL_NOT_IMPLEMENTED;
      }
    } catch (...) {
      return ERROR_EXCEPTION_IN_SERVICE;
    }
  }

  /// The file log and event 3010. Never throws: the service is stopping anyway, and a failing
  /// event source (one possible cause of the failure) must not hide the SCM's exit code.
  void report_start_failed(const std::string& why) noexcept {
    try {
      log_->critical("PortGuard could not start: {}", why);
      const Event event{events::start_failed, Event::Level::error, {why}};
      log_->error("event {}", describe_event(event));
      EventLogSink sink;
      sink.on_failure = [this](const std::string& failure) { log_->error("event not reported: {}", failure); };
      sink.report(event);
    } catch (const std::exception& e) {
      log_->error("event {} not reported: {}", events::start_failed, e.what());
    } catch (...) {
    }
  }

  /// Thread-safe: ServiceMain's thread and the handler's both report. Checkpoints rise on every
  /// pending report and are 0 otherwise.
  ///
  /// SERVICE_STOPPED is the last thing the service tells the SCM: as soon as it is reported, the
  /// dispatcher returns in the main thread, which destroys this host and its logger and exits. So
  /// that report is logged first and nothing of `this` (not even the mutex) is touched after a
  /// successful SetServiceStatus. Logging after it crashed the process under Wine now and then.
  void report(DWORD state, DWORD wait_hint = 0, DWORD run_exit = run_ok) {
    std::unique_lock lock(mutex_);
    if (stopped_) return;  // nothing after STOPPED
    SERVICE_STATUS s{};
    s.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    s.dwCurrentState = state;
    s.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE : 0;
    s.dwWin32ExitCode = run_exit == run_ok ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    s.dwServiceSpecificExitCode = run_exit;
    s.dwWaitHint = wait_hint;
    const bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
    checkpoint_ = pending ? checkpoint_ + 1 : 0;
    s.dwCheckPoint = checkpoint_;
    log_->debug("service status {} checkpoint {} wait hint {} ms", state, checkpoint_, wait_hint);
    if (state != SERVICE_STOPPED) {
      if (!::SetServiceStatus(status_handle_, &s)) log_->error("SetServiceStatus failed (Win32 error {})", ::GetLastError());
      return;
    }
    stopped_ = true;
    const SERVICE_STATUS_HANDLE handle = status_handle_;
    // Raw: a failed report leaves the host alive (the dispatcher has not returned), a successful
    // one must not even release a reference.
    spdlog::logger* const log = log_.get();
    lock.unlock();
    if (!::SetServiceStatus(handle, &s)) log->error("SetServiceStatus(SERVICE_STOPPED) failed (Win32 error {})", ::GetLastError());
  }

  RunOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  SERVICE_STATUS_HANDLE status_handle_ = nullptr;
  unique_handle_t stop_;
  unique_handle_t recheck_;
  std::mutex mutex_;
  DWORD checkpoint_ = 0;
  bool stopped_ = false;
  DWORD exit_code_ = run_ok;
  std::string startup_error_;
};

// ServiceMain has no context parameter: the one host of this process is reached through this
// pointer, set before StartServiceCtrlDispatcherW and never changed while the dispatcher runs.
ServiceHost* g_host = nullptr;

void WINAPI service_main(DWORD, LPWSTR*) {
  if (g_host != nullptr) g_host->main();
}

HANDLE g_console_stop = nullptr;

BOOL WINAPI console_handler(DWORD type) {
  switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      ::SetEvent(g_console_stop);
      return TRUE;
    default:
      return FALSE;
  }
}

} // namespace

DWORD run_in_console(const RunOptions& options, std::shared_ptr<spdlog::logger> log, const std::function<void()>& on_running) {
  unique_handle_t stop(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!stop) throw_last_error("CreateEventW");
  g_console_stop = stop.get();
  if (!::SetConsoleCtrlHandler(&console_handler, TRUE)) throw_last_error("SetConsoleCtrlHandler");
  RunHooks hooks;
  hooks.running = on_running;
  const DWORD code = run_guard(options, stop.get(), nullptr, hooks, log);
  ::SetConsoleCtrlHandler(&console_handler, FALSE);
  g_console_stop = nullptr;
  return code;
}

std::optional<DWORD> run_as_service(const RunOptions& options, std::shared_ptr<spdlog::logger> log, std::string startup_error) {
  ServiceHost host(options, std::move(log), std::move(startup_error));
  g_host = &host;
  SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(service_name), &service_main}, {nullptr, nullptr}};
  if (!::StartServiceCtrlDispatcherW(table)) {
    const DWORD error = ::GetLastError();
    g_host = nullptr;
    if (error == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) return std::nullopt;
    throw Win32Error(error, "StartServiceCtrlDispatcherW");
  }
  g_host = nullptr;
  return host.exit_code();
}

} // namespace portguard::win32
