// The one assessment (core/assess.hpp). The guard's pass, `portguard check`, `portguard plan` and
// `portguard repair --dry-run` must see a host the same way: each variation of a fake host is
// assessed as each of them does it, and the plans, verdicts and writes must agree:
//  - plan:    assess() over a SnapshotProbe of the host's JSON snapshot (cmd_plan --snapshot);
//  - check:   assess() over the live probe, judged by judge() (cmd_check);
//  - repair:  the Applier's dry run of that plan (cmd_repair --dry-run);
//  - guard:   Guard::run_pass in audit mode (its plan and the level of the events it raises) and in
//             enforce mode (what it writes).
#include "plan_support.hpp"

#include "portguard/core/apply.hpp"
#include "portguard/core/assess.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/guard.hpp"
#include "portguard/core/port_list_codec.hpp"
#include "portguard/core/snapshot_json.hpp"
#include "portguard/core/verdict.hpp"
#include "support/fakes.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <random>

using namespace portguard;
using namespace portguard::testing;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir() {
  static std::atomic<int> n{0};
  const auto dir = fs::temp_directory_path() / ("portguard-assess-test-" + std::to_string(std::random_device{}()) + "-" + std::to_string(n++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// What the shipped default policy demands of a DNS + IAS + W32Time host, the catalog and the
/// [[reserve]] both naming the RADIUS ports (so every RADIUS condition has two reasons), plus an
/// optional [[reserve]] straddling 1025.
Requirements policy_for(const HostSnapshot& host, bool straddle) {
  Requirements out;
  for (long port : {1645L, 1646L}) out.push_back(req(Protocol::udp, port, port, "IAS", "RADIUS (legacy)", Provenance::Kind::policy));
  out.push_back(req(Protocol::udp, 1812, 1813, "IAS", "RADIUS", Provenance::Kind::policy));
  if (host.find_service("IAS") != nullptr) {
    out.push_back(req(Protocol::udp, 1645, 1646, "IAS", "RADIUS legacy auth/accounting"));
    out.push_back(req(Protocol::udp, 1812, 1813, "IAS", "RADIUS auth/accounting"));
  }
  if (host.find_service("DNS") != nullptr) {
    out.push_back(req(Protocol::udp, 53, 53, "DNS", "DNS"));
    out.push_back(req(Protocol::tcp, 53, 53, "DNS", "DNS"));
  }
  out.push_back(req(Protocol::udp, 123, 123, "W32Time", "NTP"));
  if (straddle) out.push_back(req(Protocol::tcp, 1000, 1100, "BackupAgent", "backup agent", Provenance::Kind::policy));
  return out;
}

enum class Value { healthy, empty, partial, whole_range };
enum class Holders { owners, dns_on_1645, unknown_on_1812 };

struct Variation {
  std::string name;
  WindowsVersion version;
  std::optional<PortRange> dynamic;   // nullopt: the version's default
  Value value = Value::healthy;
  Holders holders = Holders::owners;
  bool persistent_api = true;
  bool straddle = false;
};

/// A host wired to fakes, so that the guard's writes are seen by the next capture.
struct Host {
  FakeRegistryStore registry;
  FakePersistentReservationApi persistent;
  FakeSystemProbe probe;
  FakeClock clock;
  FakeEventSink sink;
  fs::path dir = fresh_dir();
  BackupStore backups{dir / "backups", clock};
  Applier applier{registry, persistent, backups};
  RequirementFunction policy;
  PlanSettings settings;

  explicit Host(const Variation& v)
      : policy([straddle = v.straddle](const HostSnapshot& h) { return policy_for(h, straddle); }) {
    const bool legacy = v.version.major < 6;
    HostSnapshot& h = probe.host;
    h.hostname = v.name;
    h.version = v.version;
    h.services = {service("DNS", 1816), service("IAS", 900), service("W32Time", 700)};
    const PortRange range = v.dynamic.value_or(legacy ? PortRange::make(1025, 5000) : PortRange::make(49152, 65535));
    h.dynamic_ranges = {dynamic(Protocol::udp, range.first(), range.last()), dynamic(Protocol::tcp, range.first(), range.last())};
    h.ports_in_use = {{Protocol::udp, 53, 1816, "dns.exe", ""}, {Protocol::udp, 123, 700, "svchost.exe", ""}};
    const Port radius[] = {1645, 1646, 1812, 1813};
    if (v.holders == Holders::unknown_on_1812) {
      // IAS failed to start: something whose owner cannot be read holds 1812.
      h.services[1] = service("IAS", 0, ServiceState::stopped);
      h.ports_in_use.push_back({Protocol::udp, 1812, 0, "", ""});
    } else {
      for (Port p : radius) {
        if (v.holders == Holders::dns_on_1645 && p == 1645) h.ports_in_use.push_back({Protocol::udp, p, 1816, "dns.exe", ""});
        else h.ports_in_use.push_back({Protocol::udp, p, 900, "svchost.exe", ""});
      }
    }

    std::vector<std::string> value;
    switch (v.value) {
      case Value::healthy: value = {"1645-1646", "1812-1813"}; if (v.straddle) value.insert(value.begin(), "1025-1100"); break;
      case Value::empty: break;
      case Value::partial: value = {"1645-1645"}; break;
      case Value::whole_range: value = {"1-65535"}; break;
    }
    if (legacy) {
      if (!value.empty()) registry.set_multi_string(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value, value);
    } else {
      registry.set_multi_string(registry_paths::dns_parameters, registry_paths::socket_pool_excluded_value, value);
      if (v.value == Value::healthy) {
        // Persistent blocks only inside the dynamic range (docs/policy.md): the RADIUS ports over
        // UDP, the straddling [[reserve]]'s 1025-1100 over TCP.
        for (const auto& part : PortSet::from_ranges({PortRange::make(1645, 1646), PortRange::make(1812, 1813)}).intersected(PortSet{range}))
          persistent.reservations.push_back({Protocol::udp, part.first(), static_cast<std::uint16_t>(part.size()), 1});
        if (v.straddle)
          for (const auto& part : PortSet{PortRange::make(1025, 1100)}.intersected(PortSet{range}))
            persistent.reservations.push_back({Protocol::tcp, part.first(), static_cast<std::uint16_t>(part.size()), 2});
        // The DNS pool's value: the UDP ports inside the range.
        std::vector<std::string> pool;
        for (const auto& part : PortSet::from_ranges({PortRange::make(1645, 1646), PortRange::make(1812, 1813)}).intersected(PortSet{range}))
          pool.push_back(part.to_string());
        registry.set_multi_string(registry_paths::dns_parameters, registry_paths::socket_pool_excluded_value, pool);
      }
    }
    persistent.is_available = !legacy && v.persistent_api;
    probe.registry = &registry;
    probe.reservations = &persistent;
  }
  ~Host() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  Assessment assess_live() { return assess(probe, policy, settings, ServiceDetail::state); }

  GuardPolicy guard_policy(bool audit) {
    GuardPolicy g;
    g.source = "policy.toml";
    g.audit = audit;
    g.plan = settings;
    g.requirements = std::make_shared<RequirementFunction>(policy);
    return g;
  }
};

std::vector<Variation> variations() {
  std::vector<Variation> out;
  const std::pair<const char*, WindowsVersion> versions[] = {
      {"2003", {5, 2, 3790, true}}, {"2016-widened", {10, 0, 14393, true}}, {"2022", {10, 0, 20348, true}}};
  const std::pair<const char*, Value> values[] = {
      {"healthy", Value::healthy}, {"empty", Value::empty}, {"partial", Value::partial}, {"whole-range", Value::whole_range}};
  const std::pair<const char*, Holders> holders[] = {
      {"owners", Holders::owners}, {"dns-on-1645", Holders::dns_on_1645}, {"unknown-on-1812", Holders::unknown_on_1812}};
  for (const auto& [vname, version] : versions)
    for (const auto& [valname, value] : values)
      for (const auto& [hname, holder] : holders)
        for (bool straddle : {false, true}) {
          Variation v;
          v.name = std::string(vname) + "/" + valname + "/" + hname + (straddle ? "/straddle" : "");
          v.version = version;
          if (std::string_view(vname) == "2016-widened") v.dynamic = PortRange::make(1025, 60000);
          v.value = value;
          v.holders = holder;
          v.straddle = straddle;
          out.push_back(v);
        }
  Variation no_api;
  no_api.name = "2022/no-persistent-api";
  no_api.version = {10, 0, 20348, true};
  no_api.persistent_api = false;
  out.push_back(no_api);
  return out;
}

CheckStatus level_of(const std::vector<Event>& events) {
  CheckStatus s = CheckStatus::ok;
  for (const auto& e : events) {
    if (e.level == Event::Level::error) s = CheckStatus::critical;
    else if (e.level == Event::Level::warning && s == CheckStatus::ok) s = CheckStatus::warning;
  }
  return s;
}

std::string event_list(const std::vector<Event>& events) {
  std::string out;
  for (const auto& e : events) out += std::to_string(e.id) + (e.inserts.empty() ? "" : " " + e.inserts.front()) + "; ";
  return out;
}

/// What a target holds on the host now, as a port set (registry value or persistent blocks).
PortSet holding(Host& h, const TargetPlan& t) {
  if (t.target == Target::reserved_ports)
    return parse_port_list(h.registry.read_multi_string(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value).strings).ports;
  if (t.target == Target::dns_socket_pool)
    return parse_port_list(h.registry.read_multi_string(registry_paths::dns_parameters, registry_paths::socket_pool_excluded_value).strings).ports;
  PortSet out;
  for (const auto& r : h.persistent.reservations)
    if (r.protocol == *t.protocol) out.insert(PortRange::make(r.start, long{r.start} + r.count - 1));
  return out;
}

} // namespace

TEST_CASE("guard pass, check, plan and repair --dry-run assess every host variation identically", "[assess][equivalence]") {
  for (const Variation& v : variations()) {
    INFO("variation " << v.name);
    Host live(v);
    const Assessment check = live.assess_live();
    const std::string expected = render_json(check.plan);

    // plan --snapshot: the same host, captured to JSON and planned offline.
    SnapshotProbe offline(snapshot_from_json(to_json(live.probe.capture({}, ServiceDetail::state)), v.name));
    CHECK(render_json(assess(offline, live.policy, live.settings, ServiceDetail::state).plan) == expected);

    // The guard's pass, audit mode: the same plan, and events as loud as check's verdict.
    Guard audit(live.probe, live.applier, live.sink, live.clock);
    audit.set_policy(live.guard_policy(true));
    const PassResult audited = audit.run_pass(PassTrigger::manual);
    REQUIRE(audited.plan.has_value());
    CHECK(render_json(*audited.plan) == expected);
    const CheckVerdict verdict = judge(check.plan, {});
    INFO("check: " << to_string(verdict.status) << "; guard events: " << event_list(live.sink.events));
    CHECK(level_of(live.sink.events) == verdict.status);
    CHECK(live.registry.writes == 0);

    // repair --dry-run on one copy of the host, the guard's enforce pass on another: the dry run
    // announces exactly what the guard writes.
    Host dry(v);
    ApplyReport report;
    bool refused = false;
    try {
      const Assessment first = dry.assess_live();
      report = dry.applier.apply(first.plan, [&] { return dry.assess_live().plan; }, ApplyOptions{true, 3, "dry run"});
    } catch (const RefusedError&) {
      refused = true;
    }
    Host enforced(v);
    Guard guard(enforced.probe, enforced.applier, enforced.sink, enforced.clock);
    guard.set_policy(enforced.guard_policy(false));
    (void)guard.run_pass(PassTrigger::manual);
    CHECK(refused == check.plan.blocked());
    for (const TargetPlan& t : check.plan.targets) {
      if (!t.has_changes() || refused) {
        CHECK(holding(enforced, t) == holding(dry, t));   // nothing written
        continue;
      }
      const auto outcome = std::find_if(report.outcomes.begin(), report.outcomes.end(),
                                        [&](const TargetOutcome& o) { return o.target == t.target && o.protocol == t.protocol; });
      REQUIRE(outcome != report.outcomes.end());
      CHECK(parse_port_list(outcome->after).ports == holding(enforced, t));
    }
  }
}

TEST_CASE("the healthy variations are quiet everywhere: check OK, no warning event, nothing written", "[assess][equivalence]") {
  for (const char* version : {"2003", "2016-widened", "2022"}) {
    for (bool straddle : {false, true}) {
      Variation v;
      v.name = std::string(version) + "/healthy" + (straddle ? "/straddle" : "");
      v.version = std::string_view(version) == "2003" ? WindowsVersion{5, 2, 3790, true}
                  : std::string_view(version) == "2022" ? WindowsVersion{10, 0, 20348, true}
                                                        : WindowsVersion{10, 0, 14393, true};
      if (std::string_view(version) == "2016-widened") v.dynamic = PortRange::make(1025, 60000);
      v.straddle = straddle;
      INFO("variation " << v.name);
      Host h(v);
      const Assessment a = h.assess_live();
      CHECK_FALSE(a.plan.has_changes());
      CHECK(judge(a.plan, {}).status == CheckStatus::ok);
      Guard guard(h.probe, h.applier, h.sink, h.clock);
      guard.set_policy(h.guard_policy(false));
      const PassResult r = guard.run_pass(PassTrigger::startup);
      CHECK(r.compliant);
      CHECK_FALSE(r.changed);
      CHECK(h.registry.writes == 0);
      CHECK(h.persistent.creates == 0);
      CHECK(level_of(h.sink.events) == CheckStatus::ok);
    }
  }
}

TEST_CASE("assess looks up persistent reservations for this pass's requirements only", "[assess]") {
  // A probe that cannot enumerate (as on Windows): it finds a block only when asked for it.
  class LookupProbe : public FakeSystemProbe {
  public:
    std::vector<std::vector<PortRange>> asked;
    std::optional<std::vector<PersistentReservation>> look_up_reservations(std::span<const PortRange> candidates) override {
      asked.emplace_back(candidates.begin(), candidates.end());
      std::vector<PersistentReservation> found;
      for (const auto& c : candidates)
        if (c == PortRange::make(1812, 1813)) found.push_back({Protocol::udp, 1812, 2, 7});
      return found;
    }
  } probe;
  probe.host = host_2016();
  probe.host.dynamic_ranges = {dynamic(Protocol::udp, 1025, 60000), dynamic(Protocol::tcp, 1025, 60000)};
  const RequirementFunction first([](const HostSnapshot&) { return Requirements{req(Protocol::udp, 1812, 1813, "IAS", "RADIUS")}; });
  const RequirementFunction second([](const HostSnapshot&) { return Requirements{req(Protocol::udp, 1645, 1646, "IAS", "RADIUS")}; });

  const Assessment a = assess(probe, first, {}, ServiceDetail::state);
  REQUIRE(a.host.persistent_reservations.has_value());
  CHECK(a.host.persistent_reservations->size() == 1);
  CHECK_FALSE(a.plan.find(Target::persistent_reservation, Protocol::udp)->has_changes());

  // The next assessment asks for its own requirements, not the previous pass's.
  const Assessment b = assess(probe, second, {}, ServiceDetail::state);
  REQUIRE(probe.asked.size() == 2);
  CHECK(probe.asked[1] == std::vector<PortRange>{PortRange::make(1645, 1646)});
  CHECK(b.host.persistent_reservations->empty());
}

TEST_CASE("assess drops in-use rows whose port an exclusive bind finds free", "[assess]") {
  class StaleProbe : public FakeSystemProbe {
  public:
    std::vector<Port> probed;
    bool port_in_use(Protocol, Port port) override {
      probed.push_back(port);
      return port != 1812;   // the table's 1812 row is stale
    }
  } probe;
  probe.host = host_2003();
  probe.host.ports_in_use = {{Protocol::udp, 1812, 4242, "dns.exe", ""}, {Protocol::udp, 1645, 4242, "dns.exe", ""},
                             {Protocol::udp, 5353, 4242, "dns.exe", ""}};
  const RequirementFunction policy([](const HostSnapshot&) {
    return Requirements{req(Protocol::udp, 1645, 1646, "IAS", "RADIUS"), req(Protocol::udp, 1812, 1813, "IAS", "RADIUS")};
  });
  const Assessment a = assess(probe, policy, {}, ServiceDetail::state);
  CHECK(probe.probed == std::vector<Port>{1812, 1645});   // never a port nobody requires
  REQUIRE(a.host.ports_in_use.size() == 2);
  std::size_t conflicts = 0;
  for (const auto& f : a.plan.findings) conflicts += f.code == "conflict" ? 1 : 0;
  CHECK(conflicts == 1);
}
