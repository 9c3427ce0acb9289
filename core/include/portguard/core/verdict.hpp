#pragma once
// What `portguard check` says about an assessment: the monitoring verdict (Nagios convention) and
// its lines. Portable, so that the verdict is tested against the guard's pass on the same host:
// OK exactly when the guard stays quiet (no warning or error event), CRITICAL exactly when it
// raises an error event (tests/core/assess_test.cpp).
#include "portguard/core/guard.hpp"
#include "portguard/core/plan.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace portguard {

enum class CheckStatus : int { ok = 0, warning = 1, critical = 2 };
std::string_view to_string(CheckStatus status) noexcept;   // "OK" / "WARNING" / "CRITICAL"

struct CheckVerdict {
  CheckStatus status = CheckStatus::ok;
  std::vector<std::string> critical;   // one line per condition, in plan order
  std::vector<std::string> warning;    // drift first, then pending effects, then findings
  std::size_t managed = 0;             // targets the plan manages on this host
  std::size_t compliant = 0;           // ... that hold what the policy requires
  std::size_t conflicts = 0;           // conflicts that make the check CRITICAL
  std::size_t unknown_holders = 0;     // held by an unnamed process, status unchanged (info)
  std::size_t at_risk = 0;             // at-risk findings that are not reserved already
};

/// The verdict on a plan and the effects still waiting for a reboot / DNS restart:
///  CRITICAL  an error finding (conflict, a current value breaking a rail, a blocking rail) or a
///            wanted mechanism that is unavailable (an `unavailable` finding above info);
///  WARNING   drift (a managed target must change), a pending effect, or a warning finding;
///  OK        otherwise. Info findings never change the verdict.
CheckVerdict judge(const ReservationPlan& plan, const std::vector<PendingEffect>& pending);

} // namespace portguard
