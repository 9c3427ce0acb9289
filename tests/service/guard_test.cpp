// The guard engine (core/guard.hpp) driven natively through the shared fakes: which events ops see,
// in which order, and what gets written — audit vs enforce, rate limiting, registry fights,
// pending reboot / DNS restart.
#include "portguard/core/apply.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/event_ids.hpp"
#include "portguard/core/guard.hpp"
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
    p.requirements = [reqs](const HostSnapshot&) { return reqs; };
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

TEST_CASE("A registry fight ends in a back-off with an error event, not an endless rewrite loop") {
  GuardSettings s;
  s.fight_rounds = 5;
  s.fight_window = 60s;
  s.fight_backoff = 600s;
  Rig rig({5, 2, 3790, true}, s);
  // The other tool rewrites the value every 200 ms; the guard runs a pass after each change.
  for (int round = 0; round < 50; ++round) {
    rig.drift();
    rig.clock.advance(200ms);
    rig.guard->run_pass(PassTrigger::registry_changed);
  }
  CHECK(rig.count(events::repaired) == 5);
  REQUIRE(rig.count(events::registry_fight) == 1);
  const Event& fight = rig.last(events::registry_fight);
  CHECK(fight.level == Event::Level::error);
  CHECK(fight.inserts == std::vector<std::string>{"reserved-ports", "5", "60", "600"});
  CHECK(rig.guard->backoff_until(Target::reserved_ports).has_value());
  const int writes = rig.registry.writes;

  // After the back-off the guard resumes (1005) and repairs again.
  rig.clock.advance(600s);
  rig.drift();
  rig.guard->run_pass(PassTrigger::timer);
  CHECK(rig.count(events::fight_resumed) == 1);
  CHECK(rig.count(events::repaired) == 6);
  CHECK(rig.registry.writes == writes + 1);
  CHECK(rig.reserved() == std::vector<std::string>{"1433-1434", "1645-1646", "1812-1813"});
}

TEST_CASE("A safety rail blocks the repair and raises its error event") {
  Rig rig;
  GuardPolicy p;
  p.source = "policy.toml";
  p.plan.targets = std::vector<Target>{Target::reserved_ports};
  p.plan.limits.max_reserved_ports = 3;
  p.requirements = [](const HostSnapshot&) { return ias; };
  rig.guard->set_policy(p);
  const PassResult r = rig.guard->run_pass(PassTrigger::startup);
  CHECK_FALSE(r.compliant);
  CHECK(rig.registry.writes == 0);
  REQUIRE(rig.count(events::safety_rail) == 1);
  CHECK(rig.last(events::safety_rail).inserts[1] == "rail-max-ports");
  CHECK(rig.count(events::repaired) == 0);
}

TEST_CASE("A port held by another process is reported as the conflict ops know") {
  Rig rig;
  rig.probe.host.ports_in_use.push_back(PortInUse{Protocol::udp, 1645, 1816, "dns.exe", ""});
  rig.guard->run_pass(PassTrigger::startup);
  REQUIRE(rig.count(events::port_conflict) == 1);
  const Event& e = rig.last(events::port_conflict);
  CHECK(e.level == Event::Level::error);
  CHECK(e.inserts == std::vector<std::string>{"UDP", "1645", "IAS", "dns.exe (PID 1816)", ""});
  CHECK(rig.count(events::in_compliance) == 0);
}

TEST_CASE("A port held by an unknown process is a conflict only when the service needing it is not running") {
  Rig rig;
  rig.probe.host.ports_in_use.push_back(PortInUse{Protocol::udp, 1645, 0, "", ""});  // owner unknown (Wine: PID 0)
  rig.guard->run_pass(PassTrigger::startup);
  CHECK(rig.count(events::port_conflict) == 0);  // IAS not installed: nobody fails to bind

  ServiceInfo ias_service;
  ias_service.name = "IAS";
  ias_service.state = ServiceState::running;
  ias_service.pid = 900;
  rig.probe.host.services.push_back(ias_service);
  rig.clock.advance(1s);
  rig.guard->run_pass(PassTrigger::timer);
  CHECK(rig.count(events::port_conflict) == 0);  // may well be IAS itself

  rig.probe.host.services.back().state = ServiceState::stopped;  // IAS failed to start: someone else holds it
  rig.probe.host.services.back().pid = 0;
  rig.clock.advance(1s);
  rig.guard->run_pass(PassTrigger::timer);
  REQUIRE(rig.count(events::port_conflict) == 1);
  CHECK(rig.last(events::port_conflict).inserts == std::vector<std::string>{"UDP", "1645", "IAS", "an unknown process", ""});
}

TEST_CASE("A required port inside the dynamic range and unreserved is reported at risk") {
  Rig rig({6, 3, 9600, true});
  rig.set_policy(true, std::vector<Target>{Target::dns_socket_pool});
  rig.probe.host.dynamic_ranges.push_back(DynamicPortRange{Protocol::udp, IpVersion::v4, PortRange::make(1025, 60000), false, "MSFT_NetUDPSetting"});
  rig.guard->run_pass(PassTrigger::startup);
  CHECK(rig.count(events::port_at_risk) == 2);
  CHECK(rig.last(events::port_at_risk).inserts[3] == "1025-60000");
}

TEST_CASE("Pending reboot is reported until the host has booted after the change") {
  Rig rig;
  rig.guard->run_pass(PassTrigger::startup);
  REQUIRE(rig.guard->pending().size() == 1);
  // Another guard instance (service restart) still knows: the state survives in the state dir.
  {
    testing::FakeEventSink other_sink;
    Guard restarted(rig.probe, rig.applier, other_sink, rig.clock, {}, rig.dir / "state");
    CHECK(restarted.pending().size() == 1);
    CHECK(load_pending_effects(rig.dir / "state").size() == 1);
  }
  rig.clock.advance(2h);
  rig.probe.host.boot_time_unix = rig.seconds_now() - 60;  // rebooted
  rig.sink.events.clear();
  rig.guard->run_pass(PassTrigger::timer);
  CHECK(rig.guard->pending().empty());
  CHECK(rig.count(events::pending_reboot) == 0);
  CHECK(load_pending_effects(rig.dir / "state").empty());
}

TEST_CASE("Pending DNS restart follows the DNS service's start time") {
  Rig rig({6, 3, 9600, true});
  rig.set_policy(false, std::vector<Target>{Target::dns_socket_pool});
  rig.probe.host.dns_start_time_unix = rig.seconds_now() - 600;
  rig.guard->run_pass(PassTrigger::startup);
  CHECK(rig.count(events::repaired) == 1);
  REQUIRE(rig.count(events::pending_dns_restart) == 1);
  CHECK(rig.last(events::pending_dns_restart).inserts[0] == "dns-socket-pool");
  CHECK(rig.count(events::pending_reboot) == 0);
  rig.clock.advance(10min);
  rig.probe.host.dns_start_time_unix = rig.seconds_now();  // DNS restarted
  rig.guard->run_pass(PassTrigger::timer);
  CHECK(rig.guard->pending().empty());
}

TEST_CASE("still_pending: boot and DNS start times decide") {
  HostSnapshot h;
  const std::vector<PendingEffect> rec = {{Target::reserved_ports, TakesEffect::next_boot, 1000},
                                          {Target::dns_socket_pool, TakesEffect::dns_restart, 1000}};
  CHECK(still_pending(rec, h).size() == 1);  // boot unknown: keep; DNS not running: nothing to wait for
  h.boot_time_unix = 999;
  h.dns_start_time_unix = 999;
  CHECK(still_pending(rec, h).size() == 2);
  h.boot_time_unix = 1001;
  h.dns_start_time_unix = 1001;
  CHECK(still_pending(rec, h).empty());
}

TEST_CASE("A failing capture becomes the check-failed error event, not an exception") {
  struct Broken : SystemProbe {
    HostSnapshot capture(const std::vector<ConfiguredPortQuery>&, ServiceDetail) override { throw std::runtime_error("RegOpenKeyExW failed"); }
    bool port_in_use(Protocol, Port) override { return false; }
  } broken;
  Rig rig;
  Guard g(broken, rig.applier, rig.sink, rig.clock);
  GuardPolicy p;
  p.requirements = [](const HostSnapshot&) { return ias; };
  g.set_policy(p);
  // A startup attempt that will be retried only logs; the last one raises the event.
  const PassResult quiet = g.run_pass(PassTrigger::startup, Guard::FailureReport::log_only);
  CHECK_FALSE(quiet.ran);
  CHECK(rig.count(events::check_failed) == 0);
  CHECK_THAT(quiet.log.back(), Catch::Contains("RegOpenKeyExW failed"));
  const PassResult r = g.run_pass(PassTrigger::startup);
  CHECK_FALSE(r.ran);
  REQUIRE(rig.count(events::check_failed) == 1);
  CHECK(rig.last(events::check_failed).inserts[0] == "RegOpenKeyExW failed");
}

TEST_CASE("Without a policy the guard changes nothing") {
  Rig rig;
  Guard g(rig.probe, rig.applier, rig.sink, rig.clock);
  const PassResult r = g.run_pass(PassTrigger::startup);
  CHECK_FALSE(r.ran);
  CHECK(rig.registry.writes == 0);
  CHECK(rig.sink.events.empty());
}

TEST_CASE("Policy events: invalid and insecure are rate limited until a valid policy loads") {
  Rig rig;
  rig.guard->report_policy_invalid("C:\\p.toml", "p.toml:3:1: unknown key 'protcol'");
  rig.guard->report_policy_invalid("C:\\p.toml", "p.toml:3:1: unknown key 'protcol'");
  CHECK(rig.count(events::policy_invalid) == 1);
  CHECK(rig.last(events::policy_invalid).inserts[2] == "C:\\ProgramData\\PortGuard\\policy.toml");
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
