#pragma once
// Builders for planner tests, and apply_plan(): what a host looks like after a plan was applied,
// as the Applier would leave it (registry targets hold `desired`; persistent reservations lose the
// `removed` blocks and gain the `added` ones). Used to prove that planning is idempotent.
#include "portguard/core/plan.hpp"
#include "portguard/core/snapshot.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace portguard::testing {

inline Requirement req(Protocol protocol, long first, long last, std::string service, std::string reason,
                       Provenance::Kind kind = Provenance::Kind::catalog) {
  std::string source = kind == Provenance::Kind::catalog ? "catalog:" + service : "policy.toml:7";
  return Requirement{protocol, PortRange::make(first, last), std::move(service), {kind, std::move(source), std::move(reason)}};
}

inline ServiceInfo service(std::string name, std::uint32_t pid, ServiceState state = ServiceState::running) {
  ServiceInfo s;
  s.name = std::move(name);
  s.display_name = s.name;
  s.start_type = StartType::automatic;
  s.state = state;
  s.pid = pid;
  return s;
}

inline MultiStringValue multi(std::vector<std::string> strings) { return MultiStringValue{true, std::move(strings), {}}; }

inline DynamicPortRange dynamic(Protocol p, long first, long last, std::string source = "test") {
  return DynamicPortRange{p, IpVersion::v4, PortRange::make(first, last), false, std::move(source)};
}

inline HostSnapshot host_2003() {
  HostSnapshot s;
  s.hostname = "dc2003";
  s.version = WindowsVersion{5, 2, 3790, true};
  s.services = {service("DNS", 1816), service("IAS", 900)};
  s.dynamic_ranges = {dynamic(Protocol::udp, 1025, 5000, "MaxUserPort"), dynamic(Protocol::tcp, 1025, 5000, "MaxUserPort")};
  return s;
}

inline HostSnapshot host_2016() {
  HostSnapshot s;
  s.hostname = "nps2016";
  s.version = WindowsVersion{10, 0, 14393, true};
  s.services = {service("DNS", 2100), service("IAS", 1100)};
  s.persistent_reservations = std::vector<PersistentReservation>{};
  s.dynamic_ranges = {dynamic(Protocol::udp, 49152, 65535), dynamic(Protocol::tcp, 49152, 65535)};
  return s;
}

inline Requirements radius() {
  return {req(Protocol::udp, 1645, 1646, "IAS", "RADIUS legacy auth/accounting"),
          req(Protocol::udp, 1812, 1813, "IAS", "RADIUS auth/accounting")};
}

inline HostSnapshot apply_plan(HostSnapshot s, const ReservationPlan& plan) {
  std::uint64_t token = 1000;
  for (const auto& t : plan.targets) {
    if (!t.available || !t.has_changes()) continue;
    switch (t.target) {
      case Target::reserved_ports: s.reserved_ports = MultiStringValue{true, t.desired, {}}; break;
      case Target::dns_socket_pool: s.dns_socket_pool_excluded = MultiStringValue{true, t.desired, {}}; break;
      case Target::persistent_reservation: {
        auto& list = *s.persistent_reservations;
        for (const auto& c : t.removed) {
          list.erase(std::remove_if(list.begin(), list.end(),
                                    [&](const PersistentReservation& r) {
                                      return r.protocol == *t.protocol && r.start == c.range.first() &&
                                             r.start + r.count - 1 == c.range.last();
                                    }),
                     list.end());
        }
        for (const auto& c : t.added)
          list.push_back({*t.protocol, c.range.first(), static_cast<std::uint16_t>(c.range.size()), ++token});
        break;
      }
    }
  }
  return s;
}

inline std::vector<std::string> codes(const ReservationPlan& plan) {
  std::vector<std::string> out;
  for (const auto& f : plan.findings) out.push_back(f.code);
  return out;
}

inline const Finding* find_finding(const ReservationPlan& plan, std::string_view code) {
  for (const auto& f : plan.findings)
    if (f.code == code) return &f;
  return nullptr;
}

inline std::size_t count_findings(const ReservationPlan& plan, std::string_view code) {
  return static_cast<std::size_t>(std::count_if(plan.findings.begin(), plan.findings.end(), [&](const Finding& f) { return f.code == code; }));
}

} // namespace portguard::testing
