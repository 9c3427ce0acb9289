#include "portguard/adapters/event_log.hpp"

#include "portguard/core/event_ids.hpp"
#include "portguard/adapters/registry_store.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <vector>

namespace portguard::win32 {
namespace {
constexpr char source_key[] = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\PortGuard";

WORD event_type(Event::Level level) {
  switch (level) {
    case Event::Level::information: return EVENTLOG_INFORMATION_TYPE;
    case Event::Level::warning: return EVENTLOG_WARNING_TYPE;
    case Event::Level::error: return EVENTLOG_ERROR_TYPE;
  }
  return EVENTLOG_ERROR_TYPE;
}
} // namespace

EventLogSink::EventLogSink() : source_(::RegisterEventSourceW(nullptr, event_source_name)) {
  if (!source_) throw_last_error("RegisterEventSourceW", "PortGuard");
}

void EventLogSink::report(const Event& event) {
  try {
    if (echo) echo(event);
    std::vector<std::wstring> wide;
    wide.reserve(event.inserts.size());
    for (const auto& s : event.inserts) wide.push_back(widen(s));
    std::vector<LPCWSTR> strings;
    for (const auto& w : wide) strings.push_back(w.c_str());
    // The message ID is the documented ID itself (the .mc carries no severity bits); the level
    // travels in the event type.
    if (!::ReportEventW(source_.get(), event_type(event.level), 0, event.id, nullptr, static_cast<WORD>(strings.size()), 0,
                        strings.empty() ? nullptr : strings.data(), nullptr)) {
      throw_last_error("ReportEventW", std::to_string(event.id));
    }
  } catch (const std::exception& e) {
    if (on_failure) {
      try {
        on_failure(e.what());
      } catch (...) {
      }
    }
  }
}

void register_event_source(Win32RegistryStore& registry, const std::filesystem::path& exe) {
  registry.write_string(source_key, "EventMessageFile", narrow(exe.wstring()), reg_type::expand_sz);
  registry.write_dword(source_key, "TypesSupported", EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE);
}

void unregister_event_source(Win32RegistryStore& registry) { registry.delete_key(source_key); }

std::string describe_event(const Event& event) {
  const auto* info = events::find(event.id);
  std::string out = std::to_string(event.id) + " " + (info ? std::string(info->summary) : std::string("undocumented event"));
  std::string sep = ": ";
  for (const auto& s : event.inserts) {
    if (s.empty()) continue;
    out += sep + s;
    sep = " | ";
  }
  return out;
}

} // namespace portguard::win32
