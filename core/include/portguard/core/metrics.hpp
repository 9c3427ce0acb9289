#pragma once
// Prometheus metrics of the guard (issue 17, docs/monitoring.md): what one pass found, the
// counters that survive restarts, and their rendering in the Prometheus text exposition format
// that windows_exporter's textfile collector reads. Portable and pure: the service decides when
// and where the text is written (service/host/include/portguard/host/metrics_file.hpp).
//
// Contracts:
//  - Label values are bounded: target names, protocol names, rail codes, the version and the
//    policy hash. Never a port number, a path or free text.
//  - The rendering is UTF-8, LF line endings only, and ends with a newline (a stray CR or a
//    missing final newline makes the textfile collector reject the file).
//  - Counters only grow; a counter file that cannot be read starts them again from zero (a
//    Prometheus counter reset, which rate() handles) rather than stopping the guard.
#include "portguard/core/plan.hpp"
#include "portguard/core/requirement.hpp"
#include "portguard/core/target.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace portguard {

/// Ports one target must hold for one protocol, and how many of them it holds after the pass.
struct TargetPortMetrics {
  Target target = Target::reserved_ports;
  Protocol protocol = Protocol::udp;
  std::uint64_t required = 0;
  std::uint64_t reserved = 0;
};

/// Compliance of one planned target (per protocol for persistent reservations).
struct TargetCompliance {
  Target target = Target::reserved_ports;
  std::optional<Protocol> protocol;     // set for per-protocol targets
  bool compliant = false;
};

/// What a pass found, in numbers. Filled by Guard::run_pass; empty when the pass did not run.
struct PassMetrics {
  std::vector<TargetCompliance> compliance;
  std::vector<TargetPortMetrics> ports;
  std::uint64_t conflicts = 0;          // required ports held by another process (events 3001)
  std::uint64_t ports_at_risk = 0;      // required ports inside the dynamic range, not reserved (2004)
  std::vector<std::string> drifted;     // target keys ("reserved-ports") found drifted (2001/2005)
  std::vector<std::string> repaired;    // target keys written and verified (1003)
  std::vector<std::string> rails;       // codes of the safety rails that blocked a repair (3004)
  /// [guard.dynamic_range] (issue 16): per guarded protocol, whether its range differs from the
  /// policy after the pass (event 2007). Empty when the policy does not guard the range.
  std::vector<std::pair<Protocol, bool>> dynamic_range_drift;
};

/// Per-target numbers of a plan: compliance (nothing to change) and required/reserved ports per
/// protocol the target protects. `repaired` lists the targets this pass wrote successfully: they
/// hold what they must now.
void measure_plan(const ReservationPlan& plan, const Requirements& requirements, const std::vector<std::string>& repaired,
                  PassMetrics& out);

/// Counters that survive service restarts (state folder, metrics-counters.json).
struct MetricCounters {
  std::map<std::string, std::uint64_t> repairs;      // by target key
  std::map<std::string, std::uint64_t> drifts;       // by target key
  std::map<std::string, std::uint64_t> rail_blocks;  // by rail code
  std::uint64_t passes = 0;
  std::uint64_t failed_passes = 0;

  /// Adds one pass. `ran` false counts a failed pass (nothing else is added).
  void add_pass(bool ran, const PassMetrics& pass);
  friend bool operator==(const MetricCounters&, const MetricCounters&) = default;
};

inline constexpr std::string_view metric_counters_file_name = "metrics-counters.json";
/// Empty counters when the file is absent; throws InputError naming the file when it is broken.
MetricCounters load_metric_counters(const std::filesystem::path& state_dir);
void save_metric_counters(const std::filesystem::path& state_dir, const MetricCounters& counters);

/// Everything the textfile shows.
struct MetricsState {
  std::string version;                  // portguard_build_info{version}
  std::string policy_hash;              // portguard_build_info{policy_hash}; "" when no policy
  bool up = true;                       // false: the guard stopped (last words before exit)
  bool policy_valid = false;            // the policy file loaded (or GPO settings) without error
  bool last_known_good = false;         // the policy in force is the last known good copy
  bool audit = false;                   // report only
  std::optional<std::uint64_t> last_pass_unix;      // wall clock when the last pass ended
  std::optional<double> last_pass_seconds;          // how long it took
  bool last_pass_ok = false;            // the last pass ran to the end
  PassMetrics last_pass;
  bool pending_reboot = false;          // a ReservedPorts or MaxUserPort change waits for a reboot (2002)
  bool pending_dns_restart = false;     // a DNS socket pool change waits for a DNS restart (2003)
  MetricCounters counters;
};

/// Prometheus text exposition (format 0.0.4) of `state`.
std::string render_prometheus(const MetricsState& state);

/// Short stable fingerprint of a policy's text (FNV-1a 64, 16 hex digits), for build_info.
std::string policy_fingerprint(std::string_view text);

} // namespace portguard
