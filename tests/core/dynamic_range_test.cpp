// [guard.dynamic_range] (issue 16 item 1): the dynamic port range as a guarded setting. The
// planner's drift / exposure / unknown findings per Windows version, check's verdict, the Applier's
// restore (validate -> compare -> back up -> write -> verify) through MaxUserPort and through the
// WMI seam, rollback of those backups, and the guard's events 2007 / 3012 / 1003 and metrics.
#include "plan_support.hpp"
#include "portguard/core/apply.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/event_ids.hpp"
#include "portguard/core/guard.hpp"
#include "portguard/core/metrics.hpp"
#include "portguard/core/verdict.hpp"
#include "support/fakes.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

using namespace portguard;
using namespace portguard::testing;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

const std::string tcpip(registry_paths::tcpip_parameters);

PortRange R(long a, long b) { return PortRange::make(a, b); }

PlanSettings expecting(std::vector<ExpectedDynamicRange> ranges) {
  PlanSettings s;
  s.dynamic_ranges = std::move(ranges);
  return s;
}

ExpectedDynamicRange udp_default() { return {Protocol::udp, R(49152, 65535), "policy.toml:5"}; }

HostSnapshot host_2016_widened() {
  HostSnapshot h = host_2016();
  h.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000, "MSFT_NetUDPSetting"), dynamic(Protocol::tcp, 49152, 65535, "MSFT_NetTCPSetting")};
  return h;
}

HostSnapshot host_2003_max_user_port(std::uint32_t max) {
  HostSnapshot h = host_2003();
  h.dynamic_ranges = {dynamic(Protocol::udp, 1025, max, "MaxUserPort"), dynamic(Protocol::tcp, 1025, max, "MaxUserPort")};
  return h;
}


} // namespace

TEST_CASE("dynamic range: without [guard.dynamic_range] nothing about the range is planned", "[dynamic-range]") {
  const auto p = plan(host_2016_widened(), radius(), {});
  CHECK(p.dynamic_ranges.empty());
  CHECK(find_finding(p, "dynamic-range-drift") == nullptr);
  CHECK(find_finding(p, "dynamic-range-exposes") == nullptr);
  CHECK(count_findings(p, "at-risk") == 2);   // the existing exposure report is unchanged
  CHECK_THAT(render_json(p), !Contains("dynamic_ranges"));
  CHECK_THAT(render_text(p), !Contains("dynamic-range/"));
}

TEST_CASE("dynamic range: healthy when the range is what the policy expects", "[dynamic-range]") {
  HostSnapshot h = host_2016();
  h.dynamic_ranges = {dynamic(Protocol::udp, 49152, 65535, "MSFT_NetUDPSetting"), dynamic(Protocol::tcp, 49152, 65535, "MSFT_NetTCPSetting")};
  const auto p = plan(h, radius(), expecting({udp_default()}));
  REQUIRE(p.dynamic_ranges.size() == 1);
  CHECK_FALSE(p.dynamic_ranges[0].drifted());
  CHECK(p.dynamic_ranges[0].restore == RangeRestore::wmi);
  CHECK(p.findings.empty());
  CHECK_FALSE(p.has_changes());
  CHECK(judge(p, {}).status == CheckStatus::ok);
  CHECK_THAT(render_text(p), Contains("dynamic-range/udp  (expected 49152-65535, policy.toml:5)\n  current: 49152-65535 (MSFT_NetUDPSetting)\n  no changes\n"));
}

TEST_CASE("dynamic range: a widened range on 2012+ is drift restored through WMI, and the exposed ports are one error each", "[dynamic-range]") {
  const auto p = plan(host_2016_widened(), radius(), expecting({udp_default()}));
  REQUIRE(p.dynamic_ranges.size() == 1);
  const DynamicRangePlan& d = p.dynamic_ranges[0];
  CHECK(d.drifted());
  CHECK(d.has_changes());
  CHECK(d.restore == RangeRestore::wmi);
  CHECK(d.current == R(1025, 60000));
  CHECK(p.has_changes());

  const Finding* drift = find_finding(p, "dynamic-range-drift");
  REQUIRE(drift != nullptr);
  CHECK(drift->severity == Severity::warning);
  CHECK(drift->message ==
        "The UDP dynamic port range is 1025-60000 (MSFT_NetUDPSetting), but the policy expects 49152-65535 (policy.toml:5); PortGuard "
        "sets DynamicPortRangeStartPort = 49152 and DynamicPortRangeNumberOfPorts = 16384 on every MSFT_NetUDPSetting instance (WMI "
        "root\\StandardCimv2); it takes effect at once.");

  // RADIUS lies outside 49152-65535 but inside 1025-60000, and nothing reserves it: exposed. The
  // louder finding replaces at-risk for those ports (one exposure, one alert).
  REQUIRE(count_findings(p, "dynamic-range-exposes") == 2);
  CHECK(count_findings(p, "at-risk") == 0);
  const Finding* exposed = find_finding(p, "dynamic-range-exposes");
  CHECK(exposed->severity == Severity::error);
  CHECK(exposed->range == R(1645, 1646));
  CHECK(exposed->message ==
        "UDP 1645-1646 needed by IAS (catalog: RADIUS legacy auth/accounting) is exposed: the dynamic port range was widened to "
        "1025-60000 (MSFT_NetUDPSetting), the policy expects 49152-65535, and nothing reserves the port, so any program asking for a "
        "random port can take it. Run portguard repair (or let the guard in enforce mode) restore the range.");

  const CheckVerdict v = judge(p, {});
  CHECK(v.status == CheckStatus::critical);
  CHECK(v.critical.size() == 2);
  CHECK_THAT(v.critical[0], Contains("[dynamic-range-exposes] UDP 1645-1646 needed by IAS"));
  CHECK_THAT(v.warning.back(), Contains("[dynamic-range-drift] The UDP dynamic port range is 1025-60000"));
}

TEST_CASE("dynamic range: a reserved port is not exposed by a widening", "[dynamic-range]") {
  HostSnapshot h = host_2016_widened();
  h.persistent_reservations = std::vector<PersistentReservation>{{Protocol::udp, 1645, 2, 7}, {Protocol::udp, 1812, 2, 8}};
  const auto p = plan(h, radius(), expecting({udp_default()}));
  CHECK(count_findings(p, "dynamic-range-exposes") == 0);
  CHECK(count_findings(p, "dynamic-range-drift") == 1);
  CHECK(judge(p, {}).status == CheckStatus::warning);
}

TEST_CASE("dynamic range: 2008 R2 has no documented interface: the exact netsh commands, never run", "[dynamic-range]") {
  HostSnapshot h = host_2016_widened();
  h.version = WindowsVersion{6, 1, 7601, true};
  h.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000, "administrator override HKLM\\SOFTWARE\\PortGuard\\Parameters\\DynamicPortRangeUdp")};
  const auto p = plan(h, {}, expecting({udp_default()}));
  REQUIRE(p.dynamic_ranges.size() == 1);
  CHECK(p.dynamic_ranges[0].restore == RangeRestore::manual);
  CHECK_FALSE(p.dynamic_ranges[0].has_changes());
  CHECK_FALSE(p.has_changes());
  const Finding* drift = find_finding(p, "dynamic-range-drift");
  REQUIRE(drift != nullptr);
  CHECK_THAT(drift->message, Contains("Windows Server 2008 R2 (6.1.7601) offers no documented interface to set the range; as an administrator run: "
                                      "netsh int ipv4 set dynamicport udp start=49152 num=16384 and netsh int ipv6 set dynamicport udp "
                                      "start=49152 num=16384."));
  CHECK(judge(p, {}).status == CheckStatus::warning);
  CHECK_THAT(render_text(p), Contains("  not restored by PortGuard: Windows Server 2008 R2 (6.1.7601) offers no documented interface"));
}

TEST_CASE("dynamic range: an assumed (unread) range is never called drift", "[dynamic-range]") {
  HostSnapshot h = host_2016();
  h.dynamic_ranges = {DynamicPortRange{Protocol::udp, IpVersion::v4, R(49152, 65535), true, "documented default for Windows 10.0 (not read from the host)"}};
  const auto p = plan(h, radius(), expecting({{Protocol::udp, R(10000, 20000), "policy.toml:5"}}));
  REQUIRE(p.dynamic_ranges.size() == 1);
  CHECK_FALSE(p.dynamic_ranges[0].known);
  CHECK_FALSE(p.dynamic_ranges[0].drifted());
  const Finding* unknown = find_finding(p, "dynamic-range-unknown");
  REQUIRE(unknown != nullptr);
  CHECK(unknown->severity == Severity::info);
  CHECK_THAT(unknown->message, Contains("netsh int ipv4 show dynamicport udp"));
  CHECK(judge(p, {}).status == CheckStatus::ok);
}

TEST_CASE("dynamic range: Windows 2003 restores MaxUserPort, and says when it cannot", "[dynamic-range]") {
  const ExpectedDynamicRange legacy{Protocol::udp, R(1025, 5000), "policy.toml:5"};
  auto host = host_2003_max_user_port(65534);
  host.reserved_ports = multi({"1645-1646", "1812-1813"});
  const auto p = plan(host, radius(), expecting({legacy}));
  REQUIRE(p.dynamic_ranges.size() == 1);
  CHECK(p.dynamic_ranges[0].restore == RangeRestore::max_user_port);
  CHECK(p.dynamic_ranges[0].how ==
        "PortGuard sets HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\\MaxUserPort = 5000 (REG_DWORD); it takes effect at the next boot");
  CHECK(count_findings(p, "dynamic-range-exposes") == 0);   // RADIUS is inside 1025-5000 either way
  CHECK(judge(p, {}).status == CheckStatus::warning);

  // The default range of 2003 (MaxUserPort not set) is a fact, not a guess.
  auto unset = host_2003();
  unset.dynamic_ranges = {DynamicPortRange{Protocol::udp, IpVersion::v4, R(1025, 5000), true, "default for Windows 5.2 (MaxUserPort not set)"}};
  CHECK(plan(unset, {}, expecting({{Protocol::udp, R(1025, 10000), "policy.toml:5"}})).dynamic_ranges.at(0).known);

  // A start other than 1025, or different ranges for TCP and UDP, cannot be written as MaxUserPort.
  const auto start = plan(host, {}, expecting({udp_default()}));
  CHECK(start.dynamic_ranges.at(0).restore == RangeRestore::manual);
  CHECK_THAT(start.dynamic_ranges.at(0).how, Contains("always 1025..MaxUserPort"));
  const auto split = plan(host, {}, expecting({legacy, {Protocol::tcp, R(1025, 10000), "policy.toml:6"}}));
  CHECK(split.dynamic_ranges.at(0).restore == RangeRestore::manual);
  CHECK_THAT(split.dynamic_ranges.at(0).how, Contains("MaxUserPort sets one range for TCP and UDP"));
}

// --- the Applier ------------------------------------------------------------------------------------

TEST_CASE("dynamic range apply: MaxUserPort is validated, backed up byte-exact, written, verified and rolled back", "[dynamic-range][apply]") {
  TempDir dir{"portguard-dynrange-test-"};
  FakeClock clock;
  FakeRegistryStore registry;
  FakePersistentReservationApi reservations;
  BackupStore backups(dir.path, clock);
  registry.set_dword(tcpip, "MaxUserPort", 65534);
  Applier applier(registry, reservations, backups);

  const auto p = plan(host_2003_max_user_port(65534), {}, expecting({{Protocol::udp, R(1025, 5000), "policy.toml:5"}}));
  const ApplyReport dry = applier.apply(p, {}, ApplyOptions{true});
  REQUIRE(dry.ranges.size() == 1);
  CHECK(dry.ranges[0].changed);
  CHECK(registry.read_dword(tcpip, "MaxUserPort") == 65534u);   // a dry run writes nothing
  CHECK(backups.list().empty());

  const ApplyReport report = applier.apply(p, {});
  REQUIRE(report.ranges.size() == 1);
  const RangeOutcome& o = report.ranges[0];
  CHECK(o.error.empty());
  CHECK(o.changed);
  CHECK(o.method == "MaxUserPort");
  CHECK(o.takes_effect == TakesEffect::next_boot);
  CHECK(o.before == "1025-65534");
  CHECK(o.after == "1025-5000");
  CHECK(registry.read_dword(tcpip, "MaxUserPort") == 5000u);

  const auto saved = backups.load(o.backup_id);
  REQUIRE(saved);
  REQUIRE(saved->dynamic_range);
  CHECK(saved->dynamic_range->method == "MaxUserPort");
  CHECK(saved->dynamic_range->previous == R(1025, 65534));
  CHECK(saved->previous_raw == RawRegistryValue{reg_type::dword, {0xFE, 0xFF, 0, 0}});
  CHECK(backup_from_json(backup_to_json(*saved), "x") == *saved);
  CHECK_THAT(o.backup_id, Contains("dynamic-range-udp"));

  // Rollback puts the exact previous value back, backing up the current one first.
  const RangeOutcome back = applier.restore_dynamic_range(*saved, false);
  CHECK(back.error.empty());
  CHECK(registry.read_dword(tcpip, "MaxUserPort") == 65534u);
  CHECK(backups.list().size() == 2);
  CHECK_THROWS_AS(applier.restore(o.backup_id), RefusedError);   // the registry-target path refuses it
}

TEST_CASE("dynamic range apply: MaxUserPort that did not exist is deleted again by rollback", "[dynamic-range][apply]") {
  TempDir dir{"portguard-dynrange-test-"};
  FakeClock clock;
  FakeRegistryStore registry;
  FakePersistentReservationApi reservations;
  BackupStore backups(dir.path, clock);
  registry.create_key(tcpip);
  Applier applier(registry, reservations, backups);
  // Policy expects 1025-10000; MaxUserPort is not set (1025-5000).
  const auto p = plan(host_2003_max_user_port(5000), {}, expecting({{Protocol::udp, R(1025, 10000), "policy.toml:5"}}));
  const ApplyReport report = applier.apply(p, {});
  REQUIRE(report.ranges.size() == 1);
  CHECK(report.ranges[0].error.empty());
  CHECK(registry.read_dword(tcpip, "MaxUserPort") == 10000u);
  const auto saved = backups.load(report.ranges[0].backup_id);
  REQUIRE(saved);
  CHECK_FALSE(saved->previous.present);
  CHECK(applier.restore_dynamic_range(*saved, false).error.empty());
  CHECK_FALSE(registry.has_value(tcpip, "MaxUserPort"));
}

TEST_CASE("dynamic range apply: WMI through the seam, with compare-and-swap, verification and refusals", "[dynamic-range][apply]") {
  TempDir dir{"portguard-dynrange-test-"};
  FakeClock clock;
  FakeRegistryStore registry;
  FakePersistentReservationApi reservations;
  BackupStore backups(dir.path, clock);
  FakeDynamicRangeWmi wmi;
  wmi.ranges.insert_or_assign(Protocol::udp, R(1025, 60000));
  Applier applier(registry, reservations, backups);
  auto p = plan(host_2016_widened(), {}, expecting({udp_default()}));

  SECTION("no WMI seam: an error for that range, nothing written") {
    const ApplyReport r = applier.apply(p, {});
    REQUIRE(r.ranges.size() == 1);
    CHECK_THAT(r.ranges[0].error, Contains("WMI (MSFT_NetUDPSetting) is not available"));
    CHECK(backups.list().empty());
  }
  applier.set_dynamic_range_wmi(&wmi);
  SECTION("restored, previous range backed up") {
    const ApplyReport r = applier.apply(p, {});
    REQUIRE(r.ranges.size() == 1);
    CHECK(r.ranges[0].error.empty());
    CHECK(r.ranges[0].takes_effect == TakesEffect::immediately);
    CHECK(wmi.ranges.at(Protocol::udp) == R(49152, 65535));
    const auto saved = backups.load(r.ranges[0].backup_id);
    REQUIRE(saved);
    CHECK(saved->dynamic_range == DynamicRangeBackup{"MSFT_NetUDPSetting", Protocol::udp, R(1025, 60000)});
    CHECK(applier.restore_dynamic_range(*saved, false).error.empty());
    CHECK(wmi.ranges.at(Protocol::udp) == R(1025, 60000));
  }
  SECTION("a write that does not hold is a verification error naming the backup") {
    wmi.drop_writes = true;
    const ApplyReport r = applier.apply(p, {});
    CHECK_THAT(r.ranges.at(0).error, Contains("verification failed: the udp dynamic port range reads 1025-60000 after setting 49152-65535"));
    CHECK_THAT(r.ranges.at(0).error, Contains(r.ranges.at(0).backup_id));
    CHECK_FALSE(r.ok());
  }
  SECTION("a failing WMI call is reported, the backup named") {
    wmi.fail_writes = "WMI MSFT_NetUDPSetting instance 'x' refused ...";
    const ApplyReport r = applier.apply(p, {});
    CHECK_THAT(r.ranges.at(0).error, Contains("refused ...; the previous range is in backup"));
  }
  SECTION("changed since the snapshot: re-planned, then restored") {
    int replans = 0;
    wmi.ranges.insert_or_assign(Protocol::udp, R(2000, 60000));
    const ApplyReport r = applier.apply(p, [&] {
      ++replans;
      HostSnapshot h = host_2016_widened();
      h.dynamic_ranges[0] = dynamic(Protocol::udp, 2000, 60000, "MSFT_NetUDPSetting");
      return plan(h, {}, expecting({udp_default()}));
    });
    CHECK(replans == 1);
    CHECK(r.replans == 1);
    CHECK(r.ranges.at(0).before == "2000-60000");
    CHECK(wmi.ranges.at(Protocol::udp) == R(49152, 65535));
  }
  SECTION("never writes a range Windows would not accept, whatever the plan says") {
    p.dynamic_ranges[0].expected.range = R(1000, 1100);
    const ApplyReport r = applier.apply(p, {});
    CHECK_THAT(r.ranges.at(0).error, Contains("refused to set the udp dynamic port range to 1000-1100: it starts at 1000, below 1025"));
    CHECK(wmi.writes == 0);
  }
}

// --- the guard --------------------------------------------------------------------------------------

namespace {

struct GuardRig {
  TempDir dir{"portguard-dynrange-test-"};
  FakeClock clock;
  FakeRegistryStore registry;
  FakePersistentReservationApi reservations;
  FakeDynamicRangeWmi wmi;
  FakeSystemProbe probe;
  FakeEventSink events;
  BackupStore backups{dir.path / "backups", clock};
  Applier applier{registry, reservations, backups};
  Guard guard{probe, applier, events, clock};

  GuardRig(HostSnapshot host, PlanSettings settings, bool audit, Requirements reqs) {
    probe.host = std::move(host);
    probe.registry = &registry;
    probe.derive_dynamic_ranges = true;
    if (probe.host.version.major >= 6) {
      probe.reservations = &reservations;
      probe.wmi = &wmi;
      applier.set_dynamic_range_wmi(&wmi);
    }
    GuardPolicy policy;
    policy.source = "C:\\ProgramData\\PortGuard\\policy.toml";
    policy.audit = audit;
    policy.plan = std::move(settings);
    policy.requirements = std::make_shared<RequirementFunction>([reqs](const HostSnapshot&) { return reqs; });
    guard.set_policy(policy);
  }
  std::vector<std::uint32_t> ids() const {
    std::vector<std::uint32_t> out;
    for (const auto& e : events.events) out.push_back(e.id);
    return out;
  }
  const Event* event(std::uint32_t id) const {
    for (const auto& e : events.events)
      if (e.id == id) return &e;
    return nullptr;
  }
};

} // namespace

TEST_CASE("dynamic range guard: 2003 MaxUserPort widened -> 2007, restored with a backup (1003), pending reboot (2002), quiet after the boot", "[dynamic-range][guard]") {
  GuardRig rig(host_2003(), expecting({{Protocol::udp, R(1025, 5000), "policy.toml:5"}, {Protocol::tcp, R(1025, 5000), "policy.toml:6"}}),
               false, radius());
  rig.registry.set_multi_string(tcpip, "ReservedPorts", {"1645-1646", "1812-1813"});
  rig.registry.set_dword(tcpip, "MaxUserPort", 65534);

  const PassResult first = rig.guard.run_pass(PassTrigger::startup);
  REQUIRE(first.ran);
  CHECK(rig.registry.read_dword(tcpip, "MaxUserPort") == 5000u);
  const Event* drift = rig.event(events::dynamic_range_drift);
  REQUIRE(drift != nullptr);
  CHECK(drift->level == Event::Level::warning);
  CHECK(drift->inserts.at(0) == "UDP");
  CHECK(drift->inserts.at(1) == "1025-65534");
  CHECK(drift->inserts.at(2) == "MaxUserPort");
  CHECK(drift->inserts.at(3) == "1025-5000");
  CHECK(drift->inserts.at(4) == "policy.toml:5");
  const Event* repaired = rig.event(events::repaired);
  REQUIRE(repaired != nullptr);
  CHECK(repaired->inserts.at(0) == "dynamic-range/udp");
  CHECK(repaired->inserts.at(1) == "range 1025-5000");
  CHECK(repaired->inserts.at(2) == "range 1025-65534");
  CHECK(repaired->inserts.at(3) == "next boot");
  CHECK(rig.backups.list().size() == 1);   // one MaxUserPort: TCP found it restored already
  CHECK(first.metrics.repaired == std::vector<std::string>{"dynamic-range/udp"});
  CHECK(first.metrics.dynamic_range_drift == std::vector<std::pair<Protocol, bool>>{{Protocol::udp, false}, {Protocol::tcp, false}});

  // MaxUserPort is read at boot: until the host reboots the wide range is still in force, and the
  // guard says so (one 2002 naming the range, rate limited), like a ReservedPorts change.
  const Event* pending = rig.event(events::pending_reboot);
  REQUIRE(pending != nullptr);
  CHECK(pending->inserts.at(0) == "dynamic-range/udp");
  REQUIRE(rig.guard.pending().size() == 1);
  CHECK(describe(rig.guard.pending().at(0)) == "dynamic-range/udp");
  CHECK(rig.guard.pending().at(0).takes_effect == TakesEffect::next_boot);
  const auto judged = judge(ReservationPlan{}, rig.guard.pending());
  CHECK(judged.status == CheckStatus::warning);
  REQUIRE(judged.warning.size() == 1);
  CHECK(judged.warning.at(0) == "pending reboot: dynamic-range/udp was changed and takes effect at the next boot");

  rig.events.events.clear();
  rig.clock.advance(std::chrono::minutes(1));
  const PassResult second = rig.guard.run_pass(PassTrigger::registry_changed);
  CHECK_FALSE(second.changed);
  CHECK(rig.guard.pending().size() == 1);   // still pending: no boot since the change
  CHECK(second.metrics.dynamic_range_drift == std::vector<std::pair<Protocol, bool>>{{Protocol::udp, false}, {Protocol::tcp, false}});

  // The host reboots: the restored range is in force, nothing is pending, the pass is quiet.
  rig.probe.host.boot_time_unix = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(rig.clock.now().time_since_epoch()).count());
  rig.events.events.clear();
  const PassResult third = rig.guard.run_pass(PassTrigger::timer);
  CHECK_FALSE(third.changed);
  CHECK(rig.guard.pending().empty());
  for (const auto& e : rig.events.events) CHECK(e.level == Event::Level::information);   // quiet: 1002 at most
}

TEST_CASE("pending effects: a restored dynamic range survives the state file and repair records it", "[dynamic-range][guard]") {
  TempDir dir{"portguard-pending-test-"};
  ApplyReport report;
  report.outcomes.push_back(TargetOutcome{});
  report.outcomes.back().target = Target::reserved_ports;
  report.outcomes.back().changed = true;
  report.outcomes.back().takes_effect = TakesEffect::next_boot;
  report.ranges.push_back(RangeOutcome{Protocol::udp, "MaxUserPort", true, "b1", "", TakesEffect::next_boot, "1025-65534", "1025-5000"});
  report.ranges.push_back(RangeOutcome{Protocol::tcp, "MSFT_NetTCPSetting", true, "b2", "", TakesEffect::immediately, "1025-60000", "49152-65535"});
  std::vector<PendingEffect> pending;
  REQUIRE(record_pending_effects(pending, report, 1'700'000'000));
  REQUIRE(pending.size() == 2);   // the immediate WMI change is not pending
  CHECK(describe(pending.at(0)) == "reserved-ports");
  CHECK(describe(pending.at(1)) == "dynamic-range/udp");

  // Recording the same subject again renews it instead of adding a second line.
  REQUIRE(record_pending_effects(pending, report, 1'700'000'100));
  CHECK(pending.size() == 2);

  save_pending_effects(dir.path, pending);
  const auto loaded = load_pending_effects(dir.path);
  REQUIRE(loaded.size() == 2);
  CHECK(same_subject(loaded.at(0), pending.at(0)));
  CHECK(same_subject(loaded.at(1), pending.at(1)));
  CHECK_FALSE(same_subject(loaded.at(0), loaded.at(1)));
  CHECK(loaded.at(1).changed_at_unix == 1'700'000'100);
}

TEST_CASE("dynamic range guard: audit reports 2007 and never writes", "[dynamic-range][guard]") {
  GuardRig rig(host_2003(), expecting({{Protocol::udp, R(1025, 5000), "policy.toml:5"}}), true, radius());
  rig.registry.set_multi_string(tcpip, "ReservedPorts", {"1645-1646", "1812-1813"});
  rig.registry.set_dword(tcpip, "MaxUserPort", 65534);
  const PassResult r = rig.guard.run_pass(PassTrigger::startup);
  CHECK(rig.registry.read_dword(tcpip, "MaxUserPort") == 65534u);
  CHECK(rig.backups.list().empty());
  const Event* drift = rig.event(events::dynamic_range_drift);
  REQUIRE(drift != nullptr);
  CHECK_THAT(drift->inserts.at(5), Contains("audit mode: nothing is changed; enforce mode would restore it"));
  CHECK(rig.event(events::in_compliance) == nullptr);
  CHECK(r.metrics.dynamic_range_drift == std::vector<std::pair<Protocol, bool>>{{Protocol::udp, true}});
  MetricsState state;
  state.last_pass = r.metrics;
  CHECK_THAT(render_prometheus(state), Contains("portguard_dynamic_range_drift{protocol=\"udp\"} 1\n"));
  CHECK_THAT(render_prometheus(MetricsState{}), !Contains("portguard_dynamic_range_drift"));
}

TEST_CASE("dynamic range guard: a widening that exposes RADIUS raises 3012 naming the port and IAS", "[dynamic-range][guard]") {
  GuardRig rig(host_2016(), expecting({udp_default()}), true, radius());
  rig.wmi.ranges.insert_or_assign(Protocol::udp, R(1025, 60000));
  rig.guard.run_pass(PassTrigger::startup);
  std::vector<const Event*> exposed;
  for (const auto& e : rig.events.events)
    if (e.id == events::dynamic_range_exposes_port) exposed.push_back(&e);
  REQUIRE(exposed.size() == 2);
  CHECK(exposed[0]->level == Event::Level::error);
  CHECK(exposed[0]->inserts.at(0) == "UDP");
  CHECK(exposed[0]->inserts.at(1) == "1645-1646");
  CHECK_THAT(exposed[0]->inserts.at(2), Contains("IAS"));
  CHECK(rig.event(events::port_at_risk) == nullptr);   // one exposure, one alert
  CHECK(rig.event(events::dynamic_range_drift) != nullptr);
}

TEST_CASE("dynamic range guard: 2016 enforce restores through WMI and the next pass is quiet", "[dynamic-range][guard]") {
  GuardRig rig(host_2016(), expecting({udp_default()}), false, {});
  rig.wmi.ranges.insert_or_assign(Protocol::udp, R(1025, 60000));
  rig.guard.run_pass(PassTrigger::startup);
  CHECK(rig.wmi.ranges.at(Protocol::udp) == R(49152, 65535));
  CHECK(rig.event(events::repaired) != nullptr);
  rig.events.events.clear();
  const PassResult second = rig.guard.run_pass(PassTrigger::timer);
  CHECK_FALSE(second.changed);
  for (const auto& e : rig.events.events) CHECK(e.level == Event::Level::information);
}
