#include "plan_support.hpp"

#include "portguard/core/plan.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace portguard;
using namespace portguard::testing;
using Strings = std::vector<std::string>;

namespace {
PortRange R(long a, long b) { return PortRange::make(a, b); }
std::vector<PortRange> ranges(const std::vector<RangeChange>& changes) {
  std::vector<PortRange> out;
  for (const auto& c : changes) out.push_back(c.range);
  return out;
}
} // namespace

TEST_CASE("plan on Windows 2003: merge repairs drifted ReservedPorts and explains every range") {
  auto host = host_2003();
  host.reserved_ports = multi({"1645-1645", "1646-1646", "3000", "oops"});
  const auto p = plan(host, radius(), {});

  REQUIRE(p.targets.size() == 1);  // only ReservedPorts is effective on 5.2
  const auto& t = p.targets[0];
  CHECK(t.target == Target::reserved_ports);
  CHECK(t.effective);
  CHECK_FALSE(t.forced);
  CHECK(ranges(t.added) == std::vector<PortRange>{R(1812, 1813)});
  CHECK(t.removed.empty());
  CHECK(ranges(t.kept) == std::vector<PortRange>{R(1645, 1646), R(3000, 3000)});
  REQUIRE(t.added[0].why.size() == 1);
  CHECK(t.added[0].why[0].service == "IAS");
  CHECK(t.kept[0].why.size() == 1);
  CHECK(t.kept[1].why.empty());  // the admin's own entry: nobody in the policy owns it
  CHECK(t.unrecognised == Strings{"oops"});
  CHECK(t.current == Strings{"1645-1645", "1646-1646", "3000", "oops"});
  CHECK(t.desired == Strings{"1645-1646", "1812-1813", "3000-3000", "oops"});
  CHECK(p.has_changes());
  CHECK_FALSE(p.blocked());
  CHECK(p.find(Target::reserved_ports) == &t);
  CHECK(p.find(Target::persistent_reservation) == nullptr);

  // RADIUS lies inside 1025-5000: at risk; 1645-1646 is reserved already, 1812-1813 is not.
  REQUIRE(count_findings(p, "at-risk") == 2);
  CHECK(p.findings.end() != std::find_if(p.findings.begin(), p.findings.end(), [](const Finding& f) {
          return f.code == "at-risk" && f.requirement->ports == R(1812, 1813) && f.severity == Severity::warning;
        }));
  CHECK(find_finding(p, "unrecognised-entry") != nullptr);

  const auto text = render_text(p);
  CHECK_THAT(text, Catch::Contains("+ 1812-1813/udp  IAS (catalog: RADIUS auth/accounting)"));
  CHECK_THAT(text, Catch::Contains("= 1645-1646/udp  IAS (catalog: RADIUS legacy auth/accounting)"));
  CHECK_THAT(text, Catch::Contains("= 3000-3000  not required by the policy"));
  CHECK_THAT(text, Catch::Contains("? \"oops\""));
}

TEST_CASE("plan: a canonical value that already covers everything needs no change") {
  auto host = host_2003();
  host.reserved_ports = multi({"1645-1646", "1812-1813"});
  const auto p = plan(host, radius(), {});
  CHECK_FALSE(p.has_changes());
  CHECK(p.targets[0].desired == p.targets[0].current);
  CHECK_THAT(render_text(p), Catch::Contains("nothing to change"));
}

TEST_CASE("plan: separately listed adjacent ports are rewritten as one range (KB 812873)") {
  auto host = host_2003();
  host.reserved_ports = multi({"1645-1645", "1646-1646", "1812-1813"});
  const auto p = plan(host, radius(), {});
  const auto& t = p.targets[0];
  CHECK(t.added.empty());
  CHECK(t.removed.empty());
  CHECK(t.rewrite);
  CHECK(t.has_changes());
  CHECK(t.desired == Strings{"1645-1646", "1812-1813"});
}

TEST_CASE("plan: blank strings and a wrong value type are reported and rewritten") {
  auto host = host_2003();
  host.reserved_ports = MultiStringValue{true, {"1645-1646", "", "1812-1813"}, "value has type REG_SZ, expected REG_MULTI_SZ"};
  const auto p = plan(host, radius(), {});
  CHECK(p.targets[0].rewrite);
  CHECK(p.targets[0].desired == Strings{"1645-1646", "1812-1813"});
  REQUIRE(find_finding(p, "value-type") != nullptr);
  CHECK(find_finding(p, "value-type")->severity == Severity::warning);
  REQUIRE(find_finding(p, "blank-entries") != nullptr);
  CHECK_THAT(find_finding(p, "blank-entries")->message, Catch::Contains("1 empty string"));
  CHECK_FALSE(p.blocked());
}

TEST_CASE("plan: ReservedPorts covers both protocols, the DNS socket pool only UDP") {
  auto host = host_2016();
  host.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000), dynamic(Protocol::tcp, 1025, 60000)};
  Requirements reqs = radius();
  reqs.push_back(req(Protocol::tcp, 1433, 1433, "MSSQLSERVER", "SQL Server"));
  PlanSettings settings;
  settings.targets = std::vector<Target>{Target::reserved_ports, Target::dns_socket_pool};
  const auto p = plan(host, reqs, settings);
  REQUIRE(p.find(Target::reserved_ports) != nullptr);
  CHECK(p.find(Target::reserved_ports)->desired == Strings{"1433-1433", "1645-1646", "1812-1813"});
  CHECK(p.find(Target::dns_socket_pool)->desired == Strings{"1645-1646", "1812-1813"});
  // ReservedPorts is forced here: Windows Server 2016 ignores it.
  CHECK(p.find(Target::reserved_ports)->forced);
  CHECK_FALSE(p.find(Target::reserved_ports)->effective);
  REQUIRE(find_finding(p, "not-effective") != nullptr);
  CHECK(find_finding(p, "not-effective")->severity == Severity::info);   // asked for explicitly: said, not alerted
  CHECK(find_finding(p, "not-effective")->target == Target::reserved_ports);
  CHECK(p.find(Target::persistent_reservation) == nullptr);  // not listed: not managed
  CHECK_THAT(render_text(p), Catch::Contains("+ 1433-1433/tcp  MSSQLSERVER (catalog: SQL Server)"));
}

TEST_CASE("plan on Server 2016: persistent reservations per protocol and the DNS socket pool") {
  auto host = host_2016();
  host.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000, "MSFT_NetUDPSetting"), dynamic(Protocol::tcp, 49152, 65535)};
  host.persistent_reservations = std::vector<PersistentReservation>{{Protocol::udp, 1645, 2, 77}, {Protocol::tcp, 5000, 10, 78}};
  Requirements reqs = radius();
  reqs.push_back(req(Protocol::tcp, 3389, 3389, "TermService", "Remote Desktop"));
  const auto p = plan(host, reqs, {});

  CHECK(p.find(Target::reserved_ports) == nullptr);
  const auto* udp = p.find(Target::persistent_reservation, Protocol::udp);
  const auto* tcp = p.find(Target::persistent_reservation, Protocol::tcp);
  REQUIRE(udp != nullptr);
  REQUIRE(tcp != nullptr);
  CHECK(udp->current == Strings{"1645-1646"});
  CHECK(udp->desired == Strings{"1812-1813"});  // the blocks to create
  CHECK(ranges(udp->kept) == std::vector<PortRange>{R(1645, 1646)});
  CHECK(tcp->current == Strings{"5000-5009"});
  CHECK(tcp->desired.empty());  // 3389 lies outside the TCP dynamic range: never handed out at random
  CHECK(ranges(tcp->kept) == std::vector<PortRange>{R(5000, 5009)});  // merge keeps foreign blocks
  CHECK(tcp->removed.empty());
  const auto* dns = p.find(Target::dns_socket_pool);
  REQUIRE(dns != nullptr);
  CHECK(dns->desired == Strings{"1645-1646", "1812-1813"});

  // The widened UDP range exposes RADIUS; 1645-1646 already has a reservation, 1812-1813 not yet.
  REQUIRE(count_findings(p, "at-risk") == 2);
  for (const auto& f : p.findings) {
    if (f.code != "at-risk") continue;
    CHECK(f.severity == (f.requirement->ports == R(1645, 1646) ? Severity::info : Severity::warning));
    CHECK_THAT(f.message, Catch::Contains("1025-60000"));
  }
  CHECK_THAT(render_text(p), Catch::Contains("+ 1812-1813/udp  IAS (catalog: RADIUS auth/accounting)"));
}

TEST_CASE("plan: a port held by another service is a conflict; held by its own service it is not") {
  auto host = host_2016();
  host.ports_in_use = {
      {Protocol::udp, 1645, 2100, "dns.exe", ""},      // DNS holds the RADIUS port (the incident)
      {Protocol::udp, 1812, 1100, "svchost.exe", ""},  // IAS' process: identified by PID
      {Protocol::udp, 1813, 0, "", ""},                 // owner unknown (Wine, no privilege)
      {Protocol::tcp, 1645, 4000, "x.exe", ""},         // other protocol: irrelevant
  };
  const auto p = plan(host, radius(), {});
  REQUIRE(count_findings(p, "conflict") == 2);
  REQUIRE(count_findings(p, "in-use-by-owner") == 1);
  const Finding* conflict = find_finding(p, "conflict");
  CHECK(conflict->severity == Severity::error);
  REQUIRE(conflict->holder.has_value());
  CHECK(conflict->holder->port == 1645);
  CHECK(conflict->holder->service == "DNS");  // named from the service table by its PID
  CHECK_THAT(conflict->message, Catch::Contains("DNS service (dns.exe, PID 2100)"));
  CHECK_THAT(conflict->message, Catch::Contains("IAS cannot bind it"));
  CHECK(find_finding(p, "in-use-by-owner")->holder->port == 1812);
  CHECK(find_finding(p, "in-use-by-owner")->severity == Severity::info);
  const auto unknown = std::find_if(p.findings.begin(), p.findings.end(),
                                    [](const Finding& f) { return f.code == "conflict" && f.holder->port == 1813; });
  REQUIRE(unknown != p.findings.end());
  CHECK(unknown->severity == Severity::info);  // IAS runs: the unknown holder is most likely IAS itself
  CHECK_FALSE(p.blocked());  // conflicts are reported, they do not stop the repair

  // The same unknown holder while IAS is installed but stopped cannot be IAS: an error, the way
  // `portguard check` (CRITICAL) and the guard's event 3001 must see it.
  {
    auto stopped = host;
    for (auto& s : stopped.services)
      if (s.name == "IAS") { s.state = ServiceState::stopped; s.pid = 0; }
    const auto q = plan(stopped, radius(), {});
    const auto held = std::find_if(q.findings.begin(), q.findings.end(),
                                   [](const Finding& f) { return f.code == "conflict" && f.holder->port == 1813; });
    REQUIRE(held != q.findings.end());
    CHECK(held->severity == Severity::error);
    CHECK_THAT(held->message, Catch::Contains("while IAS is not running; IAS cannot bind it"));
  }

  // A holder that names its service is compared by name.
  host.ports_in_use = {{Protocol::udp, 1646, 0, "", "ias"}};
  CHECK(count_findings(plan(host, radius(), {}), "in-use-by-owner") == 1);
}

TEST_CASE("plan: no persistent API -> unavailable, and the registry targets are still planned") {
  auto host = host_2016();
  host.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000), dynamic(Protocol::tcp, 1025, 60000)};
  host.persistent_reservations.reset();
  const auto p = plan(host, radius(), {});
  const auto* udp = p.find(Target::persistent_reservation, Protocol::udp);
  REQUIRE(udp != nullptr);
  CHECK_FALSE(udp->available);
  CHECK_FALSE(udp->has_changes());
  CHECK_FALSE(p.find(Target::persistent_reservation, Protocol::tcp)->available);
  REQUIRE(count_findings(p, "unavailable") == 2);
  CHECK(find_finding(p, "unavailable")->severity == Severity::warning);
  REQUIRE(p.find(Target::dns_socket_pool) != nullptr);
  CHECK(p.find(Target::dns_socket_pool)->desired == Strings{"1645-1646", "1812-1813"});
  CHECK(p.has_changes());
}

TEST_CASE("plan: without a DNS server the socket pool is not managed unless the policy lists it") {
  auto host = host_2016();
  host.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000), dynamic(Protocol::tcp, 1025, 60000)};
  host.services = {service("IAS", 1100)};
  auto p = plan(host, radius(), {});
  REQUIRE(p.find(Target::dns_socket_pool) != nullptr);
  CHECK_FALSE(p.find(Target::dns_socket_pool)->available);
  CHECK_FALSE(p.find(Target::dns_socket_pool)->has_changes());
  CHECK(find_finding(p, "unavailable")->severity == Severity::info);
  PlanSettings listed;
  listed.targets = std::vector<Target>{Target::dns_socket_pool};
  p = plan(host, radius(), listed);
  CHECK(p.find(Target::dns_socket_pool)->available);
  CHECK(p.find(Target::dns_socket_pool)->has_changes());
}

TEST_CASE("plan: ReservedPorts entries on Vista+ are reported as not effective") {
  auto host = host_2016();
  host.reserved_ports = multi({"1645-1646"});
  const auto p = plan(host, radius(), {});
  const Finding* f = find_finding(p, "not-effective");
  REQUIRE(f != nullptr);
  CHECK(f->severity == Severity::info);
  CHECK_THAT(f->message, Catch::Contains("KB 812873"));
}

TEST_CASE("plan: exact mode lists removals and the rail blocks them unless allowed") {
  auto host = host_2003();
  host.reserved_ports = multi({"1645-1646", "3000-3005", "junk"});
  PlanSettings exact;
  exact.mode = Mode::exact;
  auto p = plan(host, radius(), exact);
  const auto& t = p.targets[0];
  CHECK(ranges(t.removed) == std::vector<PortRange>{R(3000, 3005)});
  CHECK(t.desired == Strings{"1645-1646", "1812-1813", "junk"});  // unrecognised survive exact mode too
  const Finding* f = find_finding(p, "rail-removals");
  REQUIRE(f != nullptr);
  CHECK(f->blocks_repair);
  CHECK(f->severity == Severity::error);
  CHECK(p.blocked());
  CHECK_THAT(f->message, Catch::Contains("[guard.allow] removals = true"));  // says how to lift it
  CHECK_THAT(render_text(p), Catch::Contains("- 3000-3005  not required by the policy"));

  exact.allow.removals = true;
  p = plan(host, radius(), exact);
  REQUIRE(find_finding(p, "rail-removals") != nullptr);
  CHECK_FALSE(find_finding(p, "rail-removals")->blocks_repair);
  CHECK(find_finding(p, "rail-removals")->severity == Severity::info);
  CHECK_FALSE(p.blocked());

  // Merge mode never removes.
  p = plan(host, radius(), {});
  CHECK(p.targets[0].removed.empty());
  CHECK(find_finding(p, "rail-removals") == nullptr);
}

TEST_CASE("plan: exact mode deletes a partly required persistent block whole and recreates the needed part") {
  auto host = host_2016();
  host.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000)};
  host.persistent_reservations = std::vector<PersistentReservation>{{Protocol::udp, 1640, 10, 5}, {Protocol::udp, 1812, 2, 6}};
  // PortGuard made 1640-1649 (its ledger): only such a block may be deleted (tests/core/exclusions_test.cpp).
  host.excluded_ranges = std::vector<ExcludedRange>{{Protocol::udp, IpVersion::v4, R(1640, 1649), ExclusionHolder::portguard, "ledger"}};
  PlanSettings exact;
  exact.mode = Mode::exact;
  exact.allow.removals = true;
  const auto p = plan(host, radius(), exact);
  const auto* udp = p.find(Target::persistent_reservation, Protocol::udp);
  CHECK(ranges(udp->removed) == std::vector<PortRange>{R(1640, 1649)});
  CHECK(ranges(udp->kept) == std::vector<PortRange>{R(1812, 1813)});
  CHECK(udp->desired == Strings{"1645-1646"});
  const auto after = apply_plan(host, p);
  CHECK_FALSE(plan(after, radius(), exact).has_changes());
}

TEST_CASE("plan: emptying a non-empty value is a rail (a lost policy must not wipe reservations)") {
  auto host = host_2003();
  host.reserved_ports = multi({"1645-1646"});
  PlanSettings exact;
  exact.mode = Mode::exact;
  exact.allow.removals = true;
  auto p = plan(host, {}, exact);
  const Finding* f = find_finding(p, "rail-empties-value");
  REQUIRE(f != nullptr);
  CHECK(f->blocks_repair);
  CHECK(p.targets[0].desired.empty());
  exact.allow.empty_value = true;
  p = plan(host, {}, exact);
  CHECK_FALSE(p.blocked());
  // An unrecognised entry keeps the value non-empty: no rail.
  host.reserved_ports = multi({"1645-1646", "junk"});
  exact.allow.empty_value = false;
  CHECK(find_finding(plan(host, {}, exact), "rail-empties-value") == nullptr);
}

TEST_CASE("plan: reserving more than the configured maximum is a rail") {
  auto host = host_2016();
  Requirements reqs{req(Protocol::udp, 50000, 52000, "", "a wide block", Provenance::Kind::policy)};
  auto p = plan(host, reqs, {});
  REQUIRE(find_finding(p, "rail-max-ports") != nullptr);
  CHECK(find_finding(p, "rail-max-ports")->blocks_repair);
  CHECK_THAT(find_finding(p, "rail-max-ports")->message, Catch::Contains("2001 ports"));
  PlanSettings s;
  s.limits.max_reserved_ports = 5000;
  CHECK(find_finding(plan(host, reqs, s), "rail-max-ports") == nullptr);
  s.limits.max_reserved_ports = 1024;
  s.allow.large_reservations = true;
  p = plan(host, reqs, s);
  CHECK_FALSE(find_finding(p, "rail-max-ports")->blocks_repair);
  CHECK_FALSE(p.blocked());
}

TEST_CASE("plan: leaving fewer than 255 free dynamic ports is a rail") {
  auto host = host_2003();  // dynamic range 1025-5000: 3976 ports
  PlanSettings s;
  s.allow.large_reservations = true;
  Requirements reqs{req(Protocol::tcp, 1025, 4800, "", "greedy", Provenance::Kind::policy)};
  auto p = plan(host, reqs, s);
  // ReservedPorts holds ports for both protocols, so both dynamic ranges shrink.
  REQUIRE(count_findings(p, "rail-dynamic-range") == 2);
  const Finding* f = find_finding(p, "rail-dynamic-range");
  CHECK(f->blocks_repair);
  CHECK_THAT(f->message, Catch::Contains("only 200 free UDP ports"));
  CHECK_THAT(p.findings.back().message + render_text(p), Catch::Contains("only 200 free TCP ports"));
  reqs = {req(Protocol::tcp, 1025, 4700, "", "still large", Provenance::Kind::policy)};  // 300 stay free
  CHECK(find_finding(plan(host, reqs, s), "rail-dynamic-range") == nullptr);
  reqs = {req(Protocol::tcp, 1025, 4800, "", "greedy", Provenance::Kind::policy)};
  s.allow.shrink_dynamic = true;
  CHECK_FALSE(plan(host, reqs, s).blocked());
}

TEST_CASE("plan is deterministic and its JSON carries the same content as the text") {
  auto host = host_2016();
  host.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000)};
  host.ports_in_use = {{Protocol::udp, 1645, 2100, "dns.exe", "DNS"}};
  const auto a = plan(host, radius(), {});
  const auto b = plan(host, radius(), {});
  CHECK(render_text(a) == render_text(b));
  CHECK(render_json(a) == render_json(b));

  const auto j = nlohmann::json::parse(render_json(a));
  CHECK(j["has_changes"] == true);
  CHECK(j["blocked"] == false);
  CHECK(j["settings"]["mode"] == "merge");
  CHECK(j["windows"]["description"] == "Windows Server 2016 (10.0.14393)");
  REQUIRE(j["targets"].size() == a.targets.size());
  for (std::size_t i = 0; i < a.targets.size(); ++i) {
    const auto& t = a.targets[i];
    CHECK(j["targets"][i]["target"] == std::string(to_string(t.target)));
    CHECK(j["targets"][i]["desired"].get<Strings>() == t.desired);
    CHECK(j["targets"][i]["added"].size() == t.added.size());
  }
  const auto& udp = j["targets"][1];
  CHECK(udp["protocol"] == "udp");
  CHECK(udp["added"][0]["range"] == "1646-1646");  // 1645 is bound by dns.exe: deferred
  CHECK(udp["added"][0]["why"][0]["service"] == "IAS");
  CHECK(udp["added"][0]["why"][0]["provenance"]["kind"] == "catalog");
  REQUIRE(j["findings"].size() == a.findings.size());
  bool saw_conflict = false;
  for (const auto& f : j["findings"]) {
    if (f["code"] != "conflict") continue;
    saw_conflict = true;
    CHECK(f["holder"]["description"] == "DNS service (dns.exe, PID 2100)");
    CHECK(f["requirement"]["ports"] == "1645-1646");
  }
  CHECK(saw_conflict);
}

TEST_CASE("plan: applying a plan and planning again yields no changes") {
  auto host = host_2003();
  host.reserved_ports = multi({"1646-1646", "", "1645", "x"});
  const auto p = plan(host, radius(), {});
  REQUIRE(p.has_changes());
  const auto after = apply_plan(host, p);
  const auto again = plan(after, radius(), {});
  CHECK_FALSE(again.has_changes());
  CHECK(again.targets[0].desired == p.targets[0].desired);
}

TEST_CASE("persistent reservations: only inside the dynamic range, bound ports deferred until free") {
  auto host = host_2016();
  host.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000), dynamic(Protocol::tcp, 49152, 65535)};
  host.persistent_reservations = std::vector<PersistentReservation>{};
  Requirements reqs = radius();
  reqs.push_back(req(Protocol::udp, 123, 123, "W32Time", "NTP"));          // below the range
  reqs.push_back(req(Protocol::tcp, 1433, 1433, "MSSQLSERVER", "SQL"));   // outside the TCP range
  host.ports_in_use = {{Protocol::udp, 1812, 1100, "svchost.exe", "IAS"}, {Protocol::tcp, 1433, 3100, "sqlservr.exe", "MSSQLSERVER"}};

  const auto p = plan(host, reqs, {});
  const auto* udp = p.find(Target::persistent_reservation, Protocol::udp);
  const auto* tcp = p.find(Target::persistent_reservation, Protocol::tcp);
  REQUIRE(udp != nullptr);
  REQUIRE(tcp != nullptr);
  // 123 cannot be taken by random allocation; 1812 is bound by IAS now, so Windows would refuse it.
  CHECK(udp->desired == Strings{"1645-1646", "1813-1813"});
  CHECK(tcp->desired.empty());
  REQUIRE(count_findings(p, "deferred") == 1);
  CHECK_THAT(find_finding(p, "deferred")->message, Catch::Contains("UDP reservation of 1812"));
  CHECK_FALSE(p.blocked());

  // Once IAS has released 1812 (e.g. at the next boot, before IAS starts) the block is created.
  auto later = apply_plan(host, p);
  later.ports_in_use.clear();
  const auto p2 = plan(later, reqs, {});
  CHECK(p2.find(Target::persistent_reservation, Protocol::udp)->desired == Strings{"1812-1812"});
  CHECK(count_findings(p2, "deferred") == 0);
  CHECK_FALSE(plan(apply_plan(later, p2), reqs, {}).has_changes());
}

// --- What each target may hold (docs/policy.md, "What each target holds") --------------------------

namespace {
/// A domain controller's catalog ports: all below 1025.
Requirements dc_ports() {
  Requirements out;
  for (long p : {53L, 88L, 389L, 445L, 464L}) out.push_back(req(Protocol::tcp, p, p, "NTDS", "AD"));
  for (long p : {53L, 88L, 123L, 137L, 138L, 389L, 464L}) out.push_back(req(Protocol::udp, p, p, "NTDS", "AD"));
  return out;
}
} // namespace

TEST_CASE("rule: no target receives a port below 1025", "[rules]") {
  auto h2003 = host_2003();
  const auto p2003 = plan(h2003, dc_ports(), {});
  CHECK_FALSE(p2003.has_changes());
  CHECK(p2003.find(Target::reserved_ports)->desired.empty());

  auto h2022 = host_2016();
  h2022.services.push_back(service("NTDS", 600));
  // Even a (mis)reported dynamic range starting below 1025 does not make a low port eligible.
  h2022.dynamic_ranges = {dynamic(Protocol::udp, 1000, 65535), dynamic(Protocol::tcp, 1000, 65535)};
  const auto p2022 = plan(h2022, dc_ports(), {});
  CHECK_FALSE(p2022.has_changes());
  CHECK(count_findings(p2022, "left-out") == 0);   // wholly below 1025: not reservation material, not mentioned
}

TEST_CASE("rule: a range straddling 1025 is trimmed, and the plan says so once", "[rules]") {
  auto host = host_2003();
  Requirements reqs = {req(Protocol::tcp, 1000, 1100, "BackupAgent", "backup agent", Provenance::Kind::policy),
                       req(Protocol::tcp, 1010, 1030, "BackupAgent", "backup agent console", Provenance::Kind::policy)};
  const auto p = plan(host, reqs, {});
  const auto* t = p.find(Target::reserved_ports);
  CHECK(ranges(t->added) == std::vector<PortRange>{R(1025, 1100)});
  REQUIRE(count_findings(p, "left-out") == 1);
  const Finding* f = find_finding(p, "left-out");
  CHECK(f->severity == Severity::info);
  CHECK(f->range == R(1000, 1024));
  CHECK(f->requirements.size() == 2);
  CHECK_THAT(f->message, Catch::Contains("TCP 1000-1024") && Catch::Contains("below 1025") &&
                             Catch::Contains("backup agent console"));
}

TEST_CASE("rule: a service's own ports never go into its own allocator's exclusions", "[rules]") {
  auto host = host_2016();
  host.dynamic_ranges = {dynamic(Protocol::udp, 1025, 65535), dynamic(Protocol::tcp, 1025, 65535)};
  host.dns_socket_pool_excluded = multi({"1812-1813"});
  Requirements reqs = {req(Protocol::udp, 1812, 1813, "IAS", "RADIUS"), req(Protocol::udp, 53, 53, "DNS", "DNS"),
                       req(Protocol::udp, 5353, 5353, "DNS", "DNS (multicast, hypothetical)")};
  const auto p = plan(host, reqs, {});
  const auto* pool = p.find(Target::dns_socket_pool);
  REQUIRE(pool != nullptr);
  CHECK_FALSE(pool->has_changes());   // neither 53 nor 5353: DNS's socket pool never hands DNS's own ports out
}

TEST_CASE("rule: 1025 and up outside the dynamic range - ReservedPorts reserves now, DNS pool and persistent blocks only inside", "[rules]") {
  // 2003: MaxUserPort 5000; 6000 lies outside today's range and is reserved anyway.
  auto h2003 = host_2003();
  const auto p2003 = plan(h2003, {req(Protocol::udp, 1812, 1813, "IAS", "RADIUS"), req(Protocol::tcp, 6000, 6000, "App", "app")}, {});
  CHECK(ranges(p2003.find(Target::reserved_ports)->added) == std::vector<PortRange>{R(1812, 1813), R(6000, 6000)});

  // 2016 with the default range 49152-65535: neither the DNS pool nor a persistent block takes
  // 1812 (outside the range, not handed out); both take the port inside the range.
  auto h2016 = host_2016();
  const auto p2016 = plan(h2016, {req(Protocol::udp, 1812, 1813, "IAS", "RADIUS"), req(Protocol::udp, 50000, 50000, "App", "app")}, {});
  CHECK(ranges(p2016.find(Target::dns_socket_pool)->added) == std::vector<PortRange>{R(50000, 50000)});
  CHECK(ranges(p2016.find(Target::persistent_reservation, Protocol::udp)->added) == std::vector<PortRange>{R(50000, 50000)});
  // Once an installer widened the range, both take 1812-1813.
  h2016.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000), dynamic(Protocol::tcp, 1025, 60000)};
  const auto widened = plan(h2016, {req(Protocol::udp, 1812, 1813, "IAS", "RADIUS")}, {});
  CHECK(ranges(widened.find(Target::dns_socket_pool)->added) == std::vector<PortRange>{R(1812, 1813)});
  CHECK(ranges(widened.find(Target::persistent_reservation, Protocol::udp)->added) == std::vector<PortRange>{R(1812, 1813)});
}

// --- Rails judge the value the host has now -----------------------------------------------------

TEST_CASE("rails: a ReservedPorts value that starves the dynamic range is an error although the plan adds nothing", "[rails]") {
  auto host = host_2003();
  host.reserved_ports = multi({"1-65535"});
  const auto p = plan(host, radius(), {});
  CHECK_FALSE(p.has_changes());
  CHECK_FALSE(p.blocked());   // the plan itself adds nothing; the finding says what to do
  const Finding* starve = find_finding(p, "starves-dynamic-range");
  REQUIRE(starve != nullptr);
  CHECK(starve->severity == Severity::error);
  CHECK_THAT(starve->message, Catch::Contains("reserved-ports") && Catch::Contains("only 0 free UDP ports") &&
                                  Catch::Contains("1025-5000") && Catch::Contains("portguard rollback"));
  const Finding* big = find_finding(p, "too-many-reserved");
  REQUIRE(big != nullptr);
  CHECK(big->severity == Severity::error);
  CHECK_THAT(big->message, Catch::Contains("65535 ports now"));

  // The kept range is the admin's entry, never "needed by IAS".
  const auto& kept = p.find(Target::reserved_ports)->kept;
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].broader_than_required());
  CHECK_THAT(render_text(p), Catch::Contains("= 1-65535/udp  admin entry 1-65535, covers 1645-1646 for IAS (catalog: RADIUS legacy auth/accounting)"));
  CHECK(nlohmann::json::parse(render_json(p))["targets"][0]["kept"][0]["admin_entry"] == true);

  // 65,535 single-port entries are the same condition.
  std::vector<std::string> singles;
  for (long port = 1; port <= 65535; ++port) singles.push_back(std::to_string(port) + "-" + std::to_string(port));
  host.reserved_ports = multi(singles);
  const auto q = plan(host, radius(), {});
  CHECK(count_findings(q, "starves-dynamic-range") == 2);   // UDP and TCP
  CHECK(count_findings(q, "too-many-reserved") == 1);
}

TEST_CASE("rails: an allowance turns the current-value findings into info", "[rails]") {
  auto host = host_2003();
  host.reserved_ports = multi({"1-65535"});
  PlanSettings s;
  s.allow.shrink_dynamic = true;
  s.allow.large_reservations = true;
  const auto p = plan(host, radius(), s);
  REQUIRE(find_finding(p, "starves-dynamic-range") != nullptr);
  CHECK(find_finding(p, "starves-dynamic-range")->severity == Severity::info);
  CHECK(find_finding(p, "too-many-reserved")->severity == Severity::info);
}

TEST_CASE("rails: persistent blocks covering the whole dynamic range starve it too", "[rails]") {
  auto host = host_2016();
  host.persistent_reservations = std::vector<PersistentReservation>{{Protocol::udp, 49152, 16384, 1}};
  const auto p = plan(host, radius(), {});
  const Finding* f = find_finding(p, "starves-dynamic-range");
  REQUIRE(f != nullptr);
  CHECK_THAT(f->message, Catch::Contains("persistent-reservation/udp") && Catch::Contains("UDP ports in the dynamic range 49152-65535"));
}

// --- One finding per condition ---------------------------------------------------------------------

TEST_CASE("findings: one per condition, listing every requirement that explains it", "[findings]") {
  auto host = host_2003();
  host.reserved_ports = multi({"1645-1646", "1812-1813"});
  // The catalog and a [[reserve]] both need the RADIUS ports; IAS binds them over IPv4 and IPv6.
  Requirements reqs = radius();
  for (long port : {1645L, 1646L}) reqs.push_back(req(Protocol::udp, port, port, "IAS", "RADIUS", Provenance::Kind::policy));
  reqs.push_back(req(Protocol::udp, 1812, 1813, "IAS", "RADIUS", Provenance::Kind::policy));
  for (Port port : {1645, 1646, 1812, 1813})
    for (int twice = 0; twice < 2; ++twice) host.ports_in_use.push_back({Protocol::udp, port, 900, "svchost.exe", ""});
  const auto p = plan(host, reqs, {});
  CHECK(count_findings(p, "in-use-by-owner") == 4);
  for (const auto& f : p.findings) {
    if (f.code != "in-use-by-owner") continue;
    CHECK(f.requirements.size() == 2);
    CHECK_THAT(f.message, Catch::Contains("catalog: RADIUS") && Catch::Contains("policy policy.toml:7: RADIUS"));
  }
  // At risk: one finding per range of required ports, here 1645-1646 and 1812-1813.
  CHECK(count_findings(p, "at-risk") == 2);
  for (const auto& f : p.findings)
    if (f.code == "at-risk") CHECK(f.requirements.size() >= 2);
}
