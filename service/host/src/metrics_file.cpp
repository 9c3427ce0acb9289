#include "portguard/host/metrics_file.hpp"

#include "portguard/config/policy.hpp"
#include "portguard/core/event_ids.hpp"
#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <windows.h>

#include <algorithm>

namespace portguard::win32 {
namespace {

// A rename refused because a reader has the file open without FILE_SHARE_DELETE clears when the
// reader closes it (the exporter reads the whole file at once). A reader the scheduler parks while
// it holds the handle can keep it for tens of milliseconds on a loaded machine, so the retries back
// off: 10, 20, 40, 80 ms, at most 150 ms of the pass in all, never more.
constexpr int rename_attempts = 5;
constexpr DWORD rename_first_retry_ms = 10;

std::string display(const std::filesystem::path& p) { return narrow(p.wstring()); }

} // namespace

void write_metrics_file(const std::filesystem::path& folder, std::string_view text) {
  const std::filesystem::path target = folder / metrics_file_name;
  // Not *.prom: the collector must never read the half-written temporary file.
  const std::filesystem::path temp = folder / (std::wstring(metrics_file_name) + L".tmp");
  {
    unique_file f(::CreateFileW(temp.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr));
    if (!f) throw_last_error("CreateFileW", display(temp));
    DWORD written = 0;
    if (!::WriteFile(f.get(), text.data(), static_cast<DWORD>(text.size()), &written, nullptr) || written != text.size()) {
      const DWORD error = written != text.size() && ::GetLastError() == ERROR_SUCCESS ? ERROR_WRITE_FAULT : ::GetLastError();
      f.reset();
      ::DeleteFileW(temp.c_str());
      throw Win32Error(error, "WriteFile", display(temp));
    }
  }
  for (int attempt = 1;; ++attempt) {
    if (::MoveFileExW(temp.c_str(), target.c_str(), MOVEFILE_REPLACE_EXISTING)) return;
    const DWORD error = ::GetLastError();
    const bool transient = error == ERROR_ACCESS_DENIED || error == ERROR_SHARING_VIOLATION;
    if (!transient || attempt == rename_attempts) {
      ::DeleteFileW(temp.c_str());
      throw Win32Error(error, "MoveFileExW", display(target));
    }
    ::Sleep(rename_first_retry_ms << (attempt - 1));
  }
}

std::optional<std::filesystem::path> installed_metrics_dir(RegistryStore& registry) {
  try {
    const auto dir = registry.read_string("HKLM\\SOFTWARE\\PortGuard", "MetricsDir");
    if (dir && !dir->empty()) return std::filesystem::path(widen(*dir));
  } catch (const std::exception&) {
    // Unreadable: as if not set; the policy can still name a folder.
  }
  return std::nullopt;
}

MetricsPublisher::MetricsPublisher(std::filesystem::path state_dir, std::string version, RegistryStore& registry)
    : state_dir_(std::move(state_dir)), registry_(registry) {
  state_.version = std::move(version);
  try {
    state_.counters = load_metric_counters(state_dir_);
  } catch (const std::exception&) {
    state_.counters = {};  // a counter reset, which Prometheus' rate() handles; never a failed start
  }
}

void MetricsPublisher::record_pass(const PassResult& result, std::chrono::duration<double> took, const Guard& guard) {
  const bool ran = result.ran;
  const bool counted = ran || guard.policy().has_value();  // without a policy nothing was attempted
  if (counted) {
    state_.counters.add_pass(ran, result.metrics);
    counters_dirty_ = counters_dirty_ || !ran || !result.metrics.repaired.empty() || !result.metrics.drifted.empty() || !result.metrics.rails.empty();
  }
  state_.last_pass_ok = ran;
  if (ran) {
    state_.last_pass = result.metrics;
    state_.last_pass_seconds = took.count();
    state_.last_pass_unix = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    state_.pending_reboot = std::any_of(guard.pending().begin(), guard.pending().end(),
                                        [](const PendingEffect& p) { return p.takes_effect == TakesEffect::next_boot; });
    state_.pending_dns_restart = std::any_of(guard.pending().begin(), guard.pending().end(),
                                             [](const PendingEffect& p) { return p.takes_effect == TakesEffect::dns_restart; });
  }
  if (counters_dirty_) save_counters();
}

void MetricsPublisher::observe(const Event& event) {
  if (event.id == events::policy_loaded) state_.policy_valid = true;
  else if (event.id == events::policy_invalid || event.id == events::policy_insecure || event.id == events::no_policy)
    state_.policy_valid = false;
}

void MetricsPublisher::stopping() {
  state_.up = false;
  save_counters();
}

void MetricsPublisher::save_counters() {
  try {
    save_metric_counters(state_dir_, state_.counters);
    counters_dirty_ = false;
  } catch (const std::exception&) {
    // Kept dirty: the next pass tries again. Counters in memory stay right meanwhile.
  }
}

std::optional<std::filesystem::path> MetricsPublisher::folder(const Guard& guard) const {
  if (guard.policy() && guard.policy()->metrics_dir) return std::filesystem::path(widen(*guard.policy()->metrics_dir));
  return installed_metrics_dir(registry_);
}

std::optional<std::string> MetricsPublisher::publish(const Guard& guard) {
  const auto dir = folder(guard);
  if (!dir) return std::nullopt;
  // The policy's folder was validated when it loaded; the installer's registry value was not.
  if (auto problem = config::folder_path_problem(narrow(dir->wstring())))
    return "the metrics folder " + *problem + " (HKLM\\SOFTWARE\\PortGuard\\MetricsDir)";
  const auto& policy = guard.policy();
  state_.policy_hash = policy ? policy->fingerprint : std::string();
  state_.audit = policy && policy->audit;
  state_.last_known_good = policy && policy->last_known_good;
  try {
    write_metrics_file(*dir, render_prometheus(state_));
    refused_in_a_row_ = 0;
    return std::nullopt;
  } catch (const Win32Error& e) {
    // A reader holding the file through all the retries is bad luck, not a broken setup: the
    // next pass writes again. A refusal that persists over two writes is reported.
    const bool refused = e.code() == ERROR_ACCESS_DENIED || e.code() == ERROR_SHARING_VIOLATION;
    if (refused && ++refused_in_a_row_ < 2) return std::nullopt;
    return e.what();
  } catch (const std::exception& e) {
    return e.what();
  }
}

} // namespace portguard::win32
