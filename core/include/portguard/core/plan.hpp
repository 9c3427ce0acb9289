#pragma once
// The planner: given a host snapshot and what the policy demands, decide what each reservation
// mechanism must hold, what to change, and why. Pure and deterministic: no I/O, no clock.
#include "portguard/core/requirement.hpp"
#include "portguard/core/snapshot.hpp"
#include "portguard/core/target.hpp"

#include <optional>
#include <string>
#include <vector>

namespace portguard {

enum class Mode : std::uint8_t {
  merge,   // only add what is missing; never remove an admin's entry (default)
  exact,   // the policy is the whole truth; removals are listed explicitly
};
std::string_view to_string(Mode) noexcept;                    // "merge" / "exact"
std::optional<Mode> parse_mode(std::string_view) noexcept;

struct SafetyLimits {
  std::uint32_t max_reserved_ports = 1024;     // per target: more than this blocks repair
  std::uint32_t min_free_dynamic_ports = 255;  // per protocol: fewer free dynamic ports blocks repair
};

/// Explicit policy allowances that lift a safety rail. All off by default.
struct Allowances {
  bool removals = false;          // exact mode may remove entries nobody in the policy owns
  bool large_reservations = false;// lift max_reserved_ports
  bool shrink_dynamic = false;    // lift min_free_dynamic_ports
  bool empty_value = false;       // allow a non-empty value to become empty
};

// --- [guard.dynamic_range] (issue 16 item 1) -----------------------------------------------------

/// The dynamic port range the policy expects for one protocol ([guard.dynamic_range] udp = "49152-65535").
/// One range per protocol for IPv4 and IPv6 alike: the interfaces Windows documents for setting it
/// (WMI MSFT_Net*Setting, MaxUserPort) hold one range per protocol; only netsh distinguishes.
struct ExpectedDynamicRange {
  Protocol protocol = Protocol::udp;
  PortRange range = PortRange::make(49152, 65535);
  std::string source;                    // "policy.toml:14"

  friend bool operator==(const ExpectedDynamicRange&, const ExpectedDynamicRange&) = default;
};

/// Windows' own bounds for a dynamic port range: start >= 1025, at least 255 ports, end <= 65535.
inline constexpr Port min_dynamic_range_start = 1025;
inline constexpr std::uint32_t min_dynamic_range_ports = 255;
/// Why `range` cannot be a dynamic port range ("starts at 1000; ..."), or empty when it can. Used by
/// the policy loader and again by the Applier right before it writes (never write unvalidated).
std::string dynamic_range_problem(PortRange range);

/// How the dynamic range of a protocol can be put back on this host.
enum class RangeRestore : std::uint8_t {
  wmi,            // Windows 8 / 2012+: root\StandardCimv2 MSFT_NetUDPSetting / MSFT_NetTCPSetting
  max_user_port,  // Windows 2003: Tcpip\Parameters\MaxUserPort (1025..MaxUserPort, next boot)
  manual,         // no documented interface (Vista-2008 R2), or a range the interface cannot express
};
std::string_view to_string(RangeRestore) noexcept;   // "wmi", "max-user-port", "manual"

/// The dynamic range of one protocol compared with the policy's expectation.
struct DynamicRangePlan {
  Protocol protocol = Protocol::udp;
  ExpectedDynamicRange expected;
  PortRange current = PortRange::make(49152, 65535);
  std::string current_source;            // where the snapshot read it ("MSFT_NetUDPSetting", "MaxUserPort", ...)
  bool known = true;                     // false: not read from the host (assumed default): drift cannot be judged
  RangeRestore restore = RangeRestore::manual;
  /// restore == manual: why PortGuard cannot write it and the exact commands an admin can run;
  /// otherwise what PortGuard writes ("MaxUserPort = 5000 (REG_DWORD), takes effect at the next boot").
  std::string how;

  bool drifted() const noexcept { return known && current != expected.range; }
  bool has_changes() const noexcept { return drifted() && restore != RangeRestore::manual; }
};

struct PlanSettings {
  Mode mode = Mode::merge;
  /// Targets to manage. nullopt: every target effective on the snapshot's Windows version.
  /// A target listed here that is not effective is still planned (forced) with a finding.
  std::optional<std::vector<Target>> targets;
  SafetyLimits limits;
  Allowances allow;
  /// [guard.dynamic_range]: empty (the default) means the range is not guarded and nothing about it
  /// is planned, reported or written.
  std::vector<ExpectedDynamicRange> dynamic_ranges;
};

/// One range of a target's diff, with the requirements that explain it (empty for ranges nobody
/// in the policy owns, e.g. an admin's own entry).
struct RangeChange {
  PortRange range;
  std::vector<Requirement> why;

  /// True when the range is broader than what its requirements need (an admin's entry such as
  /// 1-65535 that happens to cover IAS 1645-1646): renderings show it as the admin's entry, never
  /// as needed by a service.
  bool broader_than_required() const;
};

struct TargetPlan {
  Target target = Target::reserved_ports;
  std::optional<Protocol> protocol;      // set for per-protocol targets (persistent-reservation)
  bool effective = false;                // Windows honours it on this version
  bool available = true;                 // the host offers it (e.g. the persistent API exists)
  bool forced = false;                   // managed because the policy asked, though not effective

  /// Registry targets: the value's strings as found, verbatim. persistent-reservation: the existing
  /// reservations of this protocol as "start-end" blocks, ascending.
  std::vector<std::string> current;
  /// Registry targets: the strings to write, canonical ranges then the unrecognised entries
  /// verbatim; equals current when nothing changes. persistent-reservation: the blocks to create
  /// (the ranges of `added`); the blocks to delete are the ranges of `removed`, exactly as found.
  std::vector<std::string> desired;
  std::vector<RangeChange> added;
  std::vector<RangeChange> removed;
  std::vector<RangeChange> kept;
  std::vector<std::string> unrecognised; // found entries that are not ranges, kept verbatim
  /// Registry targets: the value must be rewritten although no port is added or removed — its
  /// entries are not canonical (separately listed adjacent ports, KB 812873; single ports; blank
  /// strings; overlaps) or it has the wrong registry type. Apply writes `desired`.
  bool rewrite = false;

  bool has_changes() const noexcept { return !added.empty() || !removed.empty() || rewrite; }
};

enum class Severity : std::uint8_t { info, warning, error };
std::string_view to_string(Severity) noexcept;                // "info" / "warning" / "error"
std::optional<Severity> parse_severity(std::string_view) noexcept;

/// Something the planner noticed; one finding per condition. A condition is identified by code,
/// protocol, range and holder: when several requirements explain the same condition (the catalog
/// and a [[reserve]] both need UDP 1645), the finding lists them all. Codes are stable (tests, JSON and events rely on them):
///   at-risk            a required port lies inside the dynamic range (the 2008+ exposure); info
///                      when reserved already — by PortGuard, or by an excluded range administered
///                      by someone else, which the message names
///   held-by-system     a required port lies inside an excluded range the system holds at run time
///                      (HNS/WinNAT): error; nothing can bind it; the fix is a persistent exclusion
///                      made before that component starts (portguard protect --service hns)
///   foreign-block      exact mode leaves a persistent block the policy does not need because
///                      PortGuard did not create it (only blocks in its ledger are deleted) (info)
///   left-out           part of a required range lies below 1025, which no target receives (info)
///   starves-dynamic-range  what the host holds NOW leaves fewer than limits.min_free_dynamic_ports
///                      free dynamic ports (error, not blocking: the plan may still add what is
///                      needed; info when [guard.allow] shrink_dynamic lifts it)
///   too-many-reserved  a managed target holds more than limits.max_reserved_ports NOW (error,
///                      not blocking; info when [guard.allow] large_reservations lifts it)
///   conflict           a required port is held by a process other than the service needing it
///                      (error); info when the owner cannot be read and nothing shows it is not
///                      the service (that service runs, or is not installed)
///   in-use-by-owner    a required port is held by the service that needs it (informational)
///   unavailable        a wanted target does not exist on this host (e.g. no persistent API)
///   deferred           a persistent reservation waits because a port of it is bound right now
///   not-effective      a forced target is not honoured by this Windows version (info); also
///                      reported (info) when an unmanaged ReservedPorts value holds entries that
///                      this Windows version ignores
///   rail-*             safety rails: severity error and blocks_repair, unless the matching
///                      Allowances member lifts it — then severity info, not blocking, and the
///                      message says which allowance permitted it
///   value-type         a managed value has the wrong registry type or a malformed REG_MULTI_SZ
///                      layout (no final double NUL, stray byte): rewritten canonically
///   blank-entries      a managed value contains empty strings
///   unrecognised-entry a managed value contains entries that are not port ranges (kept verbatim; info)
///   rail-max-ports     more than limits.max_reserved_ports would be reserved
///   rail-dynamic-range fewer than limits.min_free_dynamic_ports dynamic ports would stay free
///   rail-empties-value a non-empty value would become empty
///   rail-invalid-port  a requirement covers port 0 or an invalid port
///   rail-removals      exact mode would remove entries nobody owns without allow.removals
///   dynamic-range-drift    the dynamic range of a protocol differs from [guard.dynamic_range]
///                      (warning; the plan's dynamic_ranges say how it is restored)
///   dynamic-range-exposes  a required port that the expected range keeps outside the dynamic
///                      range lies inside the current (widened) one and is not reserved (error;
///                      replaces at-risk for those ports, so one exposure is one alert)
///   dynamic-range-unknown  [guard.dynamic_range] names a protocol whose range could not be read
///                      (info: drift cannot be judged; the message says how to read it)
struct Finding {
  std::string code;
  Severity severity = Severity::info;
  bool blocks_repair = false;
  std::string message;                   // one complete sentence for operators
  std::optional<Target> target;
  std::optional<Requirement> requirement;  // the first of `requirements` (kept for existing readers)
  std::vector<Requirement> requirements;   // every requirement that explains the condition
  std::optional<PortInUse> holder;
  std::optional<Protocol> protocol;        // the condition's protocol and ports, where it has them
  std::optional<PortRange> range;
};

struct ReservationPlan {
  WindowsVersion version;
  PlanSettings settings;
  std::vector<TargetPlan> targets;
  std::vector<Finding> findings;
  std::vector<DynamicRangePlan> dynamic_ranges;   // one per protocol of [guard.dynamic_range]

  bool has_changes() const noexcept;
  bool blocked() const noexcept;         // some finding blocks repair
  const TargetPlan* find(Target target, std::optional<Protocol> protocol = std::nullopt) const noexcept;
};

ReservationPlan plan(const HostSnapshot& snapshot, const Requirements& requirements, const PlanSettings& settings);

/// Human-readable rendering, target by target:
///   "+ 1645-1646/udp  IAS (catalog: RADIUS legacy auth/accounting)"
std::string render_text(const ReservationPlan& plan);
/// The same content as JSON (documented in docs/cli.md).
std::string render_json(const ReservationPlan& plan);

} // namespace portguard
