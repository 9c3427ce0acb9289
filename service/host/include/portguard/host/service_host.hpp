#pragma once
// The two ways the guard runs: as the PortGuard service under the Service Control Manager, or in a
// console (Ctrl+C stops it). Both run run_guard (guard_runner.hpp) and return its RunExit code.
#include "portguard/host/guard_runner.hpp"

#include <windows.h>

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace portguard::win32 {

/// Runs the guard in this console until Ctrl+C, Ctrl+Break, close or shutdown (or after one pass
/// with options.once). `on_running` is called once the first pass is done. Throws only for startup
/// failures (as run_guard).
DWORD run_in_console(const RunOptions& options, std::shared_ptr<spdlog::logger> log, const std::function<void()>& on_running);

/// Hands this thread to the Service Control Manager (StartServiceCtrlDispatcherW) and returns the
/// service's RunExit code once it stopped. nullopt: the process was not started by the SCM.
/// `startup_error` (may be empty): a failure found before the dispatcher started; the service
/// reports it from ServiceMain (event 3010, STOPPED with run_startup_failed).
std::optional<DWORD> run_as_service(const RunOptions& options, std::shared_ptr<spdlog::logger> log, std::string startup_error);

} // namespace portguard::win32
