// Prometheus metrics (core/metrics.hpp): per-target numbers from a plan, counters that survive
// restarts, and the text exposition windows_exporter's textfile collector reads.
#include "portguard/core/error.hpp"
#include "portguard/core/metrics.hpp"
#include "portguard/core/plan.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace portguard;
namespace fs = std::filesystem;

namespace {

Requirement req(Protocol p, long first, long last) {
  return Requirement{p, PortRange::make(first, last), "IAS", Provenance{Provenance::Kind::catalog, "catalog:IAS", "test"}};
}

TargetPlan registry_target(Target t, std::vector<std::pair<long, long>> kept, bool drifted) {
  TargetPlan tp;
  tp.target = t;
  for (auto [a, b] : kept) tp.kept.push_back(RangeChange{PortRange::make(a, b), {}});
  if (drifted) tp.added.push_back(RangeChange{PortRange::make(1812, 1813), {}});
  return tp;
}

fs::path fresh_dir() {
  static std::atomic<int> n{0};
  const auto dir = fs::temp_directory_path() / ("portguard-metrics-test-" + std::to_string(std::random_device{}()) + "-" + std::to_string(n++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

bool has_line(const std::string& text, const std::string& line) { return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0; }

} // namespace

TEST_CASE("measure_plan: required and reserved ports per target and protocol, compliance per target") {
  ReservationPlan p;
  // ReservedPorts holds 1645-1646 (required) and 1433-1434 (an admin's own entry), misses 1812-1813.
  p.targets.push_back(registry_target(Target::reserved_ports, {{1433, 1434}, {1645, 1646}}, true));
  TargetPlan persistent;
  persistent.target = Target::persistent_reservation;
  persistent.protocol = Protocol::tcp;
  p.targets.push_back(persistent);
  const Requirements reqs{req(Protocol::udp, 1645, 1646), req(Protocol::udp, 1812, 1813), req(Protocol::tcp, 3389, 3389)};

  PassMetrics m;
  measure_plan(p, reqs, {}, m);
  REQUIRE(m.compliance.size() == 2);
  CHECK_FALSE(m.compliance[0].compliant);
  CHECK(m.compliance[1].compliant);
  // reserved-ports protects both protocols: one row each; persistent/tcp only TCP.
  REQUIRE(m.ports.size() == 3);
  CHECK((m.ports[0].protocol == Protocol::udp && m.ports[0].required == 4 && m.ports[0].reserved == 2));
  CHECK((m.ports[1].protocol == Protocol::tcp && m.ports[1].required == 1 && m.ports[1].reserved == 0));
  CHECK((m.ports[2].target == Target::persistent_reservation && m.ports[2].protocol == Protocol::tcp && m.ports[2].required == 1));

  SECTION("a target repaired in this pass holds what it must") {
    PassMetrics after;
    measure_plan(p, reqs, {"reserved-ports"}, after);
    CHECK(after.compliance[0].compliant);
    CHECK(after.ports[0].reserved == 4);
    CHECK(after.ports[1].reserved == 1);
  }
  SECTION("the DNS socket pool is UDP only; an unavailable target is not compliant") {
    ReservationPlan d;
    d.targets.push_back(registry_target(Target::dns_socket_pool, {{1645, 1646}, {1812, 1813}}, false));
    d.targets.back().available = false;
    PassMetrics dm;
    measure_plan(d, reqs, {}, dm);
    REQUIRE(dm.ports.size() == 1);
    CHECK(dm.ports[0].protocol == Protocol::udp);
    CHECK(dm.ports[0].reserved == 4);
    CHECK_FALSE(dm.compliance[0].compliant);
  }
}

TEST_CASE("Counters add passes and survive a save and load; a broken file names itself") {
  const fs::path dir = fresh_dir();
  CHECK(load_metric_counters(dir) == MetricCounters{});  // absent: zero
  MetricCounters c;
  PassMetrics pass;
  pass.drifted = {"reserved-ports", "persistent-reservation/udp"};
  pass.repaired = {"reserved-ports"};
  pass.rails = {"rail-max-ports"};
  c.add_pass(true, pass);
  c.add_pass(true, pass);
  c.add_pass(false, pass);  // a failed pass counts only as failed
  CHECK(c.passes == 2);
  CHECK(c.failed_passes == 1);
  CHECK(c.repairs.at("reserved-ports") == 2);
  CHECK(c.drifts.at("persistent-reservation/udp") == 2);
  CHECK(c.rail_blocks.at("rail-max-ports") == 2);
  save_metric_counters(dir, c);
  CHECK(load_metric_counters(dir) == c);

  std::ofstream(dir / metric_counters_file_name, std::ios::binary | std::ios::trunc) << "{\"passes\": -1";
  try {
    load_metric_counters(dir);
    FAIL("a broken counters file was accepted");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains("metrics-counters.json") && Catch::Matchers::Contains("delete the file"));
  }
  fs::remove_all(dir);
}

TEST_CASE("render_prometheus: HELP and TYPE for every family, bounded labels, LF only, final newline") {
  MetricsState s;
  s.version = "1.4.0";
  s.policy_hash = policy_fingerprint("[guard]\nmode = \"merge\"\n");
  s.policy_valid = true;
  s.last_pass_ok = true;
  s.last_pass_unix = 1796000000;
  s.last_pass_seconds = 0.0125;
  s.pending_reboot = true;
  s.last_pass.compliance = {{Target::reserved_ports, std::nullopt, true}, {Target::persistent_reservation, Protocol::udp, false}};
  s.last_pass.ports = {{Target::reserved_ports, Protocol::udp, 4, 4}, {Target::reserved_ports, Protocol::tcp, 0, 0}};
  s.last_pass.conflicts = 1;
  s.last_pass.ports_at_risk = 2;
  s.counters.repairs["reserved-ports"] = 3;
  s.counters.passes = 7;
  const std::string text = render_prometheus(s);

  CHECK(text.back() == '\n');
  CHECK(text.find('\r') == std::string::npos);
  CHECK(has_line(text, "portguard_build_info{version=\"1.4.0\",policy_hash=\"" + s.policy_hash + "\"} 1"));
  CHECK(s.policy_hash.size() == 16);
  CHECK(has_line(text, "portguard_up 1"));
  CHECK(has_line(text, "portguard_policy_valid 1"));
  CHECK(has_line(text, "portguard_last_known_good_in_use 0"));
  CHECK(has_line(text, "portguard_last_pass_timestamp_seconds 1796000000"));
  CHECK(has_line(text, "portguard_last_pass_duration_seconds 0.012500"));
  CHECK(has_line(text, "portguard_target_compliant{target=\"reserved-ports\",protocol=\"both\"} 1"));
  CHECK(has_line(text, "portguard_target_compliant{target=\"persistent-reservation\",protocol=\"udp\"} 0"));
  CHECK(has_line(text, "portguard_ports_required{target=\"reserved-ports\",protocol=\"udp\"} 4"));
  CHECK(has_line(text, "portguard_ports_reserved{target=\"reserved-ports\",protocol=\"tcp\"} 0"));
  CHECK(has_line(text, "portguard_conflicts 1"));
  CHECK(has_line(text, "portguard_ports_at_risk 2"));
  CHECK(has_line(text, "portguard_pending_reboot 1"));
  CHECK(has_line(text, "portguard_pending_dns_restart 0"));
  CHECK(has_line(text, "# TYPE portguard_repairs_total counter"));
  CHECK(has_line(text, "portguard_repairs_total{target=\"reserved-ports\",protocol=\"both\"} 3"));
  // Counters of every target of the last pass and of every rail exist from the start.
  CHECK(has_line(text, "portguard_repairs_total{target=\"persistent-reservation\",protocol=\"udp\"} 0"));
  CHECK(has_line(text, "portguard_rail_blocks_total{rail=\"rail-max-ports\"} 0"));
  CHECK(has_line(text, "portguard_passes_total 7"));

  // Every sample belongs to a family announced with HELP and TYPE just before it.
  std::istringstream lines(text);
  std::string line, family;
  while (std::getline(lines, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
    } else if (line.rfind("# TYPE ", 0) == 0) {
      CHECK(line.substr(7, family.size()) == family);
    } else {
      INFO(line);
      CHECK(line.substr(0, line.find_first_of("{ ")) == family);
      // Labels never carry ports or paths: only these keys appear.
      const auto brace = line.find('{');
      if (brace != std::string::npos) {
        const std::string labels = line.substr(brace, line.find('}') - brace);
        CHECK(labels.find(":\\") == std::string::npos);
        CHECK((labels.find("target=") != std::string::npos || labels.find("rail=") != std::string::npos || labels.find("version=") != std::string::npos));
      }
    }
  }
}

TEST_CASE("render_prometheus: before any complete pass there is no timestamp; a stopping guard writes up 0; label values are escaped") {
  MetricsState s;
  s.version = "1.0 \"beta\"\\x";
  s.up = false;
  const std::string text = render_prometheus(s);
  CHECK(text.find("portguard_last_pass_timestamp_seconds") == std::string::npos);
  CHECK(has_line(text, "portguard_up 0"));
  CHECK(has_line(text, "portguard_last_pass_success 0"));
  CHECK(has_line(text, "portguard_build_info{version=\"1.0 \\\"beta\\\"\\\\x\",policy_hash=\"\"} 1"));
}

TEST_CASE("policy_fingerprint is stable and changes with the text") {
  CHECK(policy_fingerprint("") == "cbf29ce484222325");
  CHECK(policy_fingerprint("a") == "af63dc4c8601ec8c");
  CHECK(policy_fingerprint("a") != policy_fingerprint("b"));
}
