#include "portguard/core/metrics.hpp"

#include "portguard/core/backup_store.hpp"
#include "portguard/core/error.hpp"
#include "portguard/core/guard.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace portguard {
namespace {

/// Every safety rail code of the planner (plan.hpp), so their counters exist from the first write.
constexpr std::array<std::string_view, 5> rail_codes{"rail-dynamic-range", "rail-empties-value", "rail-invalid-port", "rail-max-ports",
                                                    "rail-removals"};

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

/// A registry target stands for every protocol it protects; per-protocol targets name theirs.
std::string protocol_label(Target target, std::optional<Protocol> protocol) {
  if (protocol) return std::string(to_string(*protocol));
  const TargetInfo& i = info(target);
  return i.udp && i.tcp ? "both" : i.udp ? "udp" : "tcp";
}

/// "persistent-reservation/udp" -> target="persistent-reservation",protocol="udp".
std::string target_labels(const std::string& key) {
  const auto slash = key.find('/');
  const std::string name = key.substr(0, slash);
  std::optional<Protocol> protocol;
  if (slash != std::string::npos) protocol = key.substr(slash + 1) == "tcp" ? Protocol::tcp : Protocol::udp;
  const auto target = parse_target(name);
  return "target=\"" + name + "\",protocol=\"" + (target ? protocol_label(*target, protocol) : std::string("unknown")) + "\"";
}

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else if (c != '\r') out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

class Exposition {
public:
  /// Starts a metric family: its HELP and TYPE lines.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, const std::string& labels, const std::string& value) {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += ' ' + value + '\n';
  }
  void sample(std::string_view name, const std::string& labels, std::uint64_t value) { sample(name, labels, std::to_string(value)); }
  void gauge(std::string_view name, std::string_view help, std::uint64_t value) {
    family(name, "gauge", help);
    sample(name, "", value);
  }
  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

nlohmann::json to_json(const std::map<std::string, std::uint64_t>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

std::map<std::string, std::uint64_t> from_json(const nlohmann::json& j) {
  std::map<std::string, std::uint64_t> m;
  for (const auto& [k, v] : j.items()) m[k] = v.get<std::uint64_t>();
  return m;
}

} // namespace

void measure_plan(const ReservationPlan& plan, const Requirements& requirements, const std::vector<std::string>& repaired, PassMetrics& out) {
  for (const TargetPlan& t : plan.targets) {
    const bool written = contains(repaired, describe_target(t.target, t.protocol));
    out.compliance.push_back({t.target, t.protocol, t.available && (!t.has_changes() || written)});
    PortSet held;
    for (const RangeChange& k : t.kept) held.insert(k.range);
    const TargetInfo& ti = info(t.target);
    for (Protocol p : {Protocol::udp, Protocol::tcp}) {
      if (t.protocol ? *t.protocol != p : !(p == Protocol::udp ? ti.udp : ti.tcp)) continue;
      PortSet required;
      for (const Requirement& r : requirements)
        if (r.protocol == p) required.insert(r.ports);
      const std::uint64_t reserved = written ? required.count() : required.intersected(held).count();
      out.ports.push_back({t.target, p, required.count(), reserved});
    }
  }
}

void MetricCounters::add_pass(bool ran, const PassMetrics& pass) {
  if (!ran) {
    ++failed_passes;
    return;
  }
  ++passes;
  for (const auto& k : pass.repaired) ++repairs[k];
  for (const auto& k : pass.drifted) ++drifts[k];
  for (const auto& r : pass.rails) ++rail_blocks[r];
}

MetricCounters load_metric_counters(const std::filesystem::path& state_dir) {
  const auto file = state_dir / metric_counters_file_name;
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  try {
    const auto doc = nlohmann::json::parse(text.str());
    MetricCounters c;
    c.passes = doc.at("passes").get<std::uint64_t>();
    c.failed_passes = doc.at("failed_passes").get<std::uint64_t>();
    c.repairs = from_json(doc.at("repairs"));
    c.drifts = from_json(doc.at("drift_detections"));
    c.rail_blocks = from_json(doc.at("rail_blocks"));
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string(), std::string("broken metrics counters: ") + e.what() + "; delete the file to start the counters again");
  }
}

void save_metric_counters(const std::filesystem::path& state_dir, const MetricCounters& c) {
  const nlohmann::json doc{{"format", 1},
                           {"passes", c.passes},
                           {"failed_passes", c.failed_passes},
                           {"repairs", to_json(c.repairs)},
                           {"drift_detections", to_json(c.drifts)},
                           {"rail_blocks", to_json(c.rail_blocks)}};
  write_file_atomically(state_dir / metric_counters_file_name, doc.dump(2) + "\n", ParentFolder::create);
}

std::string policy_fingerprint(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string render_prometheus(const MetricsState& s) {
  Exposition e;
  e.family("portguard_build_info", "gauge", "PortGuard version and fingerprint of the policy in force (always 1).");
  e.sample("portguard_build_info", "version=\"" + escape_label(s.version) + "\",policy_hash=\"" + escape_label(s.policy_hash) + "\"", 1);
  e.gauge("portguard_up", "1 while the guard runs; 0 is written when it stops.", s.up ? 1 : 0);
  e.gauge("portguard_policy_valid", "1 when the policy loaded without error; 0 when it is missing, invalid or insecure.", s.policy_valid ? 1 : 0);
  e.gauge("portguard_last_known_good_in_use", "1 when the guard enforces the last known good policy because the current one cannot be used.",
          s.last_known_good ? 1 : 0);
  e.gauge("portguard_audit_mode", "1 when the guard only reports (audit), 0 when it repairs (enforce).", s.audit ? 1 : 0);
  e.gauge("portguard_last_pass_success", "1 when the latest check-and-repair pass ran to the end, 0 when it failed (event 3009) or no policy is in force.",
          s.last_pass_ok ? 1 : 0);
  if (s.last_pass_unix) {
    e.gauge("portguard_last_pass_timestamp_seconds", "Unix time at which the last complete pass ended.", *s.last_pass_unix);
    e.family("portguard_last_pass_duration_seconds", "gauge", "How long the last complete pass took.");
    e.sample("portguard_last_pass_duration_seconds", "", number(s.last_pass_seconds.value_or(0)));
  }
  const PassMetrics& p = s.last_pass;
  e.family("portguard_target_compliant", "gauge", "1 when the target holds every port the policy requires (last complete pass).");
  for (const auto& c : p.compliance)
    e.sample("portguard_target_compliant", target_labels(describe_target(c.target, c.protocol)), c.compliant ? 1 : 0);
  e.family("portguard_ports_required", "gauge", "Ports the policy requires the target to reserve, per protocol.");
  for (const auto& t : p.ports) e.sample("portguard_ports_required", target_labels(describe_target(t.target, t.protocol)), t.required);
  e.family("portguard_ports_reserved", "gauge", "Required ports the target reserves after the last complete pass, per protocol.");
  for (const auto& t : p.ports) e.sample("portguard_ports_reserved", target_labels(describe_target(t.target, t.protocol)), t.reserved);
  e.gauge("portguard_conflicts", "Required ports held by a process other than the service that needs them (event 3001).", p.conflicts);
  e.gauge("portguard_ports_at_risk", "Required ports inside the dynamic port range and not reserved (event 2004).", p.ports_at_risk);
  if (!p.dynamic_range_drift.empty()) {   // [guard.dynamic_range] (issue 16): only when guarded
    e.family("portguard_dynamic_range_drift", "gauge",
             "1 when the protocol's dynamic port range differs from [guard.dynamic_range] after the last complete pass (event 2007).");
    for (const auto& [protocol, drift] : p.dynamic_range_drift)
      e.sample("portguard_dynamic_range_drift", "protocol=\"" + std::string(to_string(protocol)) + "\"", drift ? 1 : 0);
  }
  e.gauge("portguard_pending_reboot", "1 while a change waits for a reboot: ReservedPorts, or a dynamic range restored through MaxUserPort (event 2002).", s.pending_reboot ? 1 : 0);
  e.gauge("portguard_pending_dns_restart", "1 while a DNS socket pool change waits for a DNS service restart (event 2003).",
          s.pending_dns_restart ? 1 : 0);

  // Counters: every target of the last pass and every rail exist from the start at 0, so rate()
  // and increase() see the first increment.
  auto repairs = s.counters.repairs;
  auto drifts = s.counters.drifts;
  for (const auto& c : p.compliance) {
    repairs.try_emplace(describe_target(c.target, c.protocol), 0);
    drifts.try_emplace(describe_target(c.target, c.protocol), 0);
  }
  auto rails = s.counters.rail_blocks;
  for (auto code : rail_codes) rails.try_emplace(std::string(code), 0);
  e.family("portguard_repairs_total", "counter", "Repairs written and verified, per target (event 1003); kept across restarts.");
  for (const auto& [k, v] : repairs) e.sample("portguard_repairs_total", target_labels(k), v);
  e.family("portguard_drift_detections_total", "counter", "Passes that found a target drifted from the policy (events 2001/2005); kept across restarts.");
  for (const auto& [k, v] : drifts) e.sample("portguard_drift_detections_total", target_labels(k), v);
  e.family("portguard_rail_blocks_total", "counter", "Repairs refused by a safety rail, per rail (event 3004); kept across restarts.");
  for (const auto& [k, v] : rails) e.sample("portguard_rail_blocks_total", "rail=\"" + escape_label(k) + "\"", v);
  e.family("portguard_passes_total", "counter", "Check-and-repair passes that ran to the end; kept across restarts.");
  e.sample("portguard_passes_total", "", s.counters.passes);
  e.family("portguard_failed_passes_total", "counter", "Passes that failed before planning (event 3009); kept across restarts.");
  e.sample("portguard_failed_passes_total", "", s.counters.failed_passes);
  return e.take();
}

} // namespace portguard
