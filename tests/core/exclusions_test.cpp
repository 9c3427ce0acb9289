// Excluded port ranges (issue 16): the snapshot model and its JSON, the planner's use of who holds
// a range, the assessment's exclusive-bind probe and `portguard why`.
#include "plan_support.hpp"

#include "portguard/core/assess.hpp"
#include "portguard/core/error.hpp"
#include "portguard/core/exclusions.hpp"
#include "portguard/core/snapshot_json.hpp"
#include "portguard/core/why.hpp"
#include "support/fakes.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>

using namespace portguard;
using namespace portguard::testing;

namespace {

std::vector<PortRange> ranges(const std::vector<RangeChange>& changes) {
  std::vector<PortRange> out;
  for (const auto& c : changes) out.push_back(c.range);
  return out;
}

ExcludedRange excluded(Protocol p, long first, long last, ExclusionHolder holder, IpVersion ip = IpVersion::v4,
                       std::string source = "test") {
  return ExcludedRange{p, ip, PortRange::make(first, last), holder, std::move(source)};
}

/// A Windows 11 developer box: WinNAT took 2951-3050/tcp out of a widened dynamic range.
HostSnapshot dev_box() {
  HostSnapshot s;
  s.hostname = "DEVBOX";
  s.version = WindowsVersion{10, 0, 22631, false};
  s.services = {service("hns", 3120), service("winnat", 0)};
  s.persistent_reservations = std::vector<PersistentReservation>{};
  s.dynamic_ranges = {dynamic(Protocol::udp, 1025, 65535), dynamic(Protocol::tcp, 1025, 65535)};
  s.excluded_ranges = std::vector<ExcludedRange>{excluded(Protocol::tcp, 2951, 3050, ExclusionHolder::system),
                                                 excluded(Protocol::tcp, 2951, 3050, ExclusionHolder::system, IpVersion::v6)};
  return s;
}

Requirements dev_port() { return {req(Protocol::tcp, 3000, 3000, "", "the web app I develop", Provenance::Kind::policy)}; }

/// A probe over a fixed host whose exclusive binds answer from a table (unlisted ports bind).
class BindTableProbe : public SystemProbe {
public:
  HostSnapshot host;
  std::map<std::pair<Protocol, Port>, BindOutcome> binds;
  std::vector<PersistentReservation> ledger;
  std::vector<std::pair<Protocol, Port>> probed;

  HostSnapshot capture(const std::vector<ConfiguredPortQuery>&, ServiceDetail) override { return host; }
  bool port_in_use(Protocol p, Port port) override { return try_exclusive_bind(p, port) != BindOutcome::bound; }
  BindOutcome try_exclusive_bind(Protocol p, Port port) override {
    probed.emplace_back(p, port);
    const auto it = binds.find({p, port});
    return it == binds.end() ? BindOutcome::bound : it->second;
  }
  std::vector<PersistentReservation> created_by_portguard() override { return ledger; }
};

} // namespace

TEST_CASE("excluded ranges: JSON round trip, holders by name, and old snapshots still load", "[exclusions]") {
  HostSnapshot s = dev_box();
  s.excluded_ranges->push_back(excluded(Protocol::udp, 1645, 1646, ExclusionHolder::portguard, IpVersion::v4, "Nsi registry (store=persistent)"));
  s.excluded_ranges->push_back(excluded(Protocol::tcp, 8000, 8099, ExclusionHolder::administrator));
  const std::string text = to_json(s);
  CHECK(snapshot_from_json(text) == s);
  const auto j = nlohmann::json::parse(text);
  CHECK(j["excluded_ranges"][0]["holder"] == "system");
  CHECK(j["excluded_ranges"][1]["ip"] == "v6");
  CHECK(j["excluded_ranges"][2]["holder"] == "portguard");
  CHECK(j["excluded_ranges"][2]["source"] == "Nsi registry (store=persistent)");

  // Not captured and "none found" are different answers, and both survive a round trip.
  HostSnapshot none = s;
  none.excluded_ranges = std::vector<ExcludedRange>{};
  CHECK(snapshot_from_json(to_json(none)).excluded_ranges == std::vector<ExcludedRange>{});
  none.excluded_ranges.reset();
  CHECK_FALSE(snapshot_from_json(to_json(none)).excluded_ranges.has_value());

  // A snapshot written before the member existed loads, with the ranges "not captured".
  const auto old = snapshot_from_json(R"({"format": "portguard-snapshot", "format_version": 1, "windows": {"major": 10, "minor": 0}})");
  CHECK_FALSE(old.excluded_ranges.has_value());
}

TEST_CASE("excluded ranges: malformed members are errors naming their path", "[exclusions]") {
  auto error_of = [](const std::string& member) -> std::string {
    try {
      snapshot_from_json(R"({"format": "portguard-snapshot", "format_version": 1, "windows": {"major": 10, "minor": 0}, "excluded_ranges": )" +
                             member + "}",
                         "dev.json");
    } catch (const SnapshotError& e) {
      return e.what();
    }
    return {};
  };
  CHECK(error_of(R"([{"protocol": "tcp", "first": 1, "last": 2, "holder": "hns"}])").find("/excluded_ranges/0/holder: expected one of \"portguard\", \"administrator\", \"system\", found \"hns\"") != std::string::npos);
  CHECK(error_of(R"([{"protocol": "tcp", "first": 10, "last": 2, "holder": "system"}])").find("/excluded_ranges/0/last") != std::string::npos);
  CHECK(error_of(R"([{"protocol": "tcp", "first": 1, "last": 2}])").find("/excluded_ranges/0/holder: required member is missing") != std::string::npos);
  CHECK(error_of(R"([{"protocol": "tcp", "first": 1, "last": 2, "holder": "system", "owner": "x"}])").find("unknown member \"owner\"") != std::string::npos);
  CHECK(error_of(R"({"protocol": "tcp"})").find("/excluded_ranges: expected an array") != std::string::npos);
  CHECK(error_of("null").empty());
}

TEST_CASE("excluded ranges: the model says who holds a range and which cover a port", "[exclusions]") {
  const HostSnapshot s = dev_box();
  CHECK(s.exclusions_covering(Protocol::tcp, 3000).size() == 2);   // IPv4 and IPv6
  CHECK(s.exclusions_covering(Protocol::udp, 3000).empty());
  CHECK(s.exclusions_covering(Protocol::tcp, 3051).empty());
  CHECK_FALSE(excluded(Protocol::tcp, 1, 2, ExclusionHolder::system).administered());
  CHECK(excluded(Protocol::tcp, 1, 2, ExclusionHolder::administrator).administered());
  CHECK(excluded(Protocol::tcp, 1, 2, ExclusionHolder::portguard).administered());
  CHECK(excluded(Protocol::tcp, 1, 2, ExclusionHolder::system).describe_holder() == "held by the system at run time (HNS/WinNAT)");
  CHECK(parse_exclusion_holder("administrator") == ExclusionHolder::administrator);
  CHECK_FALSE(parse_exclusion_holder("System").has_value());

  std::vector<ExcludedRange> list;
  add_exclusion(list, excluded(Protocol::tcp, 5, 6, ExclusionHolder::administrator, IpVersion::v4, "Nsi registry"));
  add_exclusion(list, excluded(Protocol::tcp, 5, 6, ExclusionHolder::administrator, IpVersion::v4, "persistent reservation look-up"));
  add_exclusion(list, excluded(Protocol::tcp, 5, 6, ExclusionHolder::administrator, IpVersion::v4, "Nsi registry"));
  add_exclusion(list, excluded(Protocol::tcp, 5, 6, ExclusionHolder::administrator, IpVersion::v6, "Nsi registry"));
  REQUIRE(list.size() == 2);
  CHECK(list[0].source == "Nsi registry; persistent reservation look-up");
}

TEST_CASE("planner: a required port inside a range the system holds is one critical conflict with the fix", "[exclusions]") {
  const auto p = plan(dev_box(), dev_port(), {});
  REQUIRE(count_findings(p, "held-by-system") == 1);   // one condition, although IPv4 and IPv6 list it
  const Finding* f = find_finding(p, "held-by-system");
  CHECK(f->severity == Severity::error);
  CHECK(f->range == PortRange::single(3000));
  CHECK(f->message.find("TCP 3000 needed by policy (policy policy.toml:7: the web app I develop) lies inside the excluded range 2951-3050/tcp") == 0);
  CHECK(f->message.find("WSAEACCES 10013") != std::string::npos);
  CHECK(f->message.find("portguard protect --service hns") != std::string::npos);
  // Not also an at-risk warning for the same port, and no block is planned over the system range
  // (Windows would refuse it with ERROR_SHARING_VIOLATION on every pass).
  CHECK(find_finding(p, "at-risk") == nullptr);
  CHECK(p.find(Target::persistent_reservation, Protocol::tcp)->added.empty());
  // A range of required ports partly inside: only that part is held; the rest is at risk, as before.
  const auto wide = plan(dev_box(), {req(Protocol::tcp, 3040, 3060, "", "dev servers", Provenance::Kind::policy)}, {});
  CHECK(find_finding(wide, "held-by-system")->range == PortRange::make(3040, 3050));
  CHECK(find_finding(wide, "at-risk")->range == PortRange::make(3051, 3060));
  CHECK(wide.find(Target::persistent_reservation, Protocol::tcp)->desired == std::vector<std::string>{"3051-3060"});
}

TEST_CASE("planner: a required port inside someone else's administered range is protected, and the plan says by what", "[exclusions]") {
  HostSnapshot s = dev_box();
  s.excluded_ranges = std::vector<ExcludedRange>{excluded(Protocol::tcp, 2990, 3010, ExclusionHolder::administrator)};
  const auto p = plan(s, dev_port(), {});
  CHECK_FALSE(p.has_changes());   // no block over it: it would overlap the admin's range
  const Finding* f = find_finding(p, "at-risk");
  REQUIRE(f != nullptr);
  CHECK(f->severity == Severity::info);
  CHECK(f->message.find("it is protected by the excluded range 2990-3010/tcp, administered by someone else (store=persistent).") !=
        std::string::npos);
  CHECK(find_finding(p, "held-by-system") == nullptr);
}

TEST_CASE("planner: only blocks PortGuard created are ever deleted", "[exclusions]") {
  HostSnapshot s = host_2016();
  s.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000)};
  s.persistent_reservations = std::vector<PersistentReservation>{{Protocol::udp, 1640, 10, 5}, {Protocol::udp, 4000, 10, 6}, {Protocol::udp, 1812, 2, 7}};
  s.excluded_ranges = std::vector<ExcludedRange>{excluded(Protocol::udp, 1640, 1649, ExclusionHolder::portguard),
                                                 excluded(Protocol::udp, 4000, 4009, ExclusionHolder::administrator)};
  PlanSettings exact;
  exact.mode = Mode::exact;
  exact.allow.removals = true;
  const auto p = plan(s, radius(), exact);
  const auto* udp = p.find(Target::persistent_reservation, Protocol::udp);
  CHECK(ranges(udp->removed) == std::vector<PortRange>{PortRange::make(1640, 1649)});   // PortGuard's: replaced by 1645-1646
  REQUIRE(count_findings(p, "foreign-block") == 1);
  CHECK(find_finding(p, "foreign-block")->message.find("4000-4009 is not required by the policy, but PortGuard did not create it") !=
        std::string::npos);
  // Unknown ownership (a snapshot from before excluded ranges) is never grounds to delete.
  s.excluded_ranges.reset();
  const auto unknown = plan(s, radius(), exact);
  CHECK(unknown.find(Target::persistent_reservation, Protocol::udp)->removed.empty());
  CHECK(count_findings(unknown, "foreign-block") == 2);
}

TEST_CASE("assess: the ledger names PortGuard's blocks; the probe finds a system range where the tables show nothing", "[exclusions]") {
  BindTableProbe probe;
  probe.host = dev_box();
  probe.host.excluded_ranges = std::vector<ExcludedRange>{};   // the live capture saw none (no netsh view)
  probe.host.persistent_reservations = std::vector<PersistentReservation>{{Protocol::tcp, 8080, 1, 1}, {Protocol::tcp, 5000, 2, 2}};
  probe.ledger = {{Protocol::tcp, 5000, 2, 9}};
  probe.binds[{Protocol::tcp, 3000}] = BindOutcome::access_denied;
  probe.binds[{Protocol::tcp, 3001}] = BindOutcome::access_denied;
  probe.binds[{Protocol::tcp, 3002}] = BindOutcome::address_in_use;   // a holder the tables missed: not an exclusion
  const RequirementFunction policy([](const HostSnapshot&) {
    return Requirements{req(Protocol::tcp, 3000, 3003, "", "dev", Provenance::Kind::policy),
                        req(Protocol::tcp, 80, 80, "", "below the dynamic range", Provenance::Kind::policy)};
  });
  const Assessment a = assess(probe, policy, {}, ServiceDetail::state);
  REQUIRE(a.host.excluded_ranges.has_value());
  const auto covering = [&](Port port) { return a.host.exclusions_covering(Protocol::tcp, port); };
  REQUIRE(covering(3000).size() == 1);
  CHECK(covering(3000)[0].holder == ExclusionHolder::system);
  CHECK(covering(3000)[0].range == PortRange::make(3000, 3001));
  CHECK(covering(3002).empty());
  REQUIRE(covering(5000).size() == 2);
  CHECK(covering(5000)[0].holder == ExclusionHolder::portguard);
  CHECK(covering(8080)[0].holder == ExclusionHolder::administrator);
  CHECK(covering(8080)[0].source == "persistent reservation look-up");
  // Only required ports inside the dynamic range were bound, each once.
  std::vector<std::pair<Protocol, Port>> expected{{Protocol::tcp, 3000}, {Protocol::tcp, 3001}, {Protocol::tcp, 3002}, {Protocol::tcp, 3003}};
  CHECK(probe.probed == expected);
  CHECK(find_finding(a.plan, "held-by-system")->range == PortRange::make(3000, 3001));
}

TEST_CASE("assess: never binds a port its running service may bind, nor anything offline", "[exclusions]") {
  BindTableProbe probe;
  probe.host = dev_box();
  probe.host.services.push_back(service("devsvc", 4242));
  const RequirementFunction policy([](const HostSnapshot&) { return Requirements{req(Protocol::tcp, 3000, 3000, "devsvc", "dev")}; });
  (void)assess(probe, policy, {}, ServiceDetail::state);
  CHECK(probe.probed.empty());
  probe.host.services.back().state = ServiceState::start_pending;
  (void)assess(probe, policy, {}, ServiceDetail::state);
  CHECK(probe.probed.empty());
  probe.host.services.back().state = ServiceState::stopped;
  probe.host.excluded_ranges = std::vector<ExcludedRange>{};
  (void)assess(probe, policy, {}, ServiceDetail::state);
  CHECK(probe.probed.size() == 1);
  // A capture that cannot see exclusions (2003, an old snapshot) is not probed either.
  probe.probed.clear();
  probe.host.excluded_ranges.reset();
  (void)assess(probe, policy, {}, ServiceDetail::state);
  CHECK(probe.probed.empty());
  // Offline, the snapshot's own list is the truth: nothing is added or bound.
  SnapshotProbe offline(dev_box());
  const Assessment a = assess(offline, RequirementFunction([](const HostSnapshot&) { return dev_port(); }), {}, ServiceDetail::state);
  CHECK(a.host.excluded_ranges == dev_box().excluded_ranges);
}

TEST_CASE("classify_bind: WSAEACCES means an exclusion only where no process holds the port", "[exclusions]") {
  CHECK(classify_bind(BindOutcome::bound, false) == PortBlock::free);
  CHECK(classify_bind(BindOutcome::address_in_use, false) == PortBlock::in_use);
  CHECK(classify_bind(BindOutcome::access_denied, false) == PortBlock::excluded_by_system);
  CHECK(classify_bind(BindOutcome::access_denied, true) == PortBlock::in_use);   // a TCP holder that bound exclusively
  CHECK(classify_bind(BindOutcome::not_probed, false) == PortBlock::unknown);
}

TEST_CASE("why: parses PORT, PORT/tcp and PORT/udp, and refuses anything else", "[why]") {
  CHECK(parse_port_query("3000/tcp").size() == 1);
  CHECK(parse_port_query("1812/UDP")[0].protocol == Protocol::udp);
  const auto both = parse_port_query("53");
  REQUIRE(both.size() == 2);
  CHECK(both[0].protocol == Protocol::tcp);
  CHECK(both[1].protocol == Protocol::udp);
  for (const char* bad : {"0", "65536", "", "3000/", "3000/sctp", "radius", "30 00", "-1", "3000/tcp/udp"})
    CHECK_THROWS_AS(parse_port_query(bad), InputError);
}

TEST_CASE("why: a port WinNAT holds is blocked, says by what, and what to do", "[why]") {
  SnapshotProbe offline(dev_box());
  const Assessment a = assess(offline, RequirementFunction([](const HostSnapshot&) { return dev_port(); }), {}, ServiceDetail::state);
  const PortAnswer w = answer_why(a, {Protocol::tcp, 3000}, BindOutcome::not_probed);
  CHECK(w.state == PortState::excluded_by_system);
  CHECK_FALSE(w.clear());
  CHECK(w.in_dynamic_range);
  CHECK(w.exclusions.size() == 2);
  CHECK(w.required_by.size() == 1);
  REQUIRE(w.findings.size() == 1);
  CHECK(w.findings[0].code == "held-by-system");
  REQUIRE_FALSE(w.advice.empty());
  CHECK(w.advice[0].find("portguard protect --service hns") != std::string::npos);
  const std::string text = render_why_text(a, {w});
  CHECK(text.find("excluded range: 2951-3050/tcp IPv4+IPv6, held by the system at run time (HNS/WinNAT) [test]\n") != std::string::npos);
  const auto j = nlohmann::json::parse(render_why_json(a, {w}));
  CHECK(j["ports"][0]["state"] == "excluded-by-system");
  CHECK(j["ports"][0]["clear"] == false);
}

TEST_CASE("why: free, in use by its owner, in use by another, and a live probe that meets WSAEACCES", "[why]") {
  HostSnapshot s = host_2016();
  s.excluded_ranges = std::vector<ExcludedRange>{};
  s.ports_in_use = {{Protocol::udp, 1812, 1100, "svchost.exe", ""}, {Protocol::udp, 1813, 2100, "dns.exe", "DNS"}};
  SnapshotProbe offline(s);
  const Assessment a = assess(offline, RequirementFunction([](const HostSnapshot&) { return radius(); }), {}, ServiceDetail::state);

  const auto owner = answer_why(a, {Protocol::udp, 1812}, BindOutcome::not_probed);
  CHECK(owner.state == PortState::in_use_by_owner);
  CHECK(owner.holders[0].service == "IAS");   // named from the service table
  CHECK(owner.clear());
  CHECK(owner.advice == std::vector<std::string>{"Nothing to do."});

  const auto taken = answer_why(a, {Protocol::udp, 1813}, BindOutcome::not_probed);
  CHECK(taken.state == PortState::in_use);
  CHECK_FALSE(taken.clear());
  CHECK(taken.findings[0].code == "conflict");
  CHECK(taken.advice[0] == "DNS service (dns.exe, PID 2100) holds UDP 1813: stop or reconfigure it so that the service that needs the port can bind it.");

  const auto free_port = answer_why(a, {Protocol::tcp, 8080}, BindOutcome::bound);
  CHECK(free_port.state == PortState::free);
  CHECK(free_port.clear());
  CHECK_FALSE(free_port.in_dynamic_range);

  const auto dynamic_port = answer_why(a, {Protocol::tcp, 50000}, BindOutcome::bound);
  CHECK(dynamic_port.clear());
  CHECK(dynamic_port.advice[0].find("inside the dynamic range and nothing reserves it") != std::string::npos);

  // Live: the tables list nothing, the exclusive bind is refused with WSAEACCES -> a system range.
  const auto blocked = answer_why(a, {Protocol::tcp, 50001}, BindOutcome::access_denied);
  CHECK(blocked.state == PortState::excluded_by_system);
  REQUIRE(blocked.exclusions.size() == 1);
  CHECK(blocked.exclusions[0].range == PortRange::single(50001));
  // An owner Windows does not name (Wine) while the service that needs the port runs: most
  // likely that service, as the planner judges it; the same unknown holder with IAS stopped is not.
  HostSnapshot w = s;
  w.ports_in_use = {{Protocol::udp, 1812, 0, "", ""}};
  SnapshotProbe wine(w);
  const Assessment aw = assess(wine, RequirementFunction([](const HostSnapshot&) { return radius(); }), {}, ServiceDetail::state);
  const auto likely = answer_why(aw, {Protocol::udp, 1812}, BindOutcome::not_probed);
  CHECK(likely.state == PortState::in_use_by_owner);
  CHECK(likely.clear());
  CHECK(render_why_text(aw, {likely}).find("in use, most likely by the service that needs it") != std::string::npos);
  w.services[1].state = ServiceState::stopped;
  SnapshotProbe stopped(w);
  const Assessment as = assess(stopped, RequirementFunction([](const HostSnapshot&) { return radius(); }), {}, ServiceDetail::state);
  CHECK(answer_why(as, {Protocol::udp, 1812}, BindOutcome::not_probed).state == PortState::in_use);
  // ... but WSAEACCES on a port a process holds is that process (TCP exclusive holder).
  const auto held = answer_why(a, {Protocol::udp, 1813}, BindOutcome::access_denied);
  CHECK(held.state == PortState::in_use);
}

TEST_CASE("why: reserved by each mechanism, and an old snapshot says it cannot list exclusions", "[why]") {
  HostSnapshot s = host_2003();
  s.reserved_ports = multi({"1645-1646"});
  SnapshotProbe old_host(s);
  const Assessment a2003 = assess(old_host, RequirementFunction([](const HostSnapshot&) { return radius(); }), {}, ServiceDetail::state);
  const auto w = answer_why(a2003, {Protocol::udp, 1645}, BindOutcome::not_probed);
  CHECK(w.reserved_by == std::vector<std::string>{"ReservedPorts (Tcpip\\Parameters; effective from the next boot)"});
  CHECK(render_why_text(a2003, {w}).find("excluded range: none (Windows before Vista/2008 has no excluded port ranges)") != std::string::npos);

  HostSnapshot m = host_2016();   // a 2016 snapshot without excluded ranges
  m.reserved_ports = multi({"1645-1646"});
  m.dns_socket_pool_excluded = multi({"1645-1646"});
  m.persistent_reservations = std::vector<PersistentReservation>{{Protocol::udp, 1645, 2, 1}};
  SnapshotProbe modern(m);
  const Assessment a = assess(modern, RequirementFunction([](const HostSnapshot&) { return radius(); }), {}, ServiceDetail::state);
  const auto r = answer_why(a, {Protocol::udp, 1645}, BindOutcome::not_probed);
  CHECK(r.reserved_by == std::vector<std::string>{"ReservedPorts lists it, but Windows Server 2016 (10.0.14393) ignores ReservedPorts (KB 812873)",
                                                  "persistent reservation 1645-1646/udp",
                                                  "the DNS socket pool exclusions (DNS\\Parameters\\SocketPoolExcludedPortRanges)"});
  CHECK(r.advice.back().find("does not list excluded ranges") != std::string::npos);
  CHECK(render_why_text(a, {r}).find("excluded range: not captured") != std::string::npos);
}

TEST_CASE("administered exclusions: the NSI value names, read from the registry", "[exclusions]") {
  CHECK(parse_nsi_exclusion_name("cc570100") == PortRange::single(52311));   // the documented example
  CHECK(parse_nsi_exclusion_name("0BB80A00") == PortRange::make(3000, 3009));
  CHECK(parse_nsi_exclusion_name("ffff0100") == PortRange::single(65535));
  for (const char* bad : {"ffff0200", "00000100", "0bb80000", "0bb80a0", "0bb80a000", "0bb8 a00", "(Default)", "zzzz0100", ""})
    CHECK_FALSE(parse_nsi_exclusion_name(bad).has_value());

  FakeRegistryStore registry;
  CHECK(read_administered_exclusions(registry).empty());   // keys absent (Wine, older Windows)
  registry.set_raw(registry_paths::nsi_tcp_exclusions, "0bb80a00", RawRegistryValue{reg_type::binary, {0x12, 0x00, 0xff, 0xff}});
  registry.set_raw(registry_paths::nsi_tcp_exclusions, "not-a-range", RawRegistryValue{reg_type::binary, {}});
  registry.set_raw(registry_paths::nsi_udp_exclusions, "06d70200", RawRegistryValue{reg_type::binary, {0x12, 0x00, 0xff, 0xff}});
  const auto found = read_administered_exclusions(registry);
  REQUIRE(found.size() == 4);
  CHECK(found[0] == ExcludedRange{Protocol::tcp, IpVersion::v4, PortRange::make(3000, 3009), ExclusionHolder::administrator,
                                  "Nsi registry (store=persistent)"});
  CHECK(found[1].ip == IpVersion::v6);
  CHECK(found[2].protocol == Protocol::udp);
  CHECK(found[2].range == PortRange::make(1751, 1752));
}
