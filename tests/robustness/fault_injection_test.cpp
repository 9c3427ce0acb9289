// Fault injection through the adapter seams (issue 9, robustness 3). Each fault is injected into
// the shared fakes (tests/support/fakes.hpp) or the real file system, and a whole guard pass runs
// through it. For every fault the test asserts what ops would see and what must never happen:
//   - the documented event (docs/events.md) or error,
//   - no partial write (the registry value is byte-for-byte the old one, or the complete new one),
//   - no lost reservation (every port reserved before is still reserved afterwards).
// Deterministic: no timing, no randomness.
#include "portguard/config/policy.hpp"
#include "portguard/core/apply.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/event_ids.hpp"
#include "portguard/core/guard.hpp"
#include "portguard/core/port_list_codec.hpp"
#include "support/fakes.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#if defined(__linux__)
#include <csignal>
#include <sys/resource.h>
#endif
#if defined(_WIN32)
#include "portguard/adapters/unique_handle.hpp"
#endif

using namespace portguard;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view tcpip = registry_paths::tcpip_parameters;
constexpr std::string_view reserved = registry_paths::reserved_ports_value;

fs::path fresh_dir(const std::string& name) {
  static std::atomic<int> n{0};
  const auto dir = fs::temp_directory_path() /
                   ("portguard-robustness-" + std::to_string(std::random_device{}()) + "-" + std::to_string(n++) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_text(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Requirement req(Protocol p, long first, long last, std::string service) {
  return Requirement{p, PortRange::make(first, last), service, Provenance{Provenance::Kind::catalog, "catalog:" + service, "test"}};
}
const Requirements ias = {req(Protocol::udp, 1645, 1646, "IAS"), req(Protocol::udp, 1812, 1813, "IAS")};

/// A Windows Server 2003 host whose ReservedPorts holds an admin's entry (1433-1434), guarded by a
/// policy that requires the RADIUS ports. Backups and state go to directories the test may break.
struct Rig {
  testing::FakeRegistryStore registry;
  testing::FakePersistentReservationApi persistent;
  testing::FakeSystemProbe probe;
  testing::FakeClock clock;
  testing::FakeEventSink sink;
  fs::path dir;
  fs::path backup_dir;
  fs::path state_dir;
  std::unique_ptr<BackupStore> backups;
  std::unique_ptr<Applier> applier;
  std::unique_ptr<Guard> guard;

  explicit Rig(const std::string& name) : dir(fresh_dir(name)), backup_dir(dir / "backups"), state_dir(dir / "state") {
    probe.registry = &registry;
    probe.reservations = &persistent;
    persistent.is_available = false;
    probe.host.version = WindowsVersion{5, 2, 3790, true};
    probe.host.hostname = "HOST";
    probe.host.boot_time_unix = 1;
    registry.set_multi_string(tcpip, reserved, {"1433-1434"});
  }
  ~Rig() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  /// Builds the guard (after the test has broken what it wants to break).
  Guard& start(Requirements reqs = ias) {
    backups = std::make_unique<BackupStore>(backup_dir, clock);
    applier = std::make_unique<Applier>(registry, persistent, *backups);
    guard = std::make_unique<Guard>(probe, *applier, sink, clock, GuardSettings{}, state_dir);
    set_requirements(std::move(reqs));
    return *guard;
  }
  void set_requirements(Requirements reqs) {
    GuardPolicy p;
    p.source = "C:\\ProgramData\\PortGuard\\policy.toml";
    p.plan.targets = std::vector<Target>{Target::reserved_ports};
    p.requirements = std::make_shared<RequirementFunction>([reqs](const HostSnapshot&) { return reqs; });
    guard->set_policy(std::move(p));
  }
  std::optional<RawRegistryValue> raw() { return registry.read_raw(tcpip, reserved); }
  PortSet reserved_ports() { return parse_port_list(registry.read_multi_string(tcpip, reserved).strings).ports; }
  std::vector<std::uint32_t> ids() const {
    std::vector<std::uint32_t> out;
    for (const auto& e : sink.events) out.push_back(e.id);
    return out;
  }
  bool has(std::uint32_t id) const {
    const auto v = ids();
    return std::find(v.begin(), v.end(), id) != v.end();
  }
  const Event& event(std::uint32_t id) const {
    for (const auto& e : sink.events)
      if (e.id == id) return e;
    FAIL("event " << id << " was not reported");
    throw std::logic_error("unreachable");
  }
  std::string all_inserts(std::uint32_t id) const {
    std::string out;
    for (const auto& s : event(id).inserts) out += s + "\n";
    return out;
  }
};

PortSet ports_of(std::initializer_list<std::pair<long, long>> ranges) {
  PortSet s;
  for (const auto& [a, b] : ranges) s.insert(PortRange::make(a, b));
  return s;
}

const PortSet admin_entry = ports_of({{1433, 1434}});
const PortSet repaired = ports_of({{1433, 1434}, {1645, 1646}, {1812, 1813}});

} // namespace

TEST_CASE("access denied on write: 3002 names the error, the value is untouched, the next pass repairs", "[robustness]") {
  Rig rig("denied");
  Guard& guard = rig.start();
  const auto before = rig.raw();
  rig.registry.fail_writes = "RegSetValueExW(ReservedPorts) failed: Access is denied. (5)";

  const PassResult pass = guard.run_pass(PassTrigger::startup);
  CHECK(pass.ran);
  CHECK_FALSE(pass.compliant);
  CHECK_FALSE(pass.changed);
  CHECK(rig.has(events::drift_detected));
  REQUIRE(rig.has(events::repair_failed));
  CHECK_THAT(rig.all_inserts(events::repair_failed), Catch::Contains("Access is denied"));
  CHECK_FALSE(rig.has(events::repaired));
  CHECK(rig.registry.writes == 0);
  CHECK(rig.raw() == before);   // byte for byte: nothing partial

  // The administrator fixes the permission: the next pass repairs, keeping the admin's entry.
  rig.registry.fail_writes.reset();
  rig.sink.events.clear();
  const PassResult again = guard.run_pass(PassTrigger::timer);
  CHECK(again.changed);
  CHECK(rig.has(events::repaired));
  CHECK(rig.reserved_ports() == repaired);
}

TEST_CASE("value of the wrong type: repaired as REG_MULTI_SZ, the old bytes kept exactly in the backup", "[robustness]") {
  Rig rig("wrong-type");
  RawRegistryValue odd;
  SECTION("REG_SZ holding a port range") {
    // "1433-1434" as REG_SZ: what `reg add ... /t REG_SZ` by mistake leaves behind.
    for (char c : std::string("1433-1434")) {
      odd.data.push_back(static_cast<std::uint8_t>(c));
      odd.data.push_back(0);
    }
    odd.data.push_back(0);
    odd.data.push_back(0);
    odd.type = reg_type::sz;
  }
  SECTION("REG_DWORD") {
    odd = RawRegistryValue{reg_type::dword, {0x99, 0x05, 0, 0}};
  }
  SECTION("REG_BINARY garbage") {
    odd = RawRegistryValue{reg_type::binary, {0xff, 0xfe, 0x00, 0xd8, 0x41}};
  }
  rig.registry.set_raw(tcpip, reserved, odd);
  Guard& guard = rig.start();

  const PassResult pass = guard.run_pass(PassTrigger::startup);
  INFO("pass log:\n" << [&] { std::string s; for (const auto& l : pass.log) s += l + "\n"; return s; }());
  REQUIRE(rig.has(events::repaired));
  const auto now = rig.raw();
  REQUIRE(now);
  CHECK(now->type == reg_type::multi_sz);
  // Every required port is reserved now; what the REG_SZ said is still reserved too.
  CHECK(rig.reserved_ports().contains(PortRange::make(1645, 1646)));
  CHECK(rig.reserved_ports().contains(PortRange::make(1812, 1813)));
  if (odd.type == reg_type::sz) CHECK(rig.reserved_ports().contains(PortRange::make(1433, 1434)));

  // The backup holds the exact old bytes and type, and restoring it brings them back.
  const auto list = rig.backups->list();
  REQUIRE(list.size() == 1);
  REQUIRE(list.front().previous_raw);
  CHECK(*list.front().previous_raw == odd);
  const TargetOutcome restored = rig.applier->restore(list.front().id);
  CHECK(restored.error.empty());
  CHECK(rig.raw() == odd);
}

TEST_CASE("value deleted between read and write: re-planned from the fresh value, nothing stale written", "[robustness]") {
  Rig rig("deleted");
  Guard& guard = rig.start();
  int reads = 0;
  bool deleted = false;
  rig.registry.hook = [&](testing::FakeRegistryStore::Op op, std::string_view, std::string_view value) {
    if (op != testing::FakeRegistryStore::Op::read || value != reserved || deleted) return;
    // Read 1 is the snapshot; read 2 is the Applier's compare-and-swap look right before writing.
    // Another tool deletes the value between the two.
    if (++reads == 2) {
      deleted = true;
      rig.registry.hook = nullptr;   // the delete below must not re-enter this hook
      rig.registry.delete_value(tcpip, reserved);
    }
  };

  const PassResult pass = guard.run_pass(PassTrigger::registry_changed);
  CHECK(deleted);
  CHECK(pass.changed);
  REQUIRE(rig.has(events::repaired));
  // The guard saw the deletion (compare-and-swap conflict, re-plan) and wrote the value the fresh
  // plan asked for: the required ports. It did not resurrect the deleted admin entry from the stale
  // snapshot, and it did not write a torn value.
  CHECK(rig.reserved_ports() == ports_of({{1645, 1646}, {1812, 1813}}));
  const auto list = rig.backups->list();
  REQUIRE(list.size() == 1);
  CHECK_FALSE(list.front().previous.present);   // the backup records "absent", what it replaced
}

TEST_CASE("backup directory unwritable: no backup, so nothing is written; 3002 says why", "[robustness]") {
  Rig rig("no-backup-dir");
  // A regular file where the backup directory should be: create_directories fails on every OS and
  // for every user (root included), like a directory whose ACL denies writes.
  write_text(rig.backup_dir, "not a directory");
  Guard& guard = rig.start();
  const auto before = rig.raw();

  const PassResult pass = guard.run_pass(PassTrigger::startup);
  CHECK_FALSE(pass.changed);
  REQUIRE(rig.has(events::repair_failed));
  CHECK_THAT(rig.all_inserts(events::repair_failed), Catch::Contains("backups"));
  CHECK_FALSE(rig.has(events::repaired));
  CHECK(rig.registry.writes == 0);   // never replace a value that is not backed up
  CHECK(rig.raw() == before);
  CHECK(read_text(rig.backup_dir) == "not a directory");

  // Fixed: the next pass backs up and repairs.
  fs::remove(rig.backup_dir);
  rig.sink.events.clear();
  guard.run_pass(PassTrigger::timer);
  CHECK(rig.has(events::repaired));
  CHECK(rig.reserved_ports() == repaired);
  CHECK(rig.backups->list().size() == 1);
}

TEST_CASE("state file cannot be saved: the repair stands, pending reboot still reported, old state intact", "[robustness]") {
  Rig rig("state");
  // The state directory is a regular file: guard-state.json cannot be written.
  write_text(rig.state_dir, "not a directory");
  Guard& guard = rig.start();

  const PassResult pass = guard.run_pass(PassTrigger::startup);
  CHECK(pass.changed);
  CHECK(rig.has(events::repaired));
  CHECK(rig.has(events::pending_reboot));   // 2003's ReservedPorts takes effect at the next boot
  CHECK(rig.reserved_ports() == repaired);
  const bool logged = std::any_of(pass.log.begin(), pass.log.end(),
                                  [](const std::string& l) { return l.find("cannot save the guard state") != std::string::npos; });
  CHECK(logged);
  CHECK(read_text(rig.state_dir) == "not a directory");
  // The pending effect lives on in memory: the next pass still warns.
  rig.sink.events.clear();
  rig.clock.advance(std::chrono::hours(2));   // past the rate limit
  guard.run_pass(PassTrigger::timer);
  CHECK(rig.has(events::pending_reboot));
}

#if defined(__linux__)
namespace {
/// Makes every file write beyond `bytes` fail with EFBIG while alive: a disk that fills up in the
/// middle of a write. (SIGXFSZ is ignored so the write fails instead of killing the test.)
class FileSizeLimit {
public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};
} // namespace

TEST_CASE("disk full while writing the state file: the old file survives whole, no temporary left", "[robustness]") {
  const fs::path dir = fresh_dir("disk-full");
  std::vector<PendingEffect> old_state = {PendingEffect{Target::reserved_ports, TakesEffect::next_boot, 1'700'000'000, std::nullopt}};
  save_pending_effects(dir, old_state);
  const std::string old_bytes = read_text(dir / "guard-state.json");

  // A state with many entries is several KB; the "disk" takes only 256 bytes more.
  std::vector<PendingEffect> big(100, PendingEffect{Target::dns_socket_pool, TakesEffect::dns_restart, 1'800'000'000, std::nullopt});
  {
    FileSizeLimit full(256);
    CHECK_THROWS_WITH(save_pending_effects(dir, big), Catch::Contains("disk full"));
  }
  CHECK(read_text(dir / "guard-state.json") == old_bytes);
  CHECK(load_pending_effects(dir).size() == 1);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);   // the torn temporary file was removed

  // The same disk-full during a guard pass: the backup cannot be written, so nothing is written.
  Rig rig("disk-full-pass");
  Guard& guard = rig.start();
  const auto before = rig.raw();
  PassResult pass;
  {
    FileSizeLimit full(64);
    pass = guard.run_pass(PassTrigger::startup);
  }
  CHECK_FALSE(pass.changed);
  CHECK(rig.has(events::repair_failed));
  CHECK(rig.registry.writes == 0);
  CHECK(rig.raw() == before);
  fs::remove_all(dir);
}
#endif

namespace {

const char* const policy_v1 = R"TOML(# PortGuard policy
[guard]
mode = "merge"
targets = ["reserved-ports"]

[catalog]
enabled = false

[[reserve]]
ports = [1645, 1646, 1812, 1813]
protocol = "udp"
service = "IAS"
reason = "RADIUS"
)TOML";

// What the editor is saving: v1 plus SNMP traps, and the RADIUS entry rewritten as a range.
const char* const policy_v2 = R"TOML(# PortGuard policy, edited
[guard]
mode = "merge"
targets = ["reserved-ports"]

[catalog]
enabled = false

[[reserve]]
ports = ["1645-1646", "1812-1813"]
protocol = "udp"
service = "IAS"
reason = "RADIUS (edited)"

[[reserve]]
ports = [2535]
protocol = "udp"
service = "DHCPServer"
reason = "MADCAP"
)TOML";

config::ServiceNameResolver no_services() { return config::ServiceNameResolver::parse("", "services"); }

GuardPolicy guard_policy(const config::Policy& p) {
  GuardPolicy g;
  g.source = p.source;
  g.audit = p.enforcement == config::Enforcement::audit;
  g.plan = p.plan;
  g.requirements = std::make_shared<config::PolicyRequirements>(p);
  return g;
}

} // namespace

TEST_CASE("policy replaced mid-read: every torn read is refused or harmless, no reservation is ever lost", "[robustness]") {
  // An editor (or a copy over the network) replaces the file while the guard reads it: the guard
  // may see any prefix of the new content. Try every one of them.
  Rig rig("torn-policy");
  Guard& guard = rig.start();
  const auto services = no_services();
  guard.set_policy(guard_policy(config::load_policy_text(policy_v1, "policy.toml", services)));
  guard.run_pass(PassTrigger::startup);
  const PortSet protected_ports = rig.reserved_ports();
  REQUIRE(protected_ports == repaired);

  const std::string v2 = policy_v2;
  std::size_t refused = 0, loaded = 0;
  for (std::size_t len = 0; len <= v2.size(); ++len) {
    INFO("policy cut after " << len << " of " << v2.size() << " bytes:\n" << v2.substr(0, len));
    try {
      const config::Policy p = config::load_policy_text(std::string_view(v2).substr(0, len), "policy.toml", services);
      ++loaded;
      guard.set_policy(guard_policy(p));   // a prefix that is a valid policy of its own
    } catch (const config::PolicyError& e) {
      ++refused;
      // Refused with a diagnostic naming the file; the policy in force stays.
      REQUIRE_FALSE(e.diagnostics().empty());
      CHECK(e.diagnostics().front().file == "policy.toml");
    }
    const PassResult pass = guard.run_pass(PassTrigger::policy_changed);
    CHECK(pass.ran);
    const PortSet now = rig.reserved_ports();
    for (const auto& r : protected_ports.ranges()) CHECK(now.contains(r));   // nothing lost
    // Whatever was written is a complete, canonical value.
    const auto value = rig.registry.read_multi_string(tcpip, reserved);
    CHECK(value.type_problem.empty());
    CHECK(format_port_list(parse_port_list(value.strings).ports, parse_port_list(value.strings).unrecognised) == value.strings);
  }
  CHECK(refused > 0);
  CHECK(loaded > 0);
  // The complete new policy is in force at the end and its new port is reserved.
  CHECK(rig.reserved_ports().contains(PortRange::single(2535)));
}

TEST_CASE("policy file unreadable or gone: PolicyReadError names the file, never an empty policy", "[robustness]") {
  const fs::path dir = fresh_dir("policy-read");
  const fs::path file = dir / "policy.toml";
  const fs::path services = dir / "services";
  write_text(services, "");

  SECTION("deleted between the change notification and the read") {
    CHECK_THROWS_AS(config::load_policy(file, services), config::PolicyReadError);
  }
  SECTION("replaced by a directory") {
    fs::create_directories(file);
    CHECK_THROWS_AS(config::load_policy(file, services), config::PolicyReadError);
  }
  SECTION("truncated to zero bytes by an editor that saves in place") {
    write_text(file, "");
    CHECK_THROWS_AS(config::load_policy(file, services), config::PolicyError);
  }
#if defined(_WIN32)
  SECTION("locked by an editor (opened without FILE_SHARE_READ)") {
    write_text(file, policy_v1);
    portguard::win32::unique_file lock(
        CreateFileW(file.wstring().c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr));
    REQUIRE(lock);
    try {
      config::load_policy(file, services);
      FAIL("a locked policy file was read");
    } catch (const config::PolicyReadError& e) {
      CHECK_THAT(e.what(), Catch::Contains("policy.toml"));
    }
    lock.reset();  // the editor closes the file: the policy reads again
    CHECK_NOTHROW(config::load_policy(file, services));
  }
#endif
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}
