// Hostile input (issue 9, robustness 4), the deterministic part: inputs small enough for every CI
// run (about 1 MB). The 100 MB policy and the million-entry policy are run by hand with
// tests/robustness/hostile_policies.sh (docs/testing.md records the numbers).
// Each: a clear error (or a safe result), never a crash, never a write of something unvalidated.
#include "portguard/config/policy.hpp"
#include "portguard/core/apply.hpp"
#include "portguard/core/backup_store.hpp"
#include "portguard/core/event_ids.hpp"
#include "portguard/core/guard.hpp"
#include "portguard/core/port_list_codec.hpp"
#include "support/fakes.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using namespace portguard;
namespace fs = std::filesystem;

namespace {

config::ServiceNameResolver no_services() { return config::ServiceNameResolver::parse("", "services"); }

std::string first_error(std::string_view text) {
  try {
    config::load_policy_text(text, "policy.toml", no_services());
  } catch (const config::PolicyError& e) {
    REQUIRE_FALSE(e.diagnostics().empty());
    return e.diagnostics().front().to_string();
  }
  FAIL("the hostile policy loaded");
  return {};
}

const std::string header = "[guard]\nmode = \"merge\"\n\n[catalog]\nenabled = false\n\n";
const std::string radius = "[[reserve]]\nports = [1645]\nprotocol = \"udp\"\nservice = \"IAS\"\nreason = \"RADIUS\"\n";

} // namespace

TEST_CASE("a policy larger than the cap is refused up front, naming its size and the limit", "[robustness][hostile]") {
  // Valid TOML all the way (a long comment), so only the size can be the reason.
  std::string text = header + radius + "# ";
  text.append(config::max_policy_bytes - text.size() + 1, 'x');
  REQUIRE(text.size() == config::max_policy_bytes + 1);
  const std::string error = first_error(text);
  CHECK_THAT(error, Catch::Contains("policy.toml") && Catch::Contains(std::to_string(text.size()) + " bytes") &&
                        Catch::Contains(std::to_string(config::max_policy_bytes)));

  // One byte less is an ordinary valid policy: the cap does not bite real files.
  text.pop_back();
  CHECK(config::load_policy_text(text, "policy.toml", no_services()).reservations.size() == 1);

  SECTION("from a file: refused by its size") {
    const fs::path dir = fs::temp_directory_path() / ("portguard-hostile-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
    {
      std::ofstream out(dir / "policy.toml", std::ios::binary);
      out << text << "xx";
    }
    try {
      config::load_policy(dir / "policy.toml", dir / "services");
      FAIL("an oversized policy file loaded");
    } catch (const config::PolicyError& e) {
      CHECK_THAT(e.what(), Catch::Contains("policy.toml") && Catch::Contains("bytes a policy may have"));
    }
    fs::remove_all(dir);
  }
}

TEST_CASE("deeply nested TOML is refused with the line and column, not a stack overflow", "[robustness][hostile]") {
  const std::size_t depth = 100'000;
  SECTION("arrays") {
    const std::string text = header + "x = " + std::string(depth, '[') + std::string(depth, ']') + "\n";
    CHECK_THAT(first_error(text), Catch::Contains("policy.toml:7:") && Catch::Contains("nested"));
  }
  SECTION("inline tables") {
    std::string text = header + "x = ";
    for (std::size_t i = 0; i < depth; ++i) text += "{a=";
    text += "1" + std::string(depth, '}') + "\n";
    CHECK_THAT(first_error(text), Catch::Contains("policy.toml:7:") && Catch::Contains("nested"));
  }
  SECTION("dotted keys and table headers 10,000 levels deep") {
    std::string key = "a";
    for (int i = 0; i < 10'000; ++i) key += ".a";
    const std::string text = header + "[" + key + "]\nx = 1\n";
    CHECK_THAT(first_error(text), Catch::Contains("policy.toml:"));
  }
}

TEST_CASE("a policy packed with entries up to the cap loads or fails in bounded work", "[robustness][hostile]") {
  // ~150,000 ports in one list (many duplicates): every problem is reported, nothing crashes.
  std::string text = header + "[[reserve]]\nprotocol = \"udp\"\nservice = \"X\"\nreason = \"r\"\nports = [";
  long n = 0;
  while (text.size() + 16 < config::max_policy_bytes) text += std::to_string(1 + (n++ % 65535)) + ", ";
  text += "1]\n";
  try {
    config::load_policy_text(text, "policy.toml", no_services());
    FAIL("duplicates were accepted");
  } catch (const config::PolicyError& e) {
    CHECK(e.diagnostics().size() > 1000);
    CHECK_THAT(e.diagnostics().front().to_string(), Catch::Contains("listed twice"));
  }
}

TEST_CASE("garbage REG_MULTI_SZ in ReservedPorts: kept verbatim, never half-parsed into ranges, required ports added", "[robustness][hostile]") {
  // 1 MiB on every run (0.3 s: the checks are linear in the number of unrecognised entries);
  // PORTGUARD_GARBAGE_BYTES sets another size (tests/robustness/hostile_policies.sh).
  std::size_t bytes = 1024 * 1024;
  if (const char* env = std::getenv("PORTGUARD_GARBAGE_BYTES")) bytes = std::strtoul(env, nullptr, 10);
  testing::FakeRegistryStore registry;
  testing::FakePersistentReservationApi persistent;
  persistent.is_available = false;
  testing::FakeSystemProbe probe;
  testing::FakeClock clock;
  testing::FakeEventSink sink;
  probe.registry = &registry;
  probe.reservations = &persistent;
  probe.host.version = WindowsVersion{5, 2, 3790, true};
  probe.host.boot_time_unix = 1;

  // Deterministic garbage: random UTF-16 code units (lone surrogates, controls, digits and dashes
  // that almost look like ranges), with NULs sprinkled in so it splits into many strings.
  std::mt19937 rng(20261126);
  RawRegistryValue garbage{reg_type::multi_sz, {}};
  garbage.data.reserve(bytes);
  const std::string near_miss = "0123456789- ";
  while (garbage.data.size() < bytes) {
    const unsigned pick = rng() % 10;
    char16_t c = pick < 4 ? static_cast<char16_t>(near_miss[rng() % near_miss.size()])
                 : pick < 5 ? u'\0'
                            : static_cast<char16_t>(rng() & 0xffff);
    garbage.data.push_back(static_cast<std::uint8_t>(c & 0xff));
    garbage.data.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  registry.set_raw(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value, garbage);

  const fs::path dir = fs::temp_directory_path() / ("portguard-hostile-garbage-" + std::to_string(std::random_device{}()));
  BackupStore backups(dir / "backups", clock);
  Applier applier(registry, persistent, backups);
  Guard guard(probe, applier, sink, clock, GuardSettings{}, dir / "state");
  GuardPolicy policy;
  policy.source = "policy.toml";
  policy.plan.targets = std::vector<Target>{Target::reserved_ports};
  policy.requirements = std::make_shared<RequirementFunction>([](const HostSnapshot&) {
    return Requirements{Requirement{Protocol::udp, PortRange::make(1645, 1646), "IAS", {Provenance::Kind::catalog, "catalog:IAS", "RADIUS"}}};
  });
  guard.set_policy(policy);

  const PassResult pass = guard.run_pass(PassTrigger::startup);
  REQUIRE(pass.ran);   // no 3009 "check failed": the garbage was understood as garbage
  std::vector<std::uint32_t> ids;
  for (const auto& e : sink.events) ids.push_back(e.id);
  CHECK(std::find(ids.begin(), ids.end(), events::check_failed) == ids.end());

  const MultiStringValue before = decode_multi_sz(garbage);
  const PortList found = parse_port_list(before.strings);
  const MultiStringValue after = registry.read_multi_string(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value);
  const PortList now = parse_port_list(after.strings);
  if (pass.changed) {
    // Repaired: the required ports are there, every garbage entry survived verbatim, and every
    // port the garbage happened to spell is still reserved. The old bytes are in a backup.
    CHECK(now.ports.contains(PortRange::make(1645, 1646)));
    CHECK(now.unrecognised == found.unrecognised);
    for (const auto& r : found.ports.ranges()) CHECK(now.ports.contains(r));
    const auto list = backups.list();
    REQUIRE(list.size() == 1);
    REQUIRE(list.front().previous_raw);
    CHECK(*list.front().previous_raw == garbage);
  } else {
    // Refused (a safety rail, e.g. the garbage spells more than max_reserved_ports): the value is
    // untouched to the byte and ops were told why.
    CHECK(registry.read_raw(registry_paths::tcpip_parameters, registry_paths::reserved_ports_value) == garbage);
    const bool told = std::any_of(ids.begin(), ids.end(), [](std::uint32_t id) { return id == events::safety_rail || id == events::repair_failed; });
    CHECK(told);
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}
