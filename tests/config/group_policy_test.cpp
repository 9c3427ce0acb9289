// Group Policy (HKLM\SOFTWARE\Policies\PortGuard): read through the PolicyKeyReader seam, validated
// like the file, merged by the documented precedence (docs/policy.md, "Group Policy").
#include "support.hpp"

#include "portguard/config/group_policy.hpp"

#include <algorithm>

using namespace pgtest;
using Catch::Matchers::Contains;
namespace keys = portguard::config::group_policy_keys;

namespace {

const char* file_policy = R"([guard]
enforcement = "enforce"

[catalog]
exclude = ["SSDPSRV"]
include = ["SNMP"]

[catalog.override.SNMP]
udp = [161, 10161]

[[reserve]]
ports = ["1812-1813", 5000]
protocol = "both"
service = "BackupAgent"
reason = "local entry"
)";

std::vector<std::string> gpo_errors(MemoryPolicyKeys keys_in, std::string_view policy_text = file_policy) {
  try {
    Policy p = load(policy_text);
    apply_group_policy(p, read_group_policy(keys_in));
  } catch (const GroupPolicyError& e) {
    std::vector<std::string> out;
    for (const Diagnostic& d : e.diagnostics()) out.push_back(d.to_string());
    return out;
  }
  FAIL("Group Policy accepted although it should not have been");
  return {};
}

std::vector<Requirement> gpo_requirements(const Requirements& all) {
  std::vector<Requirement> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out), [](const Requirement& r) { return r.provenance.kind == Provenance::Kind::gpo; });
  return out;
}

HostSnapshot host_with(std::vector<std::string> services) {
  HostSnapshot h;
  for (auto& s : services) h.services.push_back(service(std::move(s)));
  return h;
}

} // namespace

TEST_CASE("no Group Policy key: the file's policy is unchanged", "[gpo]") {
  MemoryPolicyKeys none;
  const GroupPolicy gp = read_group_policy(none);
  CHECK(gp.empty());
  Policy p = load(file_policy);
  const Policy before = p;
  apply_group_policy(p, gp);
  CHECK(p.reservations == before.reservations);
  CHECK(p.enforcement == before.enforcement);
  CHECK(p.catalog_exclude == before.catalog_exclude);
  CHECK(p.group_policy.empty());
}

TEST_CASE("a Group Policy reservation becomes a requirement with gpo provenance naming the key", "[gpo]") {
  MemoryPolicyKeys k;
  k.set_string(keys::reservations, "1", "1645-1646,1812-1813/udp/IAS");
  k.set_string(keys::reservations, "2", " 9000 / TCP / AgentSvc ");
  Policy p = load(file_policy);
  apply_group_policy(p, read_group_policy(k));
  const auto r = gpo_requirements(requirements_for(p, host_with({"IAS"})));
  REQUIRE(r.size() == 3);
  // Listed in the order of the editor (values 1, 2), ports as given.
  CHECK(r[0] == Requirement{Protocol::udp, PortRange::make(1645, 1646), "IAS",
                            {Provenance::Kind::gpo, "HKLM\\SOFTWARE\\Policies\\PortGuard\\Reservations", "Group Policy entry '1645-1646,1812-1813/udp/IAS'"}});
  CHECK(r[2].protocol == Protocol::tcp);
  CHECK(r[2].service == "AgentSvc");
  CHECK(describe(r[0]) == "IAS (gpo: HKLM\\SOFTWARE\\Policies\\PortGuard\\Reservations: Group Policy entry '1645-1646,1812-1813/udp/IAS')");
}

TEST_CASE("precedence: Group Policy wins the settings it sets, the file keeps the others", "[gpo]") {
  MemoryPolicyKeys k;
  k.set_string(keys::root, "Enforcement", "Audit");
  k.set_string(keys::root, "MetricsDir", "C:\\Metrics");
  k.set_string(keys::catalog_exclude, "1", "snmp");
  Policy p = load(file_policy);
  apply_group_policy(p, read_group_policy(k));
  CHECK(p.enforcement == Enforcement::audit);
  CHECK(set_by_group_policy(p, "Enforcement"));
  CHECK_FALSE(set_by_group_policy(load(file_policy), "Enforcement"));
  CHECK(p.metrics_textfile_dir == "C:\\Metrics");
  // The exclusion list is one setting: Group Policy's replaces the file's (SSDPSRV is protected
  // again), and what it excludes is no longer included or overridden by the file.
  CHECK(p.catalog_exclude == std::vector<std::string>{"SNMP"});
  CHECK(p.catalog_include.empty());
  CHECK(p.catalog_overrides.empty());
  const auto all = requirements_for(p, host_with({"SNMP", "SSDPSRV"}));
  CHECK(std::none_of(all.begin(), all.end(), [](const Requirement& r) { return r.service == "SNMP"; }));
  CHECK(std::any_of(all.begin(), all.end(), [](const Requirement& r) { return r.service == "SSDPSRV"; }));
  // File-only settings stay: the file's reservation is untouched.
  CHECK(std::any_of(all.begin(), all.end(), [](const Requirement& r) { return r.service == "BackupAgent" && r.ports == PortRange::make(1812, 1813); }));
}

TEST_CASE("a port the file gives to another service goes to Group Policy's owner; the rest of the file's entry stays", "[gpo]") {
  MemoryPolicyKeys k;
  k.set_string(keys::reservations, "1", "1812/udp/IAS");
  Policy p = load(file_policy);
  apply_group_policy(p, read_group_policy(k));
  const auto all = requirements_for(p, host_with({}));
  const auto has = [&](Protocol proto, long a, long b, std::string_view who) {
    return std::any_of(all.begin(), all.end(), [&](const Requirement& r) { return r.protocol == proto && r.ports == PortRange::make(a, b) && r.service == who; });
  };
  CHECK(has(Protocol::udp, 1812, 1812, "IAS"));
  CHECK_FALSE(has(Protocol::udp, 1812, 1813, "BackupAgent"));
  CHECK(has(Protocol::udp, 1813, 1813, "BackupAgent"));
  CHECK(has(Protocol::udp, 5000, 5000, "BackupAgent"));
  CHECK(has(Protocol::tcp, 1812, 1813, "BackupAgent"));   // TCP was never Group Policy's
  for (const auto& r : all)
    if (r.service == "BackupAgent") CHECK(r.provenance == Provenance{Provenance::Kind::policy, "policy.toml:11", "local entry"});
}

TEST_CASE("bad Group Policy values give errors naming the registry key, the value and what to do", "[gpo]") {
  SECTION("enforcement") {
    MemoryPolicyKeys k;
    k.set_string(keys::root, "Enforcement", "enforcing");
    CHECK_THAT(gpo_errors(k).at(0), Contains("HKLM\\SOFTWARE\\Policies\\PortGuard: value 'Enforcement' is 'enforcing'; write 'audit' or 'enforce'") &&
                                        Contains("correct the setting 'Enforcement mode'"));
  }
  SECTION("wrong type") {
    MemoryPolicyKeys k;
    k.set_dword(keys::root, "Enforcement", 1);
    CHECK_THAT(gpo_errors(k).at(0), Contains("value 'Enforcement' has type REG_DWORD, expected REG_SZ"));
  }
  SECTION("reservations") {
    MemoryPolicyKeys k;
    k.set_string(keys::reservations, "1", "1812-1813/udp");
    k.set_string(keys::reservations, "2", "70000/udp/IAS");
    k.set_string(keys::reservations, "3", "1813-1812/udp/IAS");
    k.set_string(keys::reservations, "4", "1645/udpp/IAS");
    k.set_string(keys::reservations, "5", "radius/udp/IAS");
    const auto e = gpo_errors(k);
    REQUIRE(e.size() == 5);
    CHECK_THAT(e[0], Contains("HKLM\\SOFTWARE\\Policies\\PortGuard\\Reservations: value '1' ('1812-1813/udp') is not ports/protocol/service; "
                              "write an entry such as '1812-1813/udp/IAS'"));
    CHECK_THAT(e[1], Contains("value '2' ('70000/udp/IAS'): port '70000' is out of range; ports are 1 to 65535"));
    CHECK_THAT(e[2], Contains("reversed range '1813-1812'; write '1812-1813' (smaller port first)"));
    CHECK_THAT(e[3], Contains("protocol 'udpp' is not udp, tcp or both"));
    CHECK_THAT(e[4], Contains("'radius' is not a port or a range"));
    for (const auto& line : e) CHECK_THAT(line, Contains("'Additional port reservations'"));
  }
  SECTION("two owners for one port inside Group Policy") {
    MemoryPolicyKeys k;
    k.set_string(keys::reservations, "1", "1812/udp/IAS");
    k.set_string(keys::reservations, "2", "1800-1900/udp/Other");
    CHECK_THAT(gpo_errors(k).at(0), Contains("entry '1800-1900/udp/Other' reserves 1800-1900/udp for 'Other', but entry '1812/udp/IAS' already reserves it "
                                             "for 'IAS'; a port has one owner"));
  }
  SECTION("catalog names, checked against the policy's catalog") {
    MemoryPolicyKeys k;
    k.set_string(keys::catalog_exclude, "1", "SNPM");
    CHECK_THAT(gpo_errors(k).at(0), Contains("HKLM\\SOFTWARE\\Policies\\PortGuard\\CatalogExclude: service 'SNPM' is not in the catalog "
                                             "(<built-in catalog>); did you mean 'SNMP'?"));
  }
  SECTION("metrics folder and unknown values") {
    MemoryPolicyKeys k;
    k.set_string(keys::root, "MetricsDir", "metrics");
    k.set_string(keys::root, "Enforcment", "audit");
    const auto e = gpo_errors(k);
    REQUIRE(e.size() == 2);
    CHECK_THAT(e[0], Contains("unknown value 'Enforcment'; did you mean 'Enforcement'?"));
    CHECK_THAT(e[1], Contains("value 'MetricsDir' ('metrics') is not an absolute folder path"));
  }
  SECTION("a service listed twice") {
    MemoryPolicyKeys k;
    k.set_string(keys::protect_services, "1", "DNS");
    k.set_string(keys::protect_services, "2", "dns");
    CHECK_THAT(gpo_errors(k).at(0), Contains("ProtectServices: value '2': service 'dns' is listed twice; remove one"));
  }
}

TEST_CASE("the services to protect at boot come from Group Policy only", "[gpo]") {
  MemoryPolicyKeys k;
  k.set_string(keys::protect_services, "1", "DNS");
  k.set_string(keys::protect_services, "2", "IAS");
  Policy p = load(file_policy);
  apply_group_policy(p, read_group_policy(k));
  CHECK(p.protect_at_boot == std::vector<std::string>{"DNS", "IAS"});
}

TEST_CASE("Group Policy is kept in the last known good and merged again when it is loaded", "[gpo][lkg]") {
  const auto dir = temp_dir("gpo-lkg");
  MemoryPolicyKeys k;
  k.set_string(keys::root, "Enforcement", "audit");
  k.set_string(keys::reservations, "1", "1812/udp/IAS");
  Policy p = load(file_policy);
  const GroupPolicy gp = read_group_policy(k);
  apply_group_policy(p, gp);
  save_last_known_good(p, dir);
  const auto restored = load_last_known_good(dir);
  REQUIRE(restored.has_value());
  CHECK(restored->enforcement == Enforcement::audit);
  CHECK(restored->reservations == p.reservations);
  CHECK(restored->group_policy == gp.values);
  CHECK(read_group_policy(k).fingerprint() == gp.fingerprint());
  k.set_string(keys::reservations, "2", "1813/udp/IAS");
  CHECK(read_group_policy(k).fingerprint() != gp.fingerprint());
  std::filesystem::remove_all(dir);
}
