#pragma once
// One assessment of a host, shared by the guard's pass and every command (check, plan, repair,
// snapshot, discover), so that `portguard check` and the running guard can never disagree:
//
//   capture -> requirements -> persistent reservations looked up for exactly those requirements
//           -> required ports the connection tables list as in use confirmed by an exclusive bind
//           -> plan
//
// Pure over its interfaces: no state is carried from one assessment to the next.
#include "portguard/core/plan.hpp"
#include "portguard/core/ports.hpp"
#include "portguard/core/requirement.hpp"
#include "portguard/core/snapshot.hpp"

#include <functional>
#include <vector>

namespace portguard {

/// What the policy demands of a host. The service implements it over config::Policy (the core
/// cannot depend on the policy module); tests implement it directly.
class RequirementSource {
public:
  virtual ~RequirementSource() = default;
  /// The registry values discovery must read (SQL Server TcpPort, RDP PortNumber ...).
  virtual std::vector<ConfiguredPortQuery> configured_port_queries() const = 0;
  /// The requirements on this host. Depends on the snapshot's services and configured ports only.
  virtual Requirements requirements_for(const HostSnapshot& host) const = 0;
};

/// Requirements given directly: fixed queries and a function of the host (tests, small callers).
class RequirementFunction : public RequirementSource {
public:
  RequirementFunction(std::function<Requirements(const HostSnapshot&)> fn, std::vector<ConfiguredPortQuery> queries = {})
      : fn_(std::move(fn)), queries_(std::move(queries)) {}
  std::vector<ConfiguredPortQuery> configured_port_queries() const override { return queries_; }
  Requirements requirements_for(const HostSnapshot& host) const override { return fn_(host); }

private:
  std::function<Requirements(const HostSnapshot&)> fn_;
  std::vector<ConfiguredPortQuery> queries_;
};

struct Assessment {
  HostSnapshot host;
  Requirements requirements;
  ReservationPlan plan;
};

/// What an exclusive bind of a port says, read together with the connection tables.
enum class PortBlock : std::uint8_t { free, in_use, excluded_by_system, unknown };
/// access_denied without a table row is an exclusion the system holds; with one (a TCP holder
/// that bound exclusively) or address_in_use, the port is in use.
PortBlock classify_bind(BindOutcome outcome, bool listed_in_use) noexcept;

/// Adds `range` to `list`, or its source to the equal entry already there (same protocol, IP
/// version, range and holder), so every range is listed once with every source that saw it.
void add_exclusion(std::vector<ExcludedRange>& list, ExcludedRange range);

/// Bounds the exclusive-bind probes of one assessment.
inline constexpr std::uint32_t max_probed_ports = 4096;

/// The one assessment. `detail`: ServiceDetail::full only where the services' registry settings
/// are shown to people (snapshot, discover); checks, repairs and guard passes need the state alone.
Assessment assess(SystemProbe& host, const RequirementSource& policy, const PlanSettings& settings, ServiceDetail detail);

/// A SystemProbe over a captured snapshot (`portguard plan --snapshot`, tests): every capture is
/// the snapshot; its ports-in-use table is trusted as captured (nothing can be probed offline).
class SnapshotProbe : public SystemProbe {
public:
  explicit SnapshotProbe(HostSnapshot snapshot) : snapshot_(std::move(snapshot)) {}
  HostSnapshot capture(const std::vector<ConfiguredPortQuery>&, ServiceDetail) override { return snapshot_; }
  bool port_in_use(Protocol, Port) override { return true; }
  BindOutcome try_exclusive_bind(Protocol, Port) override { return BindOutcome::not_probed; }

private:
  HostSnapshot snapshot_;
};

} // namespace portguard
