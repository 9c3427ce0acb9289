#pragma once
// The guard's main routine, shared by the service (ServiceMain) and `portguard run --console`:
// arm the watchers, load the policy (write-permission check, last known good), run the first
// check-and-repair pass, then wait on {stop, recheck, registry changed, policy changed, timer}.
#include "portguard/core/ports.hpp"
#include "portguard/adapters/data_layout.hpp"

#include <windows.h>

#include <spdlog/logger.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace portguard::win32 {

struct RunOptions {
  std::filesystem::path policy_file;   // --policy, else layout.policy_file()
  std::filesystem::path services_file; // resolves port names in the policy: the Host's answer
  DataLayout layout{std::filesystem::path{}};   // %ProgramData%\PortGuard: state\, backups\, logs\ live here
  bool once = false;                   // run the first pass and return (console diagnostics, tests)
  // A burst of registry writes (an admin tool rewriting several values) becomes one pass: the pass
  // starts once the key has been quiet this long, or debounce_max after the first change at most.
  // 10 ms covers the writes of one tool call; longer only delays the repair (bench drift figure).
  std::chrono::milliseconds debounce_quiet{10};
  std::chrono::milliseconds debounce_max{500};
  int startup_retries = 5;                              // a failed first pass is retried before RUNNING ...
  std::chrono::milliseconds startup_retry_delay{2000};  // ... this far apart (START_PENDING checkpoints rise)
  std::chrono::seconds pass_retry_delay{30};            // a failed pass later on is retried after this
  // A pass takes milliseconds; one still running after this is stuck in a call and is named in the
  // log by the watchdog (core/pass_watchdog.hpp). Long enough for a slow WMI answer at boot.
  std::chrono::milliseconds stuck_pass_limit{15000};
  // Group Policy's "services that wait for PortGuard at boot": makes `service` depend on PortGuard
  // and records it as `portguard protect` does; false when it already did. Throws when refused.
  // Set by the run command (install code, boot_protection.hpp): the host never calls it directly.
  // Empty: the setting is logged as not applied.
  std::function<bool(const std::string& service)> protect_at_boot;
};

/// Service-specific exit codes (SERVICE_STOPPED with ERROR_SERVICE_SPECIFIC_ERROR), docs/service.md.
enum RunExit : DWORD {
  run_ok = 0,
  run_startup_failed = 1,   // could not arm watchers / open the event source / adapters
  run_loop_failed = 2,      // an unexpected error in the watch loop
};

struct RunHooks {
  std::function<void()> progress;        // a startup milestone passed: next START_PENDING checkpoint
  std::function<void()> running;         // the first pass finished: report RUNNING now
  std::function<void(const Event&)> on_event;  // every event also reported here (tests, console)
};

/// Runs until `stop` is signalled (or after the first pass with options.once). `recheck` (may be
/// null) forces a policy reload and a pass (SERVICE_CONTROL_PARAMCHANGE). Throws only for
/// startup failures; the caller maps them to run_startup_failed.
DWORD run_guard(const RunOptions& options, HANDLE stop, HANDLE recheck, const RunHooks& hooks, std::shared_ptr<spdlog::logger> log);

} // namespace portguard::win32
