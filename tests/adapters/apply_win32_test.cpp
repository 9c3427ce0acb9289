// The Applier on the real registry under Wine, with the real planner: repair writes exactly the
// plan and backs up first; a concurrent change between the snapshot and the write (injected with
// tests/support/hooked_registry.hpp around the real adapter) is detected and re-planned; rollback restores byte-exact.
#include "support/fakes.hpp"
#include "support/hooked_registry.hpp"
#include "portguard/adapters/persistent_reservations.hpp"
#include "portguard/adapters/registry_store.hpp"
#include "portguard/adapters/system_probe.hpp"

#include "portguard/core/apply.hpp"
#include "portguard/core/plan.hpp"

#include <catch2/catch.hpp>

#include <windows.h>

#include <filesystem>

using namespace portguard;
using namespace portguard::win32;
using Strings = std::vector<std::string>;

namespace {

const std::string tcpip(registry_paths::tcpip_parameters);
const std::string reserved(registry_paths::reserved_ports_value);

Requirements radius() {
  const Provenance why{Provenance::Kind::policy, "test", "RADIUS"};
  return {{Protocol::udp, PortRange::make(1645, 1646), "IAS", why}, {Protocol::udp, PortRange::make(1812, 1813), "IAS", why}};
}

PlanSettings reserved_ports_only() {
  PlanSettings s;
  s.targets = std::vector<Target>{Target::reserved_ports};   // forced: effective or not on this prefix's version
  return s;
}

std::filesystem::path fresh_dir(const char* name) {
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  return dir;
}

} // namespace

TEST_CASE("repair on the real registry: exactly the plan, backup first, CAS conflict re-planned, rollback byte-exact") {
  Win32RegistryStore real_registry;
  testing::HookedRegistry registry(real_registry);   // the probe and the Applier go through the hook
  Win32PersistentReservationApi reservations(real_registry);
  Win32SystemProbe probe(registry, reservations);
  testing::FakeClock clock;
  BackupStore backups(fresh_dir("pg-apply-win32-backups"), clock);
  Applier applier(registry, reservations, backups);

  // An admin's value with a missing list terminator: only a byte-exact backup can bring it back.
  using namespace std::string_literals;
  const std::u16string admin = u"3000-3000\0abc\0"s;
  RawRegistryValue original{REG_MULTI_SZ, {}};
  for (char16_t c : admin) {
    original.data.push_back(static_cast<std::uint8_t>(c & 0xff));
    original.data.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  registry.write_raw(tcpip, reserved, original);
  REQUIRE(registry.read_raw(tcpip, reserved) == original);

  auto make_plan = [&] { return plan(probe.capture({}, ServiceDetail::state), radius(), reserved_ports_only()); };
  const ReservationPlan first = make_plan();
  const TargetPlan* t = first.find(Target::reserved_ports);
  REQUIRE(t != nullptr);
  CHECK(t->current == Strings{"3000-3000", "abc"});
  REQUIRE(t->has_changes());

  // Another tool writes right after our snapshot: the Applier's compare read must see it.
  int hook_reads = 0;
  RawRegistryValue concurrent;
  registry.hook = [&](testing::HookedRegistry::Op op, std::string_view, std::string_view value) {
    if (op != testing::HookedRegistry::Op::read || value != reserved || hook_reads++ != 0) return;
    Win32RegistryStore other;
    other.write_multi_string(tcpip, reserved, {"3000-3000", "abc", "4000-4001"});
    concurrent = *other.read_raw(tcpip, reserved);
  };
  int replans = 0;
  ReservationPlan last;
  const ApplyReport report = applier.apply(first, [&] {
    ++replans;
    last = make_plan();
    return last;
  });
  registry.hook = nullptr;

  CHECK(replans == 1);
  CHECK(report.replans == 1);
  REQUIRE(report.outcomes.size() == 1);
  const TargetOutcome& o = report.outcomes[0];
  INFO(o.error);
  CHECK(report.ok());
  CHECK(o.changed);
  // Exactly the re-made plan's value: RADIUS added, the other writer's entry kept.
  REQUIRE(last.find(Target::reserved_ports) != nullptr);
  CHECK(o.after == last.find(Target::reserved_ports)->desired);
  CHECK(registry.read_multi_string(tcpip, reserved).strings == Strings{"1645-1646", "1812-1813", "3000-3000", "4000-4001", "abc"});
  // The backup holds what was there right before the write: the concurrent writer's bytes.
  const auto backup = backups.load(o.backup_id);
  REQUIRE(backup.has_value());
  CHECK(backup->previous_raw == concurrent);

  // Planning again finds nothing to do.
  CHECK_FALSE(make_plan().find(Target::reserved_ports)->has_changes());

  // Rollback to the admin's original bytes: restore the first backup, taken of `concurrent`... so
  // first put the original back through a second backup cycle.
  registry.write_raw(tcpip, reserved, original);
  const ApplyReport again = applier.apply(make_plan(), nullptr);
  REQUIRE(again.ok());
  const TargetOutcome restored = applier.restore(again.outcomes.at(0).backup_id);
  CHECK(restored.error.empty());
  CHECK(registry.read_raw(tcpip, reserved) == original);   // byte-exact, missing terminator included
}

TEST_CASE("a value of the wrong type is backed up with its type and restored as it was") {
  Win32RegistryStore registry;
  Win32PersistentReservationApi reservations(registry);
  Win32SystemProbe probe(registry, reservations);
  testing::FakeClock clock;
  BackupStore backups(fresh_dir("pg-apply-win32-backups-type"), clock);
  Applier applier(registry, reservations, backups);
  const RawRegistryValue sz{REG_SZ, {'3', 0, '0', 0, '0', 0, '0', 0, '-', 0, '3', 0, '0', 0, '0', 0, '0', 0, 0, 0}};
  registry.write_raw(tcpip, reserved, sz);
  const HostSnapshot snap = probe.capture({}, ServiceDetail::state);
  CHECK_FALSE(snap.reserved_ports.type_problem.empty());
  const ReservationPlan p = plan(snap, radius(), reserved_ports_only());
  const ApplyReport r = applier.apply(p, nullptr);
  REQUIRE(r.outcomes.size() == 1);
  INFO(r.outcomes[0].error);
  REQUIRE(r.ok());
  CHECK(registry.read_raw(tcpip, reserved)->type == REG_MULTI_SZ);
  CHECK(applier.restore(r.outcomes[0].backup_id).error.empty());
  CHECK(registry.read_raw(tcpip, reserved) == sz);
}

TEST_CASE("the persistent-reservation target falls back under Wine: the plan says unavailable, the applier writes nothing") {
  Win32RegistryStore registry;
  Win32PersistentReservationApi reservations(registry);
  if (reservations.available()) {
    WARN("persistent reservation API present (real Windows?): fallback not exercised");
    return;
  }
  Win32SystemProbe probe(registry, reservations);
  testing::FakeClock clock;
  BackupStore backups(fresh_dir("pg-apply-win32-backups-pr"), clock);
  Applier applier(registry, reservations, backups);
  PlanSettings s;
  s.targets = std::vector<Target>{Target::persistent_reservation};
  const ReservationPlan p = plan(probe.capture({}, ServiceDetail::state), radius(), s);
  const TargetPlan* t = p.find(Target::persistent_reservation, Protocol::udp);
  REQUIRE(t != nullptr);
  CHECK_FALSE(t->available);
  CHECK(std::any_of(p.findings.begin(), p.findings.end(), [](const Finding& f) { return f.code == "unavailable"; }));
  const ApplyReport r = applier.apply(p, nullptr);
  for (const auto& o : r.outcomes) CHECK_THAT(o.error, Catch::Contains("unavailable"));
  CHECK(backups.list().empty());
}
