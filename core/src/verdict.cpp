#include "portguard/core/verdict.hpp"

namespace portguard {
namespace {

std::string range_list(const std::vector<RangeChange>& changes, std::optional<Protocol> protocol) {
  std::string out;
  for (const auto& c : changes)
    out += (out.empty() ? "" : ", ") + c.range.to_string() + (protocol ? "/" + std::string(to_string(*protocol)) : "");
  return out;
}

std::string drift_line(const TargetPlan& t) {
  std::string text = "drift on " + describe_target(t.target, t.protocol) + ":";
  if (!t.added.empty()) text += " missing " + range_list(t.added, t.protocol);
  if (!t.removed.empty()) text += " extra " + range_list(t.removed, t.protocol);
  if (t.added.empty() && t.removed.empty()) text += " the value must be rewritten in canonical form (see portguard plan)";
  return text;
}

} // namespace

std::string_view to_string(CheckStatus status) noexcept {
  switch (status) {
    case CheckStatus::ok: return "OK";
    case CheckStatus::warning: return "WARNING";
    case CheckStatus::critical: return "CRITICAL";
  }
  return "UNKNOWN";
}

CheckVerdict judge(const ReservationPlan& plan, const std::vector<PendingEffect>& pending) {
  CheckVerdict v;
  for (const auto& t : plan.targets) {
    if (!t.available || (!t.effective && !t.forced)) continue;
    ++v.managed;
    if (!t.has_changes()) {
      ++v.compliant;
      continue;
    }
    v.warning.push_back(drift_line(t));
  }
  for (const auto& p : pending) {
    v.warning.push_back("pending " + std::string(p.takes_effect == TakesEffect::next_boot ? "reboot" : "DNS restart") + ": " +
                        describe(p) + " was changed and takes effect at the " + std::string(to_string(p.takes_effect)));
  }
  for (const auto& f : plan.findings) {
    if (f.code == "at-risk" && f.severity != Severity::info) ++v.at_risk;
    const bool unavailable = f.code == "unavailable" && f.severity != Severity::info;
    const bool critical = f.severity == Severity::error || f.blocks_repair || unavailable;
    // The counters mean what the status means: `conflicts` counts what makes the check CRITICAL;
    // `unknown_holders` the ports held by a process Windows did not name while the service needing
    // them runs or is not installed (info: it may be that service), which leave the status alone.
    if (f.code == "conflict" && critical) ++v.conflicts;
    if (f.code == "conflict" && !critical && f.holder && f.holder->pid == 0) ++v.unknown_holders;
    if (critical) v.critical.push_back("[" + f.code + "] " + f.message);
    else if (f.severity == Severity::warning) v.warning.push_back("[" + f.code + "] " + f.message);
  }
  v.status = !v.critical.empty() ? CheckStatus::critical : !v.warning.empty() ? CheckStatus::warning : CheckStatus::ok;
  return v;
}

} // namespace portguard
