// Text and JSON renderings of a ReservationPlan. Both carry the same content; the JSON layout is
// documented in docs/cli.md ("plan output").
#include "portguard/core/plan.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace portguard {

namespace {

constexpr std::size_t max_reasons_shown = 5;

std::string protocol_suffix(const TargetPlan& t, const RangeChange& c) {
  if (t.protocol) return "/" + std::string(to_string(*t.protocol));
  if (t.target == Target::dns_socket_pool) return "/udp";
  bool udp = false;
  bool tcp = false;
  for (const auto& r : c.why) (r.protocol == Protocol::udp ? udp : tcp) = true;
  if (udp && tcp) return "/tcp+udp";
  if (udp) return "/udp";
  if (tcp) return "/tcp";
  return {};
}

std::string reasons(const RangeChange& c) {
  if (c.why.empty()) return "not required by the policy";
  std::string out;
  std::set<std::string> seen;
  std::size_t shown = 0;
  for (const auto& r : c.why) {
    std::string d = describe(r);
    if (!seen.insert(d).second) continue;
    if (shown == max_reasons_shown) {
      out += "; and " + std::to_string(c.why.size() - shown) + " more";
      break;
    }
    out += (out.empty() ? "" : "; ") + d;
    ++shown;
  }
  return out;
}

/// A kept range: as its reasons when the requirements need all of it; as the admin's entry,
/// naming what it covers, when it is broader ("admin entry 1-65535, covers 1645-1646 for IAS ...");
/// below 1025 it protects nothing, and says so.
std::string kept_reasons(const RangeChange& c) {
  if (c.range.last() < 1025 && !c.why.empty()) return reasons(c) + "; below 1025, protects nothing (kept as found)";
  if (!c.broader_than_required()) return reasons(c);
  std::string out = "admin entry " + c.range.to_string() + ", covers ";
  std::vector<std::string> seen;
  std::size_t shown = 0;
  for (const auto& r : c.why) {
    std::string d = r.ports.to_string() + " for " + describe(r);
    if (std::find(seen.begin(), seen.end(), d) != seen.end()) continue;
    if (shown == max_reasons_shown) {
      out += "; and " + std::to_string(c.why.size() - shown) + " more";
      break;
    }
    out += (shown == 0 ? "" : "; ") + d;
    seen.push_back(std::move(d));
    ++shown;
  }
  return out;
}

std::string quoted_list(const std::vector<std::string>& values) {
  if (values.empty()) return "(empty)";
  std::string out;
  constexpr std::size_t limit = 20;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i == limit) {
      out += " ... (" + std::to_string(values.size()) + " entries)";
      break;
    }
    out += (i == 0 ? "\"" : " \"") + values[i] + "\"";
  }
  return out;
}

nlohmann::ordered_json requirement_json(const Requirement& r) {
  return {{"protocol", to_string(r.protocol)},
          {"ports", r.ports.to_string()},
          {"service", r.service},
          {"provenance", {{"kind", to_string(r.provenance.kind)}, {"source", r.provenance.source}, {"reason", r.provenance.reason}}}};
}

nlohmann::ordered_json changes_json(const std::vector<RangeChange>& changes) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& c : changes) {
    auto why = nlohmann::ordered_json::array();
    for (const auto& r : c.why) why.push_back(requirement_json(r));
    out.push_back({{"range", c.range.to_string()},
                   {"first", c.range.first()},
                   {"last", c.range.last()},
                   {"admin_entry", c.why.empty() || c.broader_than_required()},
                   {"why", std::move(why)}});
  }
  return out;
}

} // namespace

std::string render_text(const ReservationPlan& plan) {
  std::string out = "Plan for " + plan.version.describe() + ", mode " + std::string(to_string(plan.settings.mode)) + "\n";
  for (const auto& t : plan.targets) {
    out += "\n" + std::string(to_string(t.target));
    if (t.protocol) out += "/" + std::string(to_string(*t.protocol));
    std::string state = t.effective ? "effective" : "not effective on this version";
    if (t.forced) state += ", forced by the policy";
    if (!t.available) state += ", unavailable on this host";
    out += "  (" + state + "; changes take effect " + (info(t.target).takes_effect == TakesEffect::immediately ? "" : "at ") +
           std::string(to_string(info(t.target).takes_effect)) + ")\n";
    if (!t.available) {
      out += "  not managed\n";
      continue;
    }
    for (const auto& c : t.added) out += "  + " + c.range.to_string() + protocol_suffix(t, c) + "  " + reasons(c) + "\n";
    for (const auto& c : t.removed) out += "  - " + c.range.to_string() + protocol_suffix(t, c) + "  " + reasons(c) + "\n";
    for (const auto& c : t.kept) out += "  = " + c.range.to_string() + protocol_suffix(t, c) + "  " + kept_reasons(c) + "\n";
    for (const auto& u : t.unrecognised) out += "  ? \"" + u + "\"  not a port range, kept verbatim\n";
    if (t.target == Target::persistent_reservation) {
      out += "  existing blocks: " + quoted_list(t.current) + "\n";
      if (!t.desired.empty()) out += "  blocks to create: " + quoted_list(t.desired) + "\n";
    } else {
      out += "  current value: " + quoted_list(t.current) + "\n";
      if (t.has_changes()) out += "  new value:     " + quoted_list(t.desired) + "\n";
    }
    if (!t.has_changes()) out += "  no changes\n";
  }
  // [guard.dynamic_range] (issue 16): shown only when the policy guards the range.
  for (const auto& d : plan.dynamic_ranges) {
    out += "\ndynamic-range/" + std::string(to_string(d.protocol)) + "  (expected " + d.expected.range.to_string() + ", " +
           d.expected.source + ")\n";
    out += "  current: " + d.current.to_string() + " (" + d.current_source + (d.known ? "" : ", not read from the host") + ")\n";
    if (!d.known) out += "  cannot be checked\n";
    else if (!d.drifted()) out += "  no changes\n";
    else out += std::string(d.has_changes() ? "  restore: " : "  not restored by PortGuard: ") + d.how + "\n";
  }
  out += "\nFindings:\n";
  if (plan.findings.empty()) out += "  none\n";
  for (const auto& f : plan.findings) {
    out += "  " + std::string(to_string(f.severity)) + " " + f.code + (f.blocks_repair ? " [blocks repair]" : "") + ": " +
           f.message + "\n";
  }
  out += "\n";
  if (!plan.has_changes()) out += "Result: nothing to change.\n";
  else if (plan.blocked()) out += "Result: changes needed, but repair is blocked by the findings above.\n";
  else out += "Result: changes needed; repair would apply them.\n";
  return out;
}

std::string render_json(const ReservationPlan& plan) {
  using json = nlohmann::ordered_json;
  json doc;
  doc["windows"] = {{"major", plan.version.major}, {"minor", plan.version.minor}, {"build", plan.version.build},
                    {"server", plan.version.server}, {"description", plan.version.describe()}};
  json settings;
  settings["mode"] = to_string(plan.settings.mode);
  if (plan.settings.targets) {
    auto targets = json::array();
    for (Target t : *plan.settings.targets) targets.push_back(to_string(t));
    settings["targets"] = std::move(targets);
  } else {
    settings["targets"] = nullptr;
  }
  settings["limits"] = {{"max_reserved_ports", plan.settings.limits.max_reserved_ports},
                        {"min_free_dynamic_ports", plan.settings.limits.min_free_dynamic_ports}};
  settings["allow"] = {{"removals", plan.settings.allow.removals},
                       {"large_reservations", plan.settings.allow.large_reservations},
                       {"shrink_dynamic", plan.settings.allow.shrink_dynamic},
                       {"empty_value", plan.settings.allow.empty_value}};
  doc["settings"] = std::move(settings);
  doc["has_changes"] = plan.has_changes();
  doc["blocked"] = plan.blocked();

  auto targets = json::array();
  for (const auto& t : plan.targets) {
    json j;
    j["target"] = to_string(t.target);
    j["protocol"] = t.protocol ? json(to_string(*t.protocol)) : json(nullptr);
    j["effective"] = t.effective;
    j["available"] = t.available;
    j["forced"] = t.forced;
    j["takes_effect"] = to_string(info(t.target).takes_effect);
    j["has_changes"] = t.has_changes();
    j["rewrite"] = t.rewrite;
    j["current"] = t.current;
    j["desired"] = t.desired;
    j["added"] = changes_json(t.added);
    j["removed"] = changes_json(t.removed);
    j["kept"] = changes_json(t.kept);
    j["unrecognised"] = t.unrecognised;
    targets.push_back(std::move(j));
  }
  doc["targets"] = std::move(targets);
  if (!plan.dynamic_ranges.empty()) {   // [guard.dynamic_range] (issue 16): absent when not guarded
    auto ranges = json::array();
    for (const auto& d : plan.dynamic_ranges) {
      ranges.push_back({{"protocol", to_string(d.protocol)}, {"expected", d.expected.range.to_string()}, {"expected_source", d.expected.source},
                        {"current", d.current.to_string()}, {"current_source", d.current_source}, {"known", d.known},
                        {"drifted", d.drifted()}, {"has_changes", d.has_changes()}, {"restore", to_string(d.restore)}, {"how", d.how}});
    }
    doc["dynamic_ranges"] = std::move(ranges);
  }

  auto findings = json::array();
  for (const auto& f : plan.findings) {
    json j;
    j["code"] = f.code;
    j["severity"] = to_string(f.severity);
    j["blocks_repair"] = f.blocks_repair;
    j["message"] = f.message;
    j["target"] = f.target ? json(to_string(*f.target)) : json(nullptr);
    j["requirement"] = f.requirement ? requirement_json(*f.requirement) : json(nullptr);
    auto all = json::array();
    for (const auto& r : f.requirements) all.push_back(requirement_json(r));
    j["requirements"] = std::move(all);
    j["protocol"] = f.protocol ? json(to_string(*f.protocol)) : json(nullptr);
    j["range"] = f.range ? json(f.range->to_string()) : json(nullptr);
    if (f.holder) {
      j["holder"] = {{"protocol", to_string(f.holder->protocol)}, {"port", f.holder->port}, {"pid", f.holder->pid},
                     {"process", f.holder->process}, {"service", f.holder->service}, {"description", f.holder->describe_holder()}};
    } else {
      j["holder"] = nullptr;
    }
    findings.push_back(std::move(j));
  }
  doc["findings"] = std::move(findings);
  // Registry strings are reproduced verbatim; invalid UTF-8 (a damaged value) must not make the
  // rendering itself fail, so it is replaced by U+FFFD here.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

} // namespace portguard
