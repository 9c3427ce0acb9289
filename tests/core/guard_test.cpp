// The guard engine (core/guard.hpp) driven natively through the shared fakes: which events ops see,
// in which order, and what gets written — audit vs enforce, rate limiting, registry fights,
// pending reboot / DNS restart.
#include "portguard/core/apply.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/event_ids.hpp"
#include "portguard/core/guard.hpp"
#include "portguard/core/registry_value.hpp"
#include "support/fakes.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <random>

using namespace portguard;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  static std::atomic<int> n{0};
  const auto dir = fs::temp_directory_path() / ("portguard-guard-test-" + std::to_string(std::random_device{}()) + "-" +
                                                std::to_string(n++) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

Requirement req(Protocol p, long first, long last, std::string service) {
  return Requirement{p, PortRange::make(first, last), service, Provenance{Provenance::Kind::catalog, "catalog:" + service, "test"}};
}

const Requirements ias = {req(Protocol::udp, 1645, 1646, "IAS"), req(Protocol::udp, 1812, 1813, "IAS")};

struct Rig {
  testing::FakeRegistryStore registry;
  testing::FakePersistentReservationApi persistent;
  testing::FakeSystemProbe probe;
  testing::FakeClock clock;
  testing::FakeEventSink sink;
  fs::path dir = fresh_dir("rig");
  BackupStore backups{dir / "backups", clock};
  Applier applier{registry, persistent, backups};
  GuardSettings settings;
  std::unique_ptr<Guard> guard;

  explicit Rig(WindowsVersion version = {5, 2, 3790, true}, GuardSettings s = {}) : settings(s) {
    probe.registry = &registry;
    probe.reservations = &persistent;
    persistent.is_available = version.major >= 6;
    probe.host.version = version;
    probe.host.hostname = "HOST";
    probe.host.boot_time_unix = seconds_now() - 3600;
    registry.set_multi_string(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value, {"1433-1434"});
    guard = std::make_unique<Guard>(probe, applier, sink, clock, settings, dir / "state");
    set_policy(false, std::vector<Target>{Target::reserved_ports});
  }
  ~Rig() {
    guard.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;
  std::uint64_t seconds_now() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
  }
  void set_policy(bool audit, std::optional<std::vector<Target>> targets, Requirements reqs = ias) {
    GuardPolicy p;
    p.source = "C:\\ProgramData\\PortGuard\\policy.toml";
    p.audit = audit;
    p.plan.targets = std::move(targets);
    p.requirements = std::make_shared<RequirementFunction>([reqs](const HostSnapshot&) { return reqs; });
    guard->set_policy(std::move(p));
  }
  std::vector<std::string> reserved() {
    return registry.read_multi_string(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value).strings;
  }
  void drift(std::vector<std::string> value = {"1433-1434"}) {
    registry.set_multi_string(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value, value);
  }
  std::vector<std::uint32_t> ids() const {
    std::vector<std::uint32_t> out;
    for (const auto& e : sink.events) out.push_back(e.id);
    return out;
  }
  const Event& last(std::uint32_t id) const {
    for (auto it = sink.events.rbegin(); it != sink.events.rend(); ++it)
      if (it->id == id) return *it;
    FAIL("no event " << id);
    throw std::logic_error("unreachable");
  }
  std::size_t count(std::uint32_t id) const {
    return static_cast<std::size_t>(std::count_if(sink.events.begin(), sink.events.end(), [&](const Event& e) { return e.id == id; }));
  }
};

} // namespace

TEST_CASE("Enforce: a drifted ReservedPorts is repaired, backed up, and reported in the documented order") {
  Rig rig;
  const PassResult r = rig.guard->run_pass(PassTrigger::startup);
  CHECK(r.ran);
  CHECK(r.compliant);
  CHECK(r.changed);
  CHECK(rig.reserved() == std::vector<std::string>{"1433-1434", "1645-1646", "1812-1813"});
  CHECK(rig.backups.list().size() == 1);
  CHECK(rig.ids() == std::vector<std::uint32_t>{events::drift_detected, events::repaired, events::pending_reboot, events::in_compliance});

  const Event& drift = rig.last(events::drift_detected);
  CHECK(drift.level == Event::Level::warning);
  CHECK(drift.inserts == std::vector<std::string>{"reserved-ports", "1645-1646, 1812-1813", "nothing", ""});
  const Event& repaired = rig.last(events::repaired);
  CHECK(repaired.inserts[0] == "reserved-ports");
  CHECK(repaired.inserts[1] == "1645-1646, 1812-1813");
  CHECK(repaired.inserts[3] == "next boot");
  CHECK(repaired.inserts[4] == rig.backups.list().front().id);
  // Every event carries exactly the number of insertion strings its message expects.
  for (const Event& e : rig.sink.events) CHECK(e.inserts.size() == events::find(e.id)->inserts);
}

TEST_CASE("Guard passes read only the services' state, not their registry settings (boot path)") {
  Rig rig;
  rig.guard->run_pass(PassTrigger::startup);
  REQUIRE(rig.probe.last_detail.has_value());
  CHECK(*rig.probe.last_detail == ServiceDetail::state);
}

TEST_CASE("A second pass on a compliant host writes nothing and stays quiet within the rate-limit interval") {
  Rig rig;
  rig.guard->run_pass(PassTrigger::startup);
  const int writes = rig.registry.writes;
  rig.sink.events.clear();
  rig.clock.advance(60s);
  const PassResult r = rig.guard->run_pass(PassTrigger::timer);
  CHECK(r.compliant);
  CHECK_FALSE(r.changed);
  CHECK(rig.registry.writes == writes);
  CHECK(rig.sink.events.empty());  // pending reboot and compliance were reported a minute ago
}

TEST_CASE("Rate limiting: a persisting condition is re-reported after the interval with the suppressed count") {
  GuardSettings s;
  s.rate_limit = 3600s;
  Rig rig({5, 2, 3790, true}, s);
  rig.registry.fail_writes = "RegSetValueExW(ReservedPorts) failed: Access is denied. (Win32 error 5)";
  rig.guard->run_pass(PassTrigger::startup);
  CHECK(rig.count(events::repair_failed) == 1);
  CHECK(rig.last(events::repair_failed).inserts[1].find("Access is denied") != std::string::npos);
  for (int i = 0; i < 3; ++i) {
    rig.clock.advance(15min);
    rig.guard->run_pass(PassTrigger::timer);
  }
  CHECK(rig.count(events::repair_failed) == 1);
  CHECK(rig.count(events::drift_detected) == 1);
  rig.clock.advance(15min);
  rig.guard->run_pass(PassTrigger::timer);
  REQUIRE(rig.count(events::repair_failed) == 2);
  CHECK(rig.last(events::repair_failed).inserts.back() == " (3 similar reports suppressed in the last 3600 s)");
  CHECK(rig.count(events::in_compliance) == 0);
}

TEST_CASE("A condition that clears and comes back is reported again at once") {
  Rig rig;
  rig.guard->run_pass(PassTrigger::startup);
  rig.clock.advance(1s);
  rig.guard->run_pass(PassTrigger::registry_changed);  // compliant: the drift condition cleared
  rig.drift();
  rig.clock.advance(1s);
  rig.guard->run_pass(PassTrigger::registry_changed);
  CHECK(rig.count(events::drift_detected) == 2);
  CHECK(rig.count(events::repaired) == 2);
  CHECK(rig.last(events::drift_detected).inserts.back().empty());
}

TEST_CASE("Audit mode reports what enforce would do and never writes") {
  Rig rig;
  rig.set_policy(true, std::vector<Target>{Target::reserved_ports});
  const PassResult r = rig.guard->run_pass(PassTrigger::startup);
  CHECK(r.ran);
  CHECK_FALSE(r.compliant);
  CHECK_FALSE(r.changed);
  CHECK(rig.registry.writes == 0);
  CHECK(rig.reserved() == std::vector<std::string>{"1433-1434"});
  CHECK(rig.ids() == std::vector<std::uint32_t>{events::audit_finding});
  CHECK(rig.last(events::audit_finding).inserts[1] == "1645-1646, 1812-1813");
}

TEST_CASE("Issue 18/2: an admin's edits seconds apart are repaired every time and are never a fight") {
  Rig rig;  // default settings, as the service runs
  rig.guard->run_pass(PassTrigger::startup);  // the guard's own start-up repair
  for (int edit = 0; edit < 6; ++edit) {
    rig.clock.advance(15s);
    rig.drift({});  // an admin deletes the value
    rig.guard->run_pass(PassTrigger::registry_changed);
    CHECK(rig.reserved() == std::vector<std::string>{"1645-1646", "1812-1813"});
  }
  CHECK(rig.count(events::repaired) == 7);
  CHECK(rig.count(events::registry_fight) == 0);
  CHECK_FALSE(rig.guard->backoff_until(Target::reserved_ports).has_value());
}

namespace {
/// Another program that changes the value back `delay` after every write of the guard, for as
/// long as it is fighting. Drives the guard as the service loop does: a pass right after each
/// change, and a pass at the guard's own deadline (back-off end, fight settle check) otherwise.
struct OtherTool {
  explicit OtherTool(Rig& r) : rig(r) {}
  Rig& rig;
  std::chrono::milliseconds delay{50};
  std::vector<std::chrono::steady_clock::time_point> guard_writes;
  bool guard_just_wrote = false;

  void pass(PassTrigger trigger) {
    const int writes = rig.registry.writes;
    rig.guard->run_pass(trigger);
    guard_just_wrote = rig.registry.writes != writes;
    if (guard_just_wrote) guard_writes.push_back(rig.clock.steady);
  }
  void step(bool fighting) {
    if (fighting && guard_just_wrote) {
      rig.clock.advance(delay);
      rig.drift();
      pass(PassTrigger::registry_changed);
      return;
    }
    const auto due = rig.guard->next_deadline();
    rig.clock.advance(due ? std::chrono::ceil<std::chrono::milliseconds>(*due - rig.clock.steady) : std::chrono::milliseconds{60000});
    pass(PassTrigger::fight_check);
  }
};
} // namespace

TEST_CASE("Issue 18/3: a program that changes the value back makes the guard back off 1 s, 2 s, 4 s ... capped, re-checking as each ends") {
  Rig rig;
  OtherTool tool{rig};
  tool.pass(PassTrigger::startup);
  REQUIRE(tool.guard_just_wrote);
  while (tool.guard_writes.size() < 12 || tool.guard_just_wrote) tool.step(true);

  REQUIRE(rig.count(events::registry_fight) == 1);  // raised once, rate limited while it lasts
  const Event& fight = rig.last(events::registry_fight);
  CHECK(fight.level == Event::Level::error);
  CHECK(fight.inserts == std::vector<std::string>{"reserved-ports", "3", "5", "1", "60", ""});
  // Three quick repairs, then one write exactly when each back-off ends (plus the other tool's
  // 50 ms): the back-off doubles from 1 s and is capped at 60 s; never a periodic pass later.
  std::vector<long long> gaps;
  for (std::size_t i = 3; i < tool.guard_writes.size(); ++i)
    gaps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(tool.guard_writes[i] - tool.guard_writes[i - 1]).count());
  CHECK(gaps == std::vector<long long>{1050, 2050, 4050, 8050, 16050, 32050, 60050, 60050, 60050});
  CHECK(rig.count(events::fight_resumed) == 0);
  REQUIRE(rig.guard->backoff_until(Target::reserved_ports).has_value());

  // The other program stops: the guard repairs when the current back-off ends, within the
  // documented worst-case window, and once the repair has held 5 s the fight is over (1005, once).
  const auto stopped = rig.clock.steady;
  tool.step(false);
  CHECK(tool.guard_just_wrote);
  CHECK(rig.reserved() == std::vector<std::string>{"1433-1434", "1645-1646", "1812-1813"});
  CHECK(rig.clock.steady - stopped <= 60s);
  tool.step(false);
  REQUIRE(rig.count(events::fight_resumed) == 1);
  CHECK(rig.last(events::fight_resumed).inserts == std::vector<std::string>{"reserved-ports", "5"});
  CHECK_FALSE(rig.guard->next_deadline().has_value());
  // Back to normal: a later change is repaired at once, and a new fight would be reported at once.
  rig.clock.advance(30s);
  rig.drift();
  const int writes = rig.registry.writes;
  rig.guard->run_pass(PassTrigger::registry_changed);
  CHECK(rig.registry.writes == writes + 1);
  for (const Event& e : rig.sink.events) CHECK(e.inserts.size() == events::find(e.id)->inserts);
}

TEST_CASE("Issue 18/4: a different policy error is a new event, and 3003 names the last known good in force") {
  Rig rig;
  GuardPolicy p;
  p.source = "C:\\ProgramData\\PortGuard\\policy.toml";
  p.accepted_utc = "2026-11-27T14:03:00Z";
  p.requirements = std::make_shared<RequirementFunction>([](const HostSnapshot&) { return ias; });
  rig.guard->set_policy(p);
  rig.guard->report_policy_invalid("C:\\ProgramData\\PortGuard\\policy.toml", "the file does not exist");
  rig.guard->report_policy_invalid("C:\\ProgramData\\PortGuard\\policy.toml", "policy.toml:2:8: mode: 'marge' is not one of merge, exact");
  REQUIRE(rig.count(events::policy_invalid) == 2);
  CHECK_THAT(rig.last(events::policy_invalid).inserts[1], Catch::Contains("marge"));
  CHECK(rig.last(events::policy_invalid).inserts[2] ==
        "the last known good policy (read from C:\\ProgramData\\PortGuard\\policy.toml, accepted 2026-11-27T14:03:00Z)");
  // The same error again is the same condition: rate limited.
  rig.guard->report_policy_invalid("C:\\ProgramData\\PortGuard\\policy.toml", "policy.toml:2:8: mode: 'marge' is not one of merge, exact");
  CHECK(rig.count(events::policy_invalid) == 2);
  // An error that comes back after another one is news again (only one policy condition holds).
  rig.guard->report_policy_invalid("C:\\ProgramData\\PortGuard\\policy.toml", "the file does not exist");
  rig.guard->report_policy_invalid("C:\\ProgramData\\PortGuard\\policy.toml", "policy.toml:2:8: mode: 'marge' is not one of merge, exact");
  CHECK(rig.count(events::policy_invalid) == 4);
}

TEST_CASE("Issue 18/6: 1003 and 1002 count and word port ranges as written, in merge and exact mode") {
  // TCP and UDP requirements of the same ports are one range of ReservedPorts (protocol-agnostic).
  const Requirements both = {req(Protocol::udp, 1645, 1646, "IAS"), req(Protocol::tcp, 1645, 1646, "IAS"),
                             req(Protocol::udp, 1701, 1702, "RemoteAccess"), req(Protocol::tcp, 1701, 1702, "RemoteAccess"),
                             req(Protocol::udp, 1812, 1813, "IAS"), req(Protocol::tcp, 1812, 1813, "IAS")};
  SECTION("merge: an entry widened to the required range is an addition, nothing is removed") {
    Rig rig;
    rig.drift({"1433-1434", "1701-1701"});
    rig.set_policy(false, std::vector<Target>{Target::reserved_ports}, both);
    rig.guard->run_pass(PassTrigger::startup);
    REQUIRE(rig.count(events::repaired) == 1);
    CHECK(rig.reserved() == std::vector<std::string>{"1433-1434", "1645-1646", "1701-1702", "1812-1813"});
    const Event& r = rig.last(events::repaired);
    CHECK(r.inserts[1] == "1645-1646, 1702-1702, 1812-1813");
    CHECK(r.inserts[2] == "nothing");
    REQUIRE(rig.count(events::in_compliance) == 1);
    CHECK(rig.last(events::in_compliance).inserts[0] == "3");
  }
  SECTION("exact: what was removed is named as ports, once") {
    Rig rig;
    rig.drift({"1433-1434", "1701-1701"});
    GuardPolicy p;
    p.source = "policy.toml";
    p.plan.targets = std::vector<Target>{Target::reserved_ports};
    p.plan.mode = Mode::exact;
    p.plan.allow.removals = true;
    p.requirements = std::make_shared<RequirementFunction>([both](const HostSnapshot&) { return both; });
    rig.guard->set_policy(p);
    rig.guard->run_pass(PassTrigger::startup);
    REQUIRE(rig.count(events::repaired) == 1);
    const Event& r = rig.last(events::repaired);
    CHECK(r.inserts[1] == "1645-1646, 1702-1702, 1812-1813");
    CHECK(r.inserts[2] == "1433-1434");
    CHECK(rig.last(events::in_compliance).inserts[0] == "3");
  }
}

TEST_CASE("Policy events: invalid and insecure are rate limited until a valid policy loads") {
  Rig rig;
  rig.guard->report_policy_invalid("C:\\p.toml", "p.toml:3:1: unknown key 'protcol'");
  rig.guard->report_policy_invalid("C:\\p.toml", "p.toml:3:1: unknown key 'protcol'");
  CHECK(rig.count(events::policy_invalid) == 1);
  CHECK(rig.last(events::policy_invalid).inserts[2] == "the last known good policy (read from C:\\ProgramData\\PortGuard\\policy.toml)");
  rig.guard->report_policy_insecure("C:\\p.toml", "Everyone");
  CHECK(rig.last(events::policy_insecure).level == Event::Level::error);
  rig.guard->report_policy_loaded("C:\\p.toml", false);
  rig.guard->report_policy_invalid("C:\\p.toml", "again");
  CHECK(rig.count(events::policy_invalid) == 2);
}

TEST_CASE("RateLimiter counts suppressed repeats per key") {
  RateLimiter rl(10s);
  const std::chrono::steady_clock::time_point t0{};
  CHECK(rl.admit(1, "a", t0) == 0u);
  CHECK_FALSE(rl.admit(1, "a", t0 + 1s));
  CHECK(rl.admit(1, "b", t0 + 1s) == 0u);  // another subject is another condition
  CHECK_FALSE(rl.admit(1, "a", t0 + 9s));
  CHECK(rl.admit(1, "a", t0 + 10s) == 2u);
  rl.forget_except({1}, {RateLimiter::key(1, "b")});
  CHECK(rl.admit(1, "a", t0 + 10s) == 0u);  // forgotten: reported at once
  CHECK_FALSE(rl.admit(1, "b", t0 + 10s));
}

TEST_CASE("Debouncer: quiet period after the last change, bounded by the max delay") {
  Debouncer d(100ms, 500ms);
  const std::chrono::steady_clock::time_point t0{};
  CHECK_FALSE(d.wait(t0).has_value());
  d.notify(t0);
  CHECK(d.wait(t0) == 100ms);
  d.notify(t0 + 80ms);
  CHECK(d.wait(t0 + 80ms) == 100ms);
  CHECK(d.wait(t0 + 180ms) == 0ms);
  // A writer that never pauses cannot postpone the pass beyond max_delay.
  for (int i = 1; i <= 10; ++i) d.notify(t0 + i * 50ms);
  CHECK(d.wait(t0 + 450ms) == 50ms);
  CHECK(d.wait(t0 + 500ms) == 0ms);
  d.clear();
  CHECK_FALSE(d.pending());
}

// --- the pass in numbers (Prometheus textfile, core/metrics.hpp) -------------------------------

TEST_CASE("Metrics of a pass: drift and repair per target, then a quiet compliant pass") {
  Rig rig;
  const PassResult first = rig.guard->run_pass(PassTrigger::startup);
  CHECK(first.metrics.drifted == std::vector<std::string>{"reserved-ports"});
  CHECK(first.metrics.repaired == std::vector<std::string>{"reserved-ports"});
  REQUIRE(first.metrics.compliance.size() == 1);
  CHECK(first.metrics.compliance[0].compliant);
  REQUIRE(first.metrics.ports.size() == 2);  // ReservedPorts protects UDP and TCP
  CHECK((first.metrics.ports[0].protocol == Protocol::udp && first.metrics.ports[0].required == 4 && first.metrics.ports[0].reserved == 4));
  CHECK((first.metrics.ports[1].protocol == Protocol::tcp && first.metrics.ports[1].required == 0));

  rig.clock.advance(1s);
  const PassResult second = rig.guard->run_pass(PassTrigger::timer);
  CHECK(second.metrics.drifted.empty());
  CHECK(second.metrics.repaired.empty());
  CHECK(second.metrics.compliance[0].compliant);
  CHECK(second.metrics.ports[0].reserved == 4);
}

TEST_CASE("Metrics of a pass: audit drift is counted but nothing is reserved; conflicts, risk and rails are counted") {
  SECTION("audit") {
    Rig rig;
    rig.set_policy(true, std::vector<Target>{Target::reserved_ports});
    const PassResult r = rig.guard->run_pass(PassTrigger::startup);
    CHECK(r.metrics.drifted == std::vector<std::string>{"reserved-ports"});
    CHECK(r.metrics.repaired.empty());
    CHECK_FALSE(r.metrics.compliance[0].compliant);
    CHECK(r.metrics.ports[0].reserved == 0);
  }
  SECTION("conflict") {
    Rig rig;
    rig.probe.host.ports_in_use.push_back(PortInUse{Protocol::udp, 1645, 1816, "dns.exe", ""});
    CHECK(rig.guard->run_pass(PassTrigger::startup).metrics.conflicts == 1);
  }
  SECTION("at risk: two ranges of two ports inside the dynamic range") {
    Rig rig({6, 3, 9600, true});
    rig.set_policy(true, std::vector<Target>{Target::dns_socket_pool});
    rig.probe.host.dynamic_ranges.push_back(DynamicPortRange{Protocol::udp, IpVersion::v4, PortRange::make(1025, 60000), false, "MSFT_NetUDPSetting"});
    CHECK(rig.guard->run_pass(PassTrigger::startup).metrics.ports_at_risk == 4);
  }
  SECTION("safety rail: the repair is refused and counted") {
    Rig rig;
    GuardPolicy p;
    p.source = "policy.toml";
    p.plan.targets = std::vector<Target>{Target::reserved_ports};
    p.plan.limits.max_reserved_ports = 3;
    p.requirements = std::make_shared<RequirementFunction>([](const HostSnapshot&) { return ias; });
    rig.guard->set_policy(p);
    const PassResult r = rig.guard->run_pass(PassTrigger::startup);
    CHECK(r.metrics.rails == std::vector<std::string>{"rail-max-ports"});
    CHECK(r.metrics.repaired.empty());
    CHECK_FALSE(r.metrics.compliance.at(0).compliant);
  }
}

TEST_CASE("A metrics folder that cannot be written is one rate-limited warning 2006") {
  Rig rig;
  rig.guard->report_metrics_not_written("C:\\missing", "CreateFileW failed");
  rig.guard->report_metrics_not_written("C:\\missing", "CreateFileW failed");
  REQUIRE(rig.count(events::metrics_not_written) == 1);
  const Event& e = rig.last(events::metrics_not_written);
  CHECK(e.level == Event::Level::warning);
  CHECK(e.inserts == std::vector<std::string>{"C:\\missing", "CreateFileW failed", ""});
  rig.clock.advance(std::chrono::hours(2));
  rig.guard->report_metrics_not_written("C:\\missing", "CreateFileW failed");
  CHECK(rig.count(events::metrics_not_written) == 2);
  CHECK_THAT(rig.last(events::metrics_not_written).inserts[2], Catch::Matchers::Contains("1 similar report suppressed"));
}

TEST_CASE("A required port inside a range HNS/WinNAT hold raises error 3013 once, naming port, service and range") {
  Rig rig({10, 0, 22631, false});
  rig.set_policy(false, std::nullopt, {req(Protocol::tcp, 3000, 3000, "WSLService")});
  rig.probe.host.dynamic_ranges = {{Protocol::tcp, IpVersion::v4, PortRange::make(1024, 65534), false, "test"}};
  rig.probe.host.excluded_ranges = std::vector<ExcludedRange>{
      {Protocol::tcp, IpVersion::v4, PortRange::make(2969, 3068), ExclusionHolder::system, "test"},
      {Protocol::tcp, IpVersion::v6, PortRange::make(2969, 3068), ExclusionHolder::system, "test"}};
  const PassResult r = rig.guard->run_pass(PassTrigger::startup);
  CHECK(rig.count(events::in_compliance) == 0);   // not "all reserved" while the port cannot be bound
  CHECK(r.ran);
  REQUIRE(rig.count(events::port_held_by_system) == 1);
  const Event& e = rig.last(events::port_held_by_system);
  CHECK(e.level == Event::Level::error);
  CHECK(e.inserts == std::vector<std::string>{"TCP", "3000", "WSLService", "2969-3068/tcp", ""});
  CHECK(rig.persistent.creates == 0);   // nothing can be reserved over the system's range now
  // The condition persists: not reported again within the rate-limit interval.
  rig.guard->run_pass(PassTrigger::timer);
  CHECK(rig.count(events::port_held_by_system) == 1);
}
