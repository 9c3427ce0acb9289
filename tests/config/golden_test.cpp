// Golden tests: the shipped default policy and every TOML example in docs/policy.md must load, so
// the documentation cannot rot.
#include "support.hpp"

#include <regex>

using namespace pgtest;

TEST_CASE("the shipped default policy", "[golden]") {
  const Policy p = load_policy(source_dir() / "config" / "policy.default.toml", data_dir() / "services");
  CHECK(p.plan.mode == Mode::merge);
  CHECK(p.enforcement == Enforcement::enforce);
  CHECK_FALSE(p.plan.targets.has_value());
  CHECK(p.recheck_interval == std::chrono::minutes(15));
  CHECK(p.use_catalog);
  CHECK(p.catalog_exclude.empty());
  CHECK(p.discover_registry_ports);
  REQUIRE(p.reservations.size() == 1);
  const Reservation& r = p.reservations[0];
  CHECK(r.ports == std::vector<PortRange>{PortRange::single(1645), PortRange::single(1646), PortRange::make(1812, 1813)});
  CHECK(r.protocols == std::vector<Protocol>{Protocol::udp});
  CHECK(r.service == "IAS");
  CHECK(r.when_installed == "IAS");

  // On a DNS + IAS box: the explicit RADIUS reservation, the catalog's IAS and DNS ports.
  HostSnapshot h;
  h.services = {service("DNS"), service("IAS")};
  std::vector<std::string> got;
  for (const Requirement& q : requirements_for(p, h)) {
    got.push_back(q.ports.to_string() + "/" + std::string(to_string(q.protocol)) + " " + q.service + " " +
                  std::string(to_string(q.provenance.kind)) + " " + q.provenance.source.substr(q.provenance.source.find_last_of("/\\") + 1));
  }
  CHECK(got == std::vector<std::string>{
                   "1645-1645/udp IAS policy policy.default.toml:60",
                   "1646-1646/udp IAS policy policy.default.toml:60",
                   "1812-1813/udp IAS policy policy.default.toml:60",
                   "1645-1646/udp IAS catalog catalog:IAS",
                   "1812-1813/udp IAS catalog catalog:IAS",
                   "53-53/udp DNS catalog catalog:DNS",
                   "53-53/tcp DNS catalog catalog:DNS",
               });
}

TEST_CASE("every TOML example in docs/policy.md is valid", "[golden][docs]") {
  const std::string doc = read_all(source_dir() / "docs" / "policy.md");
  REQUIRE_FALSE(doc.empty());
  // ```toml blocks are policies, except those whose first line is "# catalog.toml" (catalog format).
  const std::regex block("```toml\\r?\\n([\\s\\S]*?)```");
  int policies = 0, catalogs = 0;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), block); it != std::sregex_iterator(); ++it) {
    const std::string text = (*it)[1].str();
    const auto line = 1 + std::count(doc.begin(), doc.begin() + it->position(0), '\n');
    const std::string name = "docs/policy.md:" + std::to_string(line);
    INFO("example at " << name << ":\n" << text);
    try {
      if (text.rfind("# catalog.toml", 0) == 0) {
        const Catalog c = load_catalog_text(text, name);
        CHECK_FALSE(c.entries.empty());
        ++catalogs;
      } else {
        const Policy p = load_policy_text(text, name, test_services());
        CHECK(p.source == name);
        ++policies;
      }
    } catch (const PolicyError& e) {
      std::string all;
      for (const auto& d : e.diagnostics()) all += d.to_string() + "\n";
      FAIL(all);
    }
  }
  CHECK(policies >= 5);
  CHECK(catalogs >= 1);
}

TEST_CASE("docs/policy.md lists every catalog service", "[golden][docs][catalog]") {
  const std::string doc = read_all(source_dir() / "docs" / "policy.md");
  for (const CatalogEntry& e : builtin_catalog().entries) {
    INFO(e.service);
    CHECK(doc.find("\n| " + e.service + " | ") != std::string::npos);
  }
}
