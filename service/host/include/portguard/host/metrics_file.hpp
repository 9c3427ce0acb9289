#pragma once
// The guard's Prometheus textfile (issue 17, docs/monitoring.md): portguard.prom in the folder the
// policy ([monitoring] textfile_dir) or the installer (METRICS_DIR, remembered as
// HKLM\SOFTWARE\PortGuard\MetricsDir) names, for windows_exporter's textfile collector.
//
// Contracts:
//  - A reader never sees a partial file: the text goes to a temporary file in the same folder
//    (named so the collector, which reads only *.prom, ignores it), then replaces portguard.prom
//    in one rename.
//  - Never blocks or fails the guard: a missing or locked folder costs at most a few short retries
//    and comes back as an error string; the caller turns it into one rate-limited warning event.
//    A rename refused (access denied / sharing violation) is reported only when the next write is
//    refused too: a reader that happened to hold the file is not a problem to page about.
#include "portguard/core/guard.hpp"
#include "portguard/core/metrics.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace portguard::win32 {

inline constexpr std::wstring_view metrics_file_name = L"portguard.prom";

/// Writes `text` to `folder`\portguard.prom through a temporary file and a rename. Throws
/// Win32Error naming the step and the path (the folder is not created: it belongs to the
/// exporter's installation).
void write_metrics_file(const std::filesystem::path& folder, std::string_view text);

/// The installer's METRICS_DIR (HKLM\SOFTWARE\PortGuard\MetricsDir); nullopt when not set.
std::optional<std::filesystem::path> installed_metrics_dir(RegistryStore& registry);

/// Keeps what the textfile shows between passes and writes it.
class MetricsPublisher {
public:
  /// Counters are read from (and saved to) `state_dir`; a broken counters file restarts them at 0.
  /// `registry`: where the installer's folder is read (installed_metrics_dir).
  MetricsPublisher(std::filesystem::path state_dir, std::string version, RegistryStore& registry);

  /// A pass ended. `ran` passes replace the per-pass numbers; failed ones only count.
  void record_pass(const PassResult& result, std::chrono::duration<double> took, const Guard& guard);
  /// Policy events (1004 loaded, 3002/3003/3007 refused) decide portguard_policy_valid.
  void observe(const Event& event);
  /// The guard is stopping: up = 0 and the counters are saved.
  void stopping();

  /// The folder in force: the policy's, else the installer's; nullopt: no textfile wanted.
  std::optional<std::filesystem::path> folder(const Guard& guard) const;
  /// Writes the textfile when a folder is configured. Returns the problem (for event 2006), or
  /// nullopt when written or not wanted.
  std::optional<std::string> publish(const Guard& guard);

private:
  void save_counters();

  std::filesystem::path state_dir_;
  RegistryStore& registry_;
  MetricsState state_;
  bool counters_dirty_ = false;
  int refused_in_a_row_ = 0;          // writes whose rename a reader refused, in a row
};

} // namespace portguard::win32
