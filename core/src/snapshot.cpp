#include "portguard/core/snapshot.hpp"

#include "portguard/core/text.hpp"

#include <array>
#include <utility>

namespace portguard {

namespace {
constexpr std::array<std::pair<StartType, std::string_view>, 7> start_types{{
    {StartType::boot, "boot"},
    {StartType::system, "system"},
    {StartType::automatic, "automatic"},
    {StartType::delayed_automatic, "delayed-automatic"},
    {StartType::manual, "manual"},
    {StartType::disabled, "disabled"},
    {StartType::unknown, "unknown"},
}};
constexpr std::array<std::pair<ServiceState, std::string_view>, 8> service_states{{
    {ServiceState::stopped, "stopped"},
    {ServiceState::start_pending, "start-pending"},
    {ServiceState::stop_pending, "stop-pending"},
    {ServiceState::running, "running"},
    {ServiceState::continue_pending, "continue-pending"},
    {ServiceState::pause_pending, "pause-pending"},
    {ServiceState::paused, "paused"},
    {ServiceState::unknown, "unknown"},
}};

constexpr std::array<std::pair<ExclusionHolder, std::string_view>, 3> exclusion_holders{{
    {ExclusionHolder::portguard, "portguard"},
    {ExclusionHolder::administrator, "administrator"},
    {ExclusionHolder::system, "system"},
}};
} // namespace

std::string_view to_string(StartType t) noexcept {
  for (const auto& [v, name] : start_types)
    if (v == t) return name;
  return "unknown";
}

std::string_view to_string(ServiceState s) noexcept {
  for (const auto& [v, name] : service_states)
    if (v == s) return name;
  return "unknown";
}

std::optional<StartType> parse_start_type(std::string_view text) noexcept {
  for (const auto& [v, name] : start_types)
    if (name == text) return v;
  return std::nullopt;
}

std::optional<ServiceState> parse_service_state(std::string_view text) noexcept {
  for (const auto& [v, name] : service_states)
    if (name == text) return v;
  return std::nullopt;
}

std::string_view to_string(ExclusionHolder h) noexcept {
  for (const auto& [v, name] : exclusion_holders)
    if (v == h) return name;
  return "administrator";
}

std::optional<ExclusionHolder> parse_exclusion_holder(std::string_view text) noexcept {
  for (const auto& [v, name] : exclusion_holders)
    if (name == text) return v;
  return std::nullopt;
}

std::string_view ExcludedRange::describe_holder() const noexcept {
  switch (holder) {
    case ExclusionHolder::portguard: return "administered, created by PortGuard for the policy (its ledger)";
    case ExclusionHolder::administrator: return "administered by someone else (store=persistent)";
    case ExclusionHolder::system: return "held by the system at run time (HNS/WinNAT)";
  }
  return "";
}

std::string PortInUse::describe_holder() const {
  const std::string pid_text = pid != 0 ? "PID " + std::to_string(pid) : std::string();
  if (!service.empty()) {
    std::string detail = process;
    if (!pid_text.empty()) detail += (detail.empty() ? "" : ", ") + pid_text;
    return service + " service" + (detail.empty() ? std::string() : " (" + detail + ")");
  }
  if (!process.empty()) return process + (pid_text.empty() ? std::string() : " (" + pid_text + ")");
  if (!pid_text.empty()) return "the process with " + pid_text;
  return "an unknown process";
}

bool PortInUse::hosts(std::string_view name) const noexcept {
  if (name.empty()) return false;
  std::string_view rest = service;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (iequals_ascii(rest.substr(0, comma), name)) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

bool PortInUse::kernel_listener_of(std::string_view name) const noexcept {
  if (pid != 4) return false;
  for (std::string_view s : {"LanmanServer", "Netlogon", "Browser", "WinRM", "W3SVC"})
    if (iequals_ascii(s, name)) return true;
  return false;
}

PortInUse HostSnapshot::named_holder(PortInUse holder) const {
  if (!holder.service.empty() || holder.pid == 0) return holder;
  const ServiceInfo* match = nullptr;
  int matches = 0;
  for (const auto& s : services)
    if (s.pid == holder.pid) { match = &s; ++matches; }
  if (matches == 1) holder.service = match->name;
  return holder;
}

const ServiceInfo* HostSnapshot::find_service(std::string_view name) const noexcept {
  for (const auto& s : services)
    if (iequals_ascii(s.name, name)) return &s;
  return nullptr;
}

std::optional<DynamicPortRange> HostSnapshot::dynamic_range(Protocol protocol) const {
  const DynamicPortRange* fallback = nullptr;
  for (const auto& d : dynamic_ranges) {
    if (d.protocol != protocol) continue;
    if (d.ip == IpVersion::v4) return d;
    if (fallback == nullptr) fallback = &d;
  }
  if (fallback != nullptr) return *fallback;
  return std::nullopt;
}

std::vector<ExcludedRange> HostSnapshot::exclusions_covering(Protocol protocol, Port port) const {
  std::vector<ExcludedRange> out;
  if (!excluded_ranges) return out;
  for (const auto& e : *excluded_ranges)
    if (e.protocol == protocol && e.range.contains(port)) out.push_back(e);
  return out;
}

} // namespace portguard
