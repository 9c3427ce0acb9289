// Applier, BackupStore, ReservationLedger and the REG_MULTI_SZ codec, natively with the fakes.
// Plans are built by hand here (not by plan()) so these tests pin the Applier's own contract:
// validate, compare-and-swap + re-plan, back up first, write exactly the plan, verify, restore.
#include "support/fakes.hpp"
#include "support/temp_dir.hpp"

#include "portguard/core/apply.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/port_list_codec.hpp"
#include "portguard/core/registry_value.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>

using namespace portguard;
using namespace portguard::testing;
namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

namespace {

const std::string tcpip(registry_paths::tcpip_parameters);
const std::string reserved(registry_paths::reserved_ports_value);
const std::string dns(registry_paths::dns_parameters);
const std::string pool(registry_paths::socket_pool_excluded_value);


/// What a merge-mode planner would do for one registry target: add `required`, keep the rest.
TargetPlan registry_target(Target target, const Strings& current, const PortSet& required) {
  TargetPlan t;
  t.target = target;
  t.effective = true;
  t.current = current;
  const PortList parsed = parse_port_list(current);
  t.desired = format_port_list(parsed.ports.united(required), parsed.unrecognised);
  for (const auto& r : required.minus(parsed.ports)) t.added.push_back({r, {}});
  for (const auto& r : parsed.ports) t.kept.push_back({r, {}});
  t.unrecognised = parsed.unrecognised;
  return t;
}

ReservationPlan plan_of(std::vector<TargetPlan> targets) {
  ReservationPlan p;
  p.targets = std::move(targets);
  return p;
}

TargetPlan persistent_target(Protocol protocol, const std::vector<PersistentReservation>& live, const PortSet& add,
                             const PortSet& remove = {}) {
  TargetPlan t;
  t.target = Target::persistent_reservation;
  t.protocol = protocol;
  t.effective = true;
  t.current = describe_reservations(live);
  PortSet desired = parse_port_list(t.current).ports;
  desired.insert(add);
  desired.erase(remove);
  t.desired = format_port_list(desired);
  for (const auto& r : add) t.added.push_back({r, {}});
  for (const auto& r : remove) t.removed.push_back({r, {}});
  return t;
}

struct Rig {
  TempDir dir{"portguard-apply-test-"};
  FakeRegistryStore registry;
  FakePersistentReservationApi reservations;
  FakeClock clock;
  BackupStore backups{dir.path / "backups", clock};
  ReservationLedger ledger{dir.path / "state" / "created-reservations.json"};
  Applier applier{registry, reservations, backups, &ledger};
};

const PortSet radius{PortRange::make(1645, 1646), PortRange::make(1812, 1813)};

} // namespace

TEST_CASE("REG_MULTI_SZ codec: every shape decodes without loss and canonical values round-trip") {
  auto bytes = [](std::u16string_view s) {
    std::vector<std::uint8_t> out;
    for (char16_t c : s) {
      out.push_back(static_cast<std::uint8_t>(c & 0xff));
      out.push_back(static_cast<std::uint8_t>(c >> 8));
    }
    return out;
  };
  using namespace std::string_literals;
  auto decode = [&](std::u16string s) { return decode_multi_sz({reg_type::multi_sz, bytes(s)}).strings; };
  CHECK(decode(u""s).empty());
  CHECK(decode(u"\0"s).empty());
  CHECK(decode(u"\0\0"s) == Strings{""});
  CHECK(decode(u"a\0\0"s) == Strings{"a"});
  CHECK(decode(u"a\0b\0"s) == Strings{"a", "b"});
  CHECK(decode(u"a\0b"s) == Strings{"a", "b"});
  CHECK(decode(u"a\0\0b\0\0"s) == Strings{"a", "", "b"});
  CHECK(decode(u"a\0\0\0"s) == Strings{"a", ""});
  for (const Strings& v : {Strings{}, Strings{""}, Strings{"", ""}, Strings{"1645-1646", "", "x y"}, Strings{"\xe2\x82\xac", "\xf0\x9f\x98\x80"}}) {
    CHECK(decode_multi_sz({reg_type::multi_sz, encode_multi_sz(v)}).strings == v);
  }
  const auto sz = decode_multi_sz({reg_type::sz, bytes(u"1645-1646\0"s)});
  CHECK(sz.type_problem == "value has type REG_SZ, expected REG_MULTI_SZ");
  CHECK(sz.strings == Strings{"1645-1646"});
  CHECK(decode_multi_sz({reg_type::binary, {1, 2, 3}}).strings.empty());
  CHECK_THROWS_AS(encode_multi_sz({"a\0b"s}), InputError);
  CHECK(utf16_to_utf8(utf8_to_utf16("\xff")) == "\xef\xbf\xbd");
  CHECK(from_hex(to_hex({0, 0x7f, 0xff})) == std::vector<std::uint8_t>{0, 0x7f, 0xff});
  CHECK_THROWS_AS(from_hex("abc"), InputError);
  CHECK_THROWS_AS(from_hex("zz"), InputError);
}

TEST_CASE("repair writes exactly the plan, backs up the previous bytes first, and verifies") {
  Rig rig;
  using namespace std::string_literals;
  // An admin's value with a missing list terminator and an unrecognised entry.
  const RawRegistryValue before{reg_type::multi_sz, encode_multi_sz({"3000-3000", "abc"})};
  RawRegistryValue odd = before;
  odd.data.resize(odd.data.size() - 2);
  rig.registry.set_raw(tcpip, reserved, odd);

  bool backup_existed_at_write = false;
  rig.registry.hook = [&](FakeRegistryStore::Op op, std::string_view, std::string_view) {
    if (op == FakeRegistryStore::Op::write) backup_existed_at_write = !rig.backups.list().empty();
  };
  const auto plan = plan_of({registry_target(Target::reserved_ports, {"3000-3000", "abc"}, radius)});
  const ApplyReport report = rig.applier.apply(plan, nullptr);

  REQUIRE(report.outcomes.size() == 1);
  const TargetOutcome& o = report.outcomes[0];
  CHECK(report.ok());
  CHECK(o.changed);
  CHECK(o.error.empty());
  CHECK(o.takes_effect == TakesEffect::next_boot);
  CHECK(o.before == Strings{"3000-3000", "abc"});
  CHECK(o.after == Strings{"1645-1646", "1812-1813", "3000-3000", "abc"});
  CHECK(rig.registry.read_multi_string(tcpip, reserved).strings == o.after);
  CHECK(rig.registry.writes == 1);
  CHECK(backup_existed_at_write);

  const auto backup = rig.backups.load(o.backup_id);
  REQUIRE(backup.has_value());
  CHECK(backup->target == Target::reserved_ports);
  CHECK(backup->key == tcpip);
  CHECK(backup->value == reserved);
  CHECK(backup->reason == "repair");
  REQUIRE(backup->previous_raw.has_value());
  CHECK(*backup->previous_raw == odd);   // byte-exact, missing terminator included
  CHECK(backup->previous.strings == Strings{"3000-3000", "abc"});
}

TEST_CASE("a missing value is created; nothing to change means no write and no backup") {
  Rig rig;
  auto plan = plan_of({registry_target(Target::dns_socket_pool, {}, PortSet{PortRange::make(1645, 1646)})});
  auto report = rig.applier.apply(plan, nullptr);
  REQUIRE(report.outcomes.size() == 1);
  CHECK(report.outcomes[0].takes_effect == TakesEffect::dns_restart);
  CHECK(rig.registry.read_multi_string(dns, pool).strings == Strings{"1645-1646"});
  const auto backup = rig.backups.load(report.outcomes[0].backup_id);
  REQUIRE(backup.has_value());
  CHECK_FALSE(backup->previous.present);

  const auto again = plan_of({registry_target(Target::dns_socket_pool, {"1645-1646"}, PortSet{PortRange::make(1645, 1646)})});
  const auto second = rig.applier.apply(again, nullptr);
  CHECK(second.outcomes.empty());
  CHECK_FALSE(second.changed());
  CHECK(rig.registry.writes == 1);
  CHECK(rig.backups.list().size() == 1);
}

TEST_CASE("dry run compares but writes nothing and backs up nothing") {
  Rig rig;
  rig.registry.set_multi_string(tcpip, reserved, {"3000-3000"});
  const auto report = rig.applier.apply(plan_of({registry_target(Target::reserved_ports, {"3000-3000"}, radius)}), nullptr, {.dry_run = true});
  REQUIRE(report.outcomes.size() == 1);
  CHECK(report.dry_run);
  CHECK(report.outcomes[0].changed);
  CHECK(report.outcomes[0].after == Strings{"1645-1646", "1812-1813", "3000-3000"});
  CHECK(report.outcomes[0].backup_id.empty());
  CHECK(rig.registry.writes == 0);
  CHECK(rig.backups.list().empty());
}

TEST_CASE("a blocked plan is refused as a whole, naming the rail") {
  Rig rig;
  auto plan = plan_of({registry_target(Target::reserved_ports, {}, radius)});
  Finding rail;
  rail.code = "rail-max-ports";
  rail.severity = Severity::error;
  rail.blocks_repair = true;
  rail.message = "the plan would reserve 5000 ports (limit 1024)";
  rail.target = Target::reserved_ports;
  plan.findings.push_back(rail);
  CHECK_THROWS_WITH(rig.applier.apply(plan, nullptr), Catch::Contains("rail-max-ports") && Catch::Contains("5000 ports"));
  CHECK_THROWS_AS(rig.applier.apply(plan, nullptr), RefusedError);
  CHECK(rig.registry.writes == 0);
  CHECK(rig.backups.list().empty());
}

TEST_CASE("compare-and-swap: a change after the snapshot is detected and re-planned, keeping the other writer's entry") {
  Rig rig;
  rig.registry.set_multi_string(tcpip, reserved, {"3000-3000"});
  const auto first = plan_of({registry_target(Target::reserved_ports, {"3000-3000"}, radius)});
  // Another tool writes between our snapshot and our write.
  bool fired = false;
  rig.registry.hook = [&](FakeRegistryStore::Op op, std::string_view, std::string_view value) {
    if (op == FakeRegistryStore::Op::read && value == reserved && !fired) {
      fired = true;
      rig.registry.set_multi_string(tcpip, reserved, {"3000-3000", "4000-4001"});
    }
  };
  int replans = 0;
  auto replan = [&] {
    ++replans;
    return plan_of({registry_target(Target::reserved_ports, rig.registry.read_multi_string(tcpip, reserved).strings, radius)});
  };
  const auto report = rig.applier.apply(first, replan);
  CHECK(replans == 1);
  CHECK(report.replanned());
  CHECK(report.replans == 1);
  REQUIRE(report.outcomes.size() == 1);
  CHECK(report.ok());
  CHECK(rig.registry.read_multi_string(tcpip, reserved).strings == Strings{"1645-1646", "1812-1813", "3000-3000", "4000-4001"});
  CHECK(rig.registry.writes == 1);
}

TEST_CASE("compare-and-swap: a value that never settles stops the repair after max_replans without writing") {
  Rig rig;
  rig.registry.set_multi_string(tcpip, reserved, {"1-1"});
  int n = 0;
  rig.registry.hook = [&](FakeRegistryStore::Op op, std::string_view, std::string_view) {
    if (op != FakeRegistryStore::Op::read) return;
    ++n;
    rig.registry.set_multi_string(tcpip, reserved, {std::to_string(n) + "0-" + std::to_string(n) + "0"});
  };
  int replans = 0;
  auto replan = [&] {
    ++replans;
    return plan_of({registry_target(Target::reserved_ports, {"stale"}, radius)});
  };
  CHECK_THROWS_AS(rig.applier.apply(plan_of({registry_target(Target::reserved_ports, {"1-1"}, radius)}), replan, {.max_replans = 2}),
                  ConcurrentChangeError);
  CHECK(replans == 2);
  CHECK(rig.registry.writes == 0);
  CHECK(rig.backups.list().empty());
}

TEST_CASE("values are validated before writing: nothing unvalidated reaches the registry") {
  Rig rig;
  rig.registry.set_multi_string(tcpip, reserved, {"3000-3000"});
  SECTION("not canonical") {
    auto t = registry_target(Target::reserved_ports, {"3000-3000"}, radius);
    t.desired = {"1812-1813", "1645-1646", "3000-3000"};
    const auto r = rig.applier.apply(plan_of({t}), nullptr);
    REQUIRE(r.outcomes.size() == 1);
    CHECK_THAT(r.outcomes[0].error, Catch::Contains("not in canonical form"));
  }
  SECTION("loses an added range") {
    auto t = registry_target(Target::reserved_ports, {"3000-3000"}, radius);
    t.desired = {"1645-1646", "3000-3000"};
    const auto r = rig.applier.apply(plan_of({t}), nullptr);
    CHECK_THAT(r.outcomes[0].error, Catch::Contains("does not contain the added range 1812-1813"));
  }
  SECTION("drops an unrecognised entry") {
    auto t = registry_target(Target::reserved_ports, {"3000-3000", "abc"}, radius);
    rig.registry.set_multi_string(tcpip, reserved, {"3000-3000", "abc"});
    t.desired.pop_back();
    const auto r = rig.applier.apply(plan_of({t}), nullptr);
    CHECK_THAT(r.outcomes[0].error, Catch::Contains("drops the unrecognised entry"));
  }
  SECTION("blank entry") {
    auto t = registry_target(Target::reserved_ports, {"3000-3000"}, radius);
    t.desired.push_back("");
    const auto r = rig.applier.apply(plan_of({t}), nullptr);
    CHECK_THAT(r.outcomes[0].error, Catch::Contains("blank entries"));
  }
  SECTION("empties a value") {
    auto t = registry_target(Target::reserved_ports, {"3000-3000"}, {});
    t.desired.clear();
    t.kept.clear();
    const auto r = rig.applier.apply(plan_of({t}), nullptr);
    CHECK_THAT(r.outcomes[0].error, Catch::Contains("empty a non-empty value"));
  }
  CHECK(rig.registry.writes == 0);
  CHECK(rig.backups.list().empty());
  CHECK(rig.registry.read_multi_string(tcpip, reserved).strings.front() == "3000-3000");
}

TEST_CASE("a write that does not stick is reported by the read-back, with the backup to recover from") {
  Rig rig;
  rig.registry.drop_writes = true;
  const auto r = rig.applier.apply(plan_of({registry_target(Target::reserved_ports, {}, radius)}), nullptr);
  REQUIRE(r.outcomes.size() == 1);
  CHECK_FALSE(r.ok());
  CHECK_THAT(r.outcomes[0].error, Catch::Contains("verification failed") && Catch::Contains(r.outcomes[0].backup_id));
  CHECK_FALSE(r.outcomes[0].backup_id.empty());
}

TEST_CASE("a refused write is reported per target and the other targets still run") {
  Rig rig;
  rig.registry.fail_writes = "Access is denied.";
  auto plan = plan_of({registry_target(Target::reserved_ports, {}, radius),
                       persistent_target(Protocol::udp, {}, PortSet{PortRange::make(1645, 1646)})});
  const auto r = rig.applier.apply(plan, nullptr);
  REQUIRE(r.outcomes.size() == 2);
  CHECK_THAT(r.outcomes[0].error, Catch::Contains("Access is denied"));
  CHECK(r.outcomes[1].error.empty());
  CHECK(rig.reservations.reservations.size() == 1);
}

TEST_CASE("persistent reservations: created blocks are recorded, in-use ports name their holder, unavailability is reported") {
  Rig rig;
  rig.reservations.in_use.push_back(PortInUse{Protocol::udp, 1812, 1816, "dns.exe", "DNS"});
  const PortSet want{PortRange::make(1645, 1646), PortRange::make(1812, 1813)};
  const auto r = rig.applier.apply(plan_of({persistent_target(Protocol::udp, {}, want)}), nullptr);
  REQUIRE(r.outcomes.size() == 1);
  const auto& o = r.outcomes[0];
  CHECK(o.protocol == Protocol::udp);
  CHECK(o.changed);
  CHECK(o.takes_effect == TakesEffect::immediately);
  CHECK_THAT(o.error, Catch::Contains("1812-1813") && Catch::Contains("DNS service (dns.exe, PID 1816)"));
  CHECK(o.after == Strings{"1645-1646"});
  const auto recorded = rig.ledger.load();
  REQUIRE(recorded.size() == 1);
  CHECK(recorded[0].start == 1645);
  CHECK(recorded[0].count == 2);
  CHECK(recorded[0].protocol == Protocol::udp);

  SECTION("unavailable API: the target reports it and nothing is attempted") {
    rig.reservations.is_available = false;
    const auto u = rig.applier.apply(plan_of({persistent_target(Protocol::tcp, {}, want)}), nullptr);
    REQUIRE(u.outcomes.size() == 1);
    CHECK_THAT(u.outcomes[0].error, Catch::Contains("unavailable on this host"));
    CHECK_FALSE(u.outcomes[0].changed);
  }
  SECTION("the planner's 'not available' flag is honoured without calling the API") {
    auto t = persistent_target(Protocol::tcp, {}, want);
    t.available = false;
    const auto u = rig.applier.apply(plan_of({t}), nullptr);
    CHECK_THAT(u.outcomes[0].error, Catch::Contains("unavailable on this host"));
    CHECK(rig.reservations.creates == 1);
  }
  SECTION("removal deletes exactly a whole block and forgets it; partial blocks are refused") {
    auto live = rig.reservations.list(Protocol::udp, {});
    auto bad = persistent_target(Protocol::udp, live, {}, PortSet{PortRange::single(1645)});
    bad.desired = {"1646-1646"};
    const auto refused = rig.applier.apply(plan_of({bad}), nullptr);
    CHECK_THAT(refused.outcomes[0].error, Catch::Contains("not exactly one existing reservation block"));
    CHECK(rig.reservations.removes == 0);

    const auto ok = rig.applier.apply(plan_of({persistent_target(Protocol::udp, live, {}, PortSet{PortRange::make(1645, 1646)})}), nullptr);
    CHECK(ok.ok());
    CHECK(rig.reservations.removes == 1);
    CHECK(rig.ledger.load().empty());
  }
  SECTION("a concurrent reservation is detected by compare-and-swap") {
    const auto stale = persistent_target(Protocol::udp, {}, PortSet{PortRange::make(2000, 2001)});
    int replans = 0;
    const auto again = rig.applier.apply(plan_of({stale}), [&] {
      ++replans;
      return plan_of({persistent_target(Protocol::udp, rig.reservations.list(Protocol::udp, {}), PortSet{PortRange::make(2000, 2001)})});
    });
    CHECK(replans == 1);
    CHECK(again.ok());
    CHECK(rig.reservations.list(Protocol::udp, {}).size() == 2);
  }
}

TEST_CASE("rollback restores byte-exact and backs up the current value first") {
  Rig rig;
  using namespace std::string_literals;
  RawRegistryValue odd{reg_type::multi_sz, encode_multi_sz({"3000-3000", "abc"})};
  odd.data.resize(odd.data.size() - 2);   // no list terminator
  rig.registry.set_raw(tcpip, reserved, odd);
  const auto report = rig.applier.apply(plan_of({registry_target(Target::reserved_ports, {"3000-3000", "abc"}, radius)}), nullptr);
  REQUIRE(report.ok());
  const std::string id = report.outcomes[0].backup_id;
  const auto written = rig.registry.read_raw(tcpip, reserved);

  rig.clock.advance(std::chrono::seconds(5));
  const TargetOutcome dry = rig.applier.restore(id, true);
  CHECK(dry.changed);
  CHECK(rig.registry.read_raw(tcpip, reserved) == written);

  const TargetOutcome o = rig.applier.restore(id);
  CHECK(o.error.empty());
  CHECK(rig.registry.read_raw(tcpip, reserved) == odd);
  const auto pre = rig.backups.load(o.backup_id);
  REQUIRE(pre.has_value());
  CHECK(pre->reason == "rollback of " + id);
  CHECK(pre->previous_raw == written);
  // And the rollback itself can be rolled back.
  CHECK(rig.applier.restore(o.backup_id).error.empty());
  CHECK(rig.registry.read_raw(tcpip, reserved) == written);

  CHECK_THROWS_WITH(rig.applier.restore("20000101T000000.000Z-0001-nope"), Catch::Contains("rollback --list"));
  CHECK_THROWS_AS(rig.applier.restore("..\\..\\etc"), InputError);
}

TEST_CASE("rollback of a value that did not exist deletes it; persistent backups restore the blocks") {
  Rig rig;
  const auto report = rig.applier.apply(plan_of({registry_target(Target::dns_socket_pool, {}, radius),
                                                 persistent_target(Protocol::tcp, {}, PortSet{PortRange::make(3343, 3343)})}),
                                        nullptr);
  REQUIRE(report.ok());
  CHECK(rig.registry.has_value(dns, pool));
  CHECK(rig.applier.restore(report.outcomes[0].backup_id).error.empty());
  CHECK_FALSE(rig.registry.has_value(dns, pool));
  CHECK(rig.reservations.list(Protocol::tcp, {}).size() == 1);
  const auto o = rig.applier.restore(report.outcomes[1].backup_id);
  CHECK(o.error.empty());
  CHECK(rig.reservations.list(Protocol::tcp, {}).empty());
  CHECK(rig.ledger.load().empty());
}

TEST_CASE("backup store: atomic files, ordered ids, only the newest 50 kept, broken files named") {
  TempDir dir{"portguard-apply-test-"};
  FakeClock clock;
  BackupStore store(dir.path / "backups", clock);
  std::vector<std::string> ids;
  for (int i = 0; i < 55; ++i) {
    Backup b;
    b.target = i % 2 ? Target::reserved_ports : Target::dns_socket_pool;
    b.key = "HKLM\\K";
    b.value = "V";
    b.previous = {true, {std::to_string(i)}, ""};
    b.reason = "test " + std::to_string(i);
    if (i % 5 != 0) clock.advance(std::chrono::milliseconds(1));   // some share a millisecond
    ids.push_back(store.save(b));
  }
  auto all = store.list();
  REQUIRE(all.size() == 50);
  CHECK(all.front().id == ids.back());    // newest first
  CHECK(all.back().id == ids[5]);         // the 5 oldest were pruned
  CHECK_FALSE(store.load(ids[4]).has_value());
  CHECK(store.load(ids[5])->previous.strings == Strings{"5"});
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  for (const auto& e : fs::directory_iterator(store.directory())) CHECK(e.path().extension() == ".json");

  std::ofstream(store.directory() / "zzzz-broken.json") << "{ not json";
  std::vector<std::string> problems;
  CHECK(store.list(&problems).size() == 50);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::Contains("zzzz-broken.json"));
  CHECK_THROWS_AS(store.load("zzzz-broken"), InputError);
}

TEST_CASE("backup JSON round-trips every field") {
  Backup b;
  b.id = "x";
  b.created_at = "2026-11-26T19:00:00.000Z";
  b.target = Target::persistent_reservation;
  b.protocol = Protocol::tcp;
  b.previous_reservations = {{Protocol::tcp, 3343, 1, 0}, {Protocol::tcp, 5000, 10, 0}};
  b.reason = "repair";
  CHECK(backup_from_json(backup_to_json(b), "b.json") == b);
  Backup r;
  r.target = Target::reserved_ports;
  r.key = "HKLM\\A";
  r.value = "ReservedPorts";
  r.previous = {true, {"1-1", ""}, "value has type REG_SZ, expected REG_MULTI_SZ"};
  r.previous_raw = RawRegistryValue{reg_type::sz, {0x31, 0, 0, 0}};
  CHECK(backup_from_json(backup_to_json(r), "r.json") == r);
  CHECK_THROWS_WITH(backup_from_json(R"({"format": 9})", "f.json"), Catch::Contains("f.json") && Catch::Contains("unsupported backup format"));
}

TEST_CASE("the reservation ledger remembers exactly what was created") {
  TempDir dir{"portguard-apply-test-"};
  ReservationLedger ledger(dir.path / "state" / "created.json");
  CHECK(ledger.load().empty());
  ledger.add({Protocol::udp, 1645, 2, 77});
  ledger.add({Protocol::udp, 1645, 2, 78});   // same block: recorded once
  ledger.add({Protocol::tcp, 1645, 2, 79});
  CHECK(ledger.load().size() == 2);
  CHECK(ledger.contains(Protocol::udp, 1645, 2));
  CHECK_FALSE(ledger.contains(Protocol::udp, 1645, 1));
  ReservationLedger reopened(ledger.file());
  ledger.erase(Protocol::udp, 1645, 2);
  CHECK(reopened.load() == std::vector<PersistentReservation>{{Protocol::tcp, 1645, 2, 0}});
  std::ofstream(ledger.file()) << "[1,2";
  CHECK_THROWS_WITH(ledger.load(), Catch::Contains("created.json"));
}

TEST_CASE("a backup file naming another registry value is refused, nothing written") {
  Rig rig;
  rig.registry.set_multi_string(tcpip, reserved, {"3000-3000"});
  const auto report = rig.applier.apply(plan_of({registry_target(Target::reserved_ports, {"3000-3000"}, radius)}), nullptr);
  REQUIRE(report.ok());
  Backup forged = *rig.backups.load(report.outcomes[0].backup_id);
  forged.key = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run";
  forged.value = "evil";
  const std::string id = rig.backups.save(forged);
  const int writes = rig.registry.writes;
  CHECK_THROWS_AS(rig.applier.restore(id), RefusedError);
  CHECK(rig.registry.writes == writes);
  CHECK_FALSE(rig.registry.has_value(forged.key, "evil"));
  // The target's own location, spelled in another case, is fine.
  Backup upper = *rig.backups.load(report.outcomes[0].backup_id);
  std::transform(upper.key.begin(), upper.key.end(), upper.key.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  CHECK(rig.applier.restore(rig.backups.save(upper)).error.empty());
}

TEST_CASE("REG_MULTI_SZ decoding never fails on random bytes, and canonical values round-trip (seeded)") {
  std::mt19937 rng(20261126);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> bytes(rng() % 64);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng() % 4 == 0 ? 0 : rng());
    const std::uint32_t type = rng() % 3 == 0 ? static_cast<std::uint32_t>(rng() % 12) : reg_type::multi_sz;
    MultiStringValue v;
    REQUIRE_NOTHROW(v = decode_multi_sz({type, bytes}));
    CHECK(v.present);
    // Another type is a type problem; a REG_MULTI_SZ is one exactly when its bytes are not the
    // canonical encoding of what they decode to (issue 18: missing terminator, stray byte).
    if (type != reg_type::multi_sz) CHECK_FALSE(v.type_problem.empty());
    else CHECK(v.type_problem.empty() == (v.strings.empty() ? bytes.size() % 2 == 0 : bytes == encode_multi_sz(v.strings)));
    if (type == reg_type::multi_sz) {
      // Decoding is a fixed point after one canonical re-encoding.
      const auto again = decode_multi_sz({type, encode_multi_sz(v.strings)});
      CHECK(again.strings == v.strings);
    }
    Strings strings(rng() % 5);
    for (auto& s : strings) {
      s.resize(rng() % 6);
      for (auto& c : s) c = static_cast<char>('0' + rng() % 40);   // ASCII, no NUL
    }
    CHECK(decode_multi_sz({reg_type::multi_sz, encode_multi_sz(strings)}).strings == strings);
  }
}

