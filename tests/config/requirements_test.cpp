// requirements_for and configured_port_queries: what the policy demands on a given host.
#include "support.hpp"

#include <algorithm>

using namespace pgtest;

namespace {

HostSnapshot host_with(std::vector<std::string> services) {
  HostSnapshot h;
  h.hostname = "radius01";
  for (auto& s : services) h.services.push_back(service(std::move(s)));
  return h;
}

std::vector<Requirement> of(const Requirements& all, std::string_view source) {
  std::vector<Requirement> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out), [&](const Requirement& r) { return r.provenance.source == source; });
  return out;
}

Requirement req(Protocol p, long a, long b, std::string service, Provenance::Kind kind, std::string source, std::string reason) {
  return {p, PortRange::make(a, b), std::move(service), {kind, std::move(source), std::move(reason)}};
}

const char* radius_policy = R"([catalog]
enabled = false

[[reserve]]
ports = ["1645-1646", "radius"]
protocol = "udp"
service = "IAS"
reason = "RADIUS"
when_installed = "IAS"

[[reserve]]
ports = [5000]
protocol = "both"
service = "BackupAgent"
)";

} // namespace

TEST_CASE("explicit reservations honour when_installed", "[requirements]") {
  const Policy p = load(radius_policy);
  SECTION("IAS installed (any case)") {
    const Requirements r = requirements_for(p, host_with({"ias"}));
    CHECK(r == Requirements{
                   req(Protocol::udp, 1645, 1646, "IAS", Provenance::Kind::policy, "policy.toml:4", "RADIUS"),
                   req(Protocol::udp, 1812, 1812, "IAS", Provenance::Kind::policy, "policy.toml:4", "RADIUS"),
                   req(Protocol::udp, 5000, 5000, "BackupAgent", Provenance::Kind::policy, "policy.toml:11", "[[reserve]] in the policy"),
                   req(Protocol::tcp, 5000, 5000, "BackupAgent", Provenance::Kind::policy, "policy.toml:11", "[[reserve]] in the policy"),
               });
  }
  SECTION("IAS not installed: only the unconditional entry") {
    const Requirements r = requirements_for(p, host_with({"DNS"}));
    REQUIRE(r.size() == 2);
    CHECK(r[0].service == "BackupAgent");
  }
}

TEST_CASE("catalog services count only when installed, unless included", "[requirements][catalog]") {
  const Policy p = load("[catalog]\ninclude = [\"SNMP\"]\nexclude = [\"DNS\"]\n");
  const Requirements r = requirements_for(p, host_with({"IAS", "DNS", "Spooler"}));
  CHECK(of(r, "catalog:IAS") == std::vector<Requirement>{
                                   req(Protocol::udp, 1645, 1646, "IAS", Provenance::Kind::catalog, "catalog:IAS", "RADIUS authentication and accounting (legacy 1645/1646 and 1812/1813)"),
                                   req(Protocol::udp, 1812, 1813, "IAS", Provenance::Kind::catalog, "catalog:IAS", "RADIUS authentication and accounting (legacy 1645/1646 and 1812/1813)"),
                               });
  CHECK(of(r, "catalog:SNMP").size() == 1);        // included though not installed
  CHECK(of(r, "catalog:DNS").empty());             // excluded though installed
  CHECK(r.size() == 3);                            // Spooler is not in the catalog
  // The installed service's own spelling is used.
  CHECK(requirements_for(p, host_with({"ias"})).front().service == "ias");
}

TEST_CASE("use_catalog = false ignores the catalog", "[requirements][catalog]") {
  const Policy p = load(radius_policy);
  for (const Requirement& r : requirements_for(p, host_with({"IAS", "DNS", "W32Time"}))) CHECK(r.provenance.kind == Provenance::Kind::policy);
}

TEST_CASE("per-service overrides replace the catalog's ports and reason", "[requirements][catalog]") {
  const Policy p = load("[catalog.override.DNS]\ntcp = []\nreason = \"resolver\"\n[catalog.override.IAS]\nudp = [\"1812-1813\"]\n");
  const Requirements r = requirements_for(p, host_with({"IAS", "DNS"}));
  CHECK(of(r, "catalog:DNS") == std::vector<Requirement>{req(Protocol::udp, 53, 53, "DNS", Provenance::Kind::catalog, "catalog:DNS", "resolver")});
  CHECK(of(r, "catalog:IAS") == std::vector<Requirement>{req(Protocol::udp, 1812, 1813, "IAS", Provenance::Kind::catalog, "catalog:IAS",
                                                             "RADIUS authentication and accounting (legacy 1645/1646 and 1812/1813)")});
}

TEST_CASE("registry-configured ports replace the catalog default and carry their registry path", "[requirements][discovery]") {
  HostSnapshot h = host_with({"TermService", "MSSQL$SQLEXPRESS"});
  const std::string rdp_key = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp\\PortNumber";
  const std::string sql_key = "HKLM\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\MSSQL15.SQLEXPRESS\\MSSQLServer\\SuperSocketNetLib\\Tcp\\IPAll\\TcpPort";
  h.configured_ports.push_back({"TermService", Protocol::tcp, PortRange::single(3390), rdp_key});
  h.configured_ports.push_back({"MSSQL$SQLEXPRESS", Protocol::tcp, PortRange::single(14330), sql_key});

  SECTION("discovery on") {
    const Policy p = load("[guard]\nmode = \"merge\"\n");
    const Requirements r = requirements_for(p, h);
    // RDP: TCP from the registry (3390 instead of 3389), UDP still the catalog's 3389.
    CHECK(of(r, "catalog:TermService") == std::vector<Requirement>{req(Protocol::udp, 3389, 3389, "TermService", Provenance::Kind::catalog, "catalog:TermService", "Remote Desktop (RDP)")});
    CHECK(of(r, rdp_key) == std::vector<Requirement>{req(Protocol::tcp, 3390, 3390, "TermService", Provenance::Kind::registry, rdp_key, "port configured in the registry for TermService")});
    CHECK(of(r, sql_key) == std::vector<Requirement>{req(Protocol::tcp, 14330, 14330, "MSSQL$SQLEXPRESS", Provenance::Kind::registry, sql_key, "port configured in the registry for MSSQL$SQLEXPRESS")});
    CHECK(r.size() == 3);
  }
  SECTION("excluded from discovery: the catalog default applies again") {
    const Policy p = load("[discovery]\nexclude = [\"TermService\", \"MSSQL$*\"]\n");
    const Requirements r = requirements_for(p, h);
    CHECK(of(r, "catalog:TermService").size() == 2);
    CHECK(of(r, rdp_key).empty());
    CHECK(of(r, sql_key).empty());
  }
  SECTION("discovery off") {
    const Policy p = load("[discovery]\nregistry_ports = false\n");
    CHECK(of(requirements_for(p, h), rdp_key).empty());
    CHECK(configured_port_queries(p).empty());
  }
  SECTION("an override beats the registry") {
    const Policy p = load("[catalog.override.TermService]\ntcp = [3391]\n");
    const Requirements r = requirements_for(p, h);
    CHECK(of(r, "catalog:TermService").size() == 2);
    CHECK(of(r, "catalog:TermService")[1].ports == PortRange::single(3391));
  }
}

TEST_CASE("configured_port_queries lists the catalog's registry values", "[requirements][discovery]") {
  const auto q = configured_port_queries(load("[guard]\nmode = \"merge\"\n"));
  REQUIRE(q.size() == 4);
  auto find = [&](std::string_view value, Protocol p) {
    return std::find_if(q.begin(), q.end(), [&](const ConfiguredPortQuery& x) { return x.value == value && x.protocol == p; });
  };
  REQUIRE(find("TcpPort", Protocol::tcp) != q.end());
  CHECK(find("TcpPort", Protocol::tcp)->service == "MSSQL*");
  CHECK(find("TcpPort", Protocol::tcp)->key.find("\\*\\MSSQLServer\\") != std::string::npos);
  CHECK(find("PortNumber", Protocol::tcp) != q.end());
  CHECK(find("PortNumber", Protocol::udp) != q.end());
  REQUIRE(find("UdpStartPort", Protocol::udp) != q.end());
  CHECK(find("UdpStartPort", Protocol::udp)->end_value == "UdpEndPort");
  // Excluding a service from discovery removes its lookups.
  CHECK(configured_port_queries(load("[discovery]\nexclude = [\"TermService\"]\n")).size() == 2);
}
