#pragma once
// The Windows Event Log side of the guard: an EventSink that reports through one event-source
// handle owned for the sink's lifetime (registering per line is an anti-pattern), and the registry
// entries that make Event Viewer find portguard.exe's message table.
#include "portguard/core/ports.hpp"
#include "portguard/adapters/unique_handle.hpp"

#include <filesystem>
#include <functional>
#include <string>

namespace portguard::win32 {

class Win32RegistryStore;

inline constexpr wchar_t event_source_name[] = L"PortGuard";

class EventLogSink : public EventSink {
public:
  /// Registers the source "PortGuard" on the local machine. Throws Win32Error.
  EventLogSink();
  /// Never throws: a failing ReportEventW is passed to `on_failure` (the file log) and dropped,
  /// because an alert path that can take the service down is worse than a lost alert.
  void report(const Event& event) override;
  /// Also called for every event (file log, console).
  std::function<void(const Event&)> echo;
  std::function<void(const std::string&)> on_failure;

private:
  unique_event_source source_;
};

/// HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\PortGuard: EventMessageFile =
/// `exe`, TypesSupported = 7. The MSI writes the same values; install-service writes them for
/// installs without the MSI. Throws Win32Error.
void register_event_source(Win32RegistryStore& registry, const std::filesystem::path& exe);
/// Deletes that key; a missing key is not an error.
void unregister_event_source(Win32RegistryStore& registry);

/// "1003 information: Repaired reserved-ports: ..." for logs (the inserts joined, not the message text).
std::string describe_event(const Event& event);

} // namespace portguard::win32
