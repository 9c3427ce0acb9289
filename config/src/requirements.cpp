#include "internal.hpp"

#include <algorithm>

namespace portguard::config {

namespace {

const ServiceInfo* installed(const HostSnapshot& host, std::string_view name) {
  for (const ServiceInfo& s : host.services) {
    if (iequals_ascii(s.name, name)) return &s;
  }
  return nullptr;
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return glob_match(n, name); });
}

} // namespace

Requirements requirements_for(const Policy& policy, const HostSnapshot& host) {
  Requirements out;

  for (const Reservation& r : policy.reservations) {
    if (r.when_installed && installed(host, *r.when_installed) == nullptr) continue;
    for (Protocol p : r.protocols) {
      for (const PortRange& range : r.ports) {
        out.push_back({p, range, r.service, {r.origin, r.source, r.reason.empty() ? "[[reserve]] in the policy" : r.reason}});
      }
    }
  }

  auto discovered = [&](std::string_view service) { return policy.discover_registry_ports && !listed(policy.discovery_exclude, service); };

  if (policy.use_catalog) {
    for (const CatalogEntry& e : policy.catalog.entries) {
      if (listed(policy.catalog_exclude, e.service)) continue;
      const ServiceInfo* s = installed(host, e.service);
      if (s == nullptr && !listed(policy.catalog_include, e.service)) continue;
      const std::string service = s ? s->name : e.service;
      const auto o = std::find_if(policy.catalog_overrides.begin(), policy.catalog_overrides.end(),
                                  [&](const CatalogOverride& x) { return iequals_ascii(x.service, e.service); });
      const CatalogOverride* ov = o == policy.catalog_overrides.end() ? nullptr : &*o;
      const std::string reason = ov && ov->reason ? *ov->reason : e.reason;
      const std::string source = "catalog:" + e.service;

      for (Protocol p : {Protocol::udp, Protocol::tcp}) {
        const auto& overridden = p == Protocol::udp ? (ov ? ov->udp : std::nullopt) : (ov ? ov->tcp : std::nullopt);
        const std::vector<PortRange>& defaults = p == Protocol::udp ? e.udp : e.tcp;
        // Precedence: the policy's override, then a port configured in the service's registry
        // settings (it becomes a registry requirement below), then the catalog's default.
        if (!overridden && discovered(service)) {
          const bool configured = std::any_of(host.configured_ports.begin(), host.configured_ports.end(), [&](const ConfiguredPort& cp) {
            return cp.protocol == p && iequals_ascii(cp.service, service);
          });
          if (configured) continue;
        }
        for (const PortRange& range : overridden ? *overridden : defaults) {
          out.push_back({p, range, service, {Provenance::Kind::catalog, source, reason}});
        }
      }
    }
  }

  for (const ConfiguredPort& cp : host.configured_ports) {
    if (!discovered(cp.service)) continue;
    out.push_back({cp.protocol, cp.ports, cp.service, {Provenance::Kind::registry, cp.source, "port configured in the registry for " + cp.service}});
  }
  return out;
}

std::vector<ConfiguredPortQuery> configured_port_queries(const Policy& policy) {
  std::vector<ConfiguredPortQuery> out;
  if (!policy.discover_registry_ports) return out;
  for (const CatalogEntry& e : policy.catalog.entries) {
    for (const CatalogConfiguredPort& q : e.configured) {
      if (listed(policy.discovery_exclude, q.service)) continue;
      out.push_back(ConfiguredPortQuery{q.service, q.key, q.value, q.protocol, q.end_value});
    }
  }
  return out;
}

} // namespace portguard::config
