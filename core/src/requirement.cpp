#include "portguard/core/requirement.hpp"

namespace portguard {

std::string_view to_string(Provenance::Kind kind) noexcept {
  switch (kind) {
    case Provenance::Kind::policy: return "policy";
    case Provenance::Kind::catalog: return "catalog";
    case Provenance::Kind::registry: return "registry";
    case Provenance::Kind::gpo: return "gpo";
  }
  return "?";
}

std::optional<Provenance::Kind> parse_provenance_kind(std::string_view text) noexcept {
  if (text == "policy") return Provenance::Kind::policy;
  if (text == "catalog") return Provenance::Kind::catalog;
  if (text == "registry") return Provenance::Kind::registry;
  if (text == "gpo") return Provenance::Kind::gpo;
  return std::nullopt;
}

std::string describe(const Requirement& r) {
  std::string who = r.service.empty() ? std::string("policy") : r.service;
  std::string detail(to_string(r.provenance.kind));
  if (r.provenance.kind == Provenance::Kind::gpo) detail += ':';   // "gpo: HKLM\SOFTWARE\Policies\PortGuard\..."
  if (r.provenance.kind != Provenance::Kind::catalog && !r.provenance.source.empty()) detail += " " + r.provenance.source;
  if (!r.provenance.reason.empty()) detail += ": " + r.provenance.reason;
  return who + " (" + detail + ")";
}

std::size_t distinct_port_ranges(const Requirements& requirements) {
  std::vector<PortRange> all;
  for (const auto& r : requirements) all.push_back(r.ports);
  return PortSet::from_ranges(std::move(all)).ranges().size();
}

} // namespace portguard
