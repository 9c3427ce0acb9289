// The catalog of well-known services: shipped content and the loader's checks.
#include "support.hpp"

#include <regex>
#include <set>

using namespace pgtest;
using Catch::Matchers::Contains;

TEST_CASE("the built-in catalog is the shipped config/catalog.toml", "[catalog]") {
  const Catalog& builtin = builtin_catalog();
  const Catalog file = load_catalog(source_dir() / "config" / "catalog.toml");
  CHECK(builtin.entries == [&] {
    auto e = file.entries;  // sources differ only by the file name
    for (auto& x : e) x.source.replace(0, x.source.rfind(':'), builtin_catalog_source);
    return e;
  }());
  CHECK(builtin.text == file.text);
}

TEST_CASE("every catalog entry is well-formed and referenced", "[catalog]") {
  const Catalog& c = builtin_catalog();
  CHECK(c.entries.size() >= 25);
  const std::regex reference(R"(^(KB [0-9]{5,7}|https://learn\.microsoft\.com/.+)$)");
  std::set<std::string> names;
  for (const CatalogEntry& e : c.entries) {
    INFO(e.service << " at " << e.source);
    std::string lower = e.service;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    CHECK(names.insert(lower).second);
    CHECK_FALSE(e.reason.empty());
    CHECK_FALSE(e.display.empty());
    CHECK(std::regex_match(e.reference, reference));
    CHECK(e.udp.size() + e.tcp.size() > 0);
    for (const auto* list : {&e.udp, &e.tcp}) {
      for (const PortRange& r : *list) CHECK((r.first() >= 1 && r.first() <= r.last()));
    }
    for (const CatalogConfiguredPort& q : e.configured) {
      CHECK(q.key.rfind("HKLM\\", 0) == 0);
      CHECK_FALSE(q.value.empty());
      CHECK(glob_match(q.service, e.service));  // the value configures this entry's service
    }
  }
}

TEST_CASE("the catalog holds the ports the notes name", "[catalog]") {
  const Catalog& c = builtin_catalog();
  const CatalogEntry* ias = c.find("ias");
  REQUIRE(ias != nullptr);
  CHECK(ias->udp == std::vector<PortRange>{PortRange::make(1645, 1646), PortRange::make(1812, 1813)});
  CHECK(ias->tcp.empty());
  CHECK(ias->reference == "KB 832017");
  REQUIRE(c.find("W32Time") != nullptr);
  CHECK(c.find("W32Time")->udp == std::vector<PortRange>{PortRange::single(123)});
  REQUIRE(c.find("MSExchangeIS") != nullptr);
  CHECK(c.find("MSExchangeIS")->udp == std::vector<PortRange>{PortRange::single(2883)});
  CHECK(c.find("MSExchangeIS")->reference == "KB 956189");

  const CatalogEntry* sql = c.find("MSSQLSERVER");
  REQUIRE(sql != nullptr);
  REQUIRE(sql->configured.size() == 1);
  CHECK(sql->configured[0].key == "HKLM\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\*\\MSSQLServer\\SuperSocketNetLib\\Tcp\\IPAll");
  CHECK(sql->configured[0].value == "TcpPort");
  CHECK(sql->configured[0].service == "MSSQL*");
  const CatalogEntry* rdp = c.find("TermService");
  REQUIRE(rdp != nullptr);
  REQUIRE(rdp->configured.size() == 2);
  CHECK(rdp->configured[0].value == "PortNumber");
  const CatalogEntry* wds = c.find("WDSServer");
  REQUIRE(wds != nullptr);
  REQUIRE(wds->configured.size() == 1);
  CHECK(wds->configured[0].value == "UdpStartPort");
  CHECK(wds->configured[0].end_value == "UdpEndPort");
  CHECK(wds->configured[0].protocol == Protocol::udp);
}

TEST_CASE("a bad catalog is reported entry by entry", "[catalog][messages]") {
  try {
    load_catalog_text(R"([[service]]
name = "A"
reason = "x"
udp = ["20-10"]
reference = "see the web"

[[service]]
name = "a"
reason = "dup"
tcp = [1]
reference = "KB 123456"

[[service]]
name = "B"
reference = "KB 123456"
prots = [1]
)", "catalog.toml");
    FAIL("loaded");
  } catch (const PolicyError& e) {
    std::vector<std::string> got;
    for (const auto& d : e.diagnostics()) got.push_back(d.to_string());
    CHECK(got == std::vector<std::string>{
                     "catalog.toml:4:8: reversed range '20-10' in 'udp'; write \"10-20\" (smaller port first)",
                     "catalog.toml:5:13: reference 'see the web' of catalog entry 'A' is neither \"KB nnnnnn\" nor an https:// URL",
                     "catalog.toml:8:8: service 'a' is listed twice (first at catalog.toml:1); merge the two entries",
                     "catalog.toml:13:1: catalog entry 'B' has no 'reason'; write reason = \"<why the ports matter>\"",
                     "catalog.toml:13:1: catalog entry 'B' lists no ports; write udp = [...] and/or tcp = [...]",
                     "catalog.toml:16:1: unknown key 'prots' in [[service]] #3; the keys allowed here are 'name', 'display', 'reason', 'reference', 'udp', 'tcp' and 'configured'",
                 });
  }
  CHECK_THROWS_AS(load_catalog_text("", "c.toml"), PolicyError);
  CHECK_THROWS_AS(load_catalog(source_dir() / "no-such-catalog.toml"), PolicyReadError);
}

TEST_CASE("glob matching for service patterns", "[catalog]") {
  CHECK(glob_match("MSSQL*", "MSSQL$SQLEXPRESS"));
  CHECK(glob_match("mssql*", "MSSQLSERVER"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("a*c*e", "abcde"));
  CHECK_FALSE(glob_match("MSSQL*", "SQLBrowser"));
  CHECK_FALSE(glob_match("IAS", "IAS2"));
}
