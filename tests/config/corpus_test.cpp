// The host corpus (tests/data/hosts/, described in its README.md) and the documented examples
// (examples/*.json, docs/snapshot.md), planned with the shipped config/policy.default.toml exactly
// as `portguard plan --snapshot` does it (the core's assessment over a SnapshotProbe).
//
//  - every host's plan, text and JSON, equals its golden file in tests/data/hosts/expected/
//    (regenerate with PORTGUARD_UPDATE_GOLDEN=1, then read every changed line before committing);
//  - every "*-healthy.json" host is "nothing to change", `check` OK, and has no warning or error;
//  - every "*-sick.json" host is not OK;
//  - what docs/snapshot.md says about the examples is what the planner says.
#include "support.hpp"

#include "portguard/core/assess.hpp"
#include "portguard/core/snapshot_json.hpp"
#include "portguard/core/verdict.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>

using namespace pgtest;

namespace {

fs::path hosts_dir() { return source_dir() / "tests" / "data" / "hosts"; }

const Policy& default_policy() {
  static const Policy p = load_policy(source_dir() / "config" / "policy.default.toml", data_dir() / "services");
  return p;
}

Assessment plan_file(const fs::path& file) {
  SnapshotProbe host(snapshot_from_json(read_all(file), file.filename().string()));
  return assess(host, config::PolicyRequirements(default_policy()), default_policy().plan, ServiceDetail::state);
}

/// Makes the rendering independent of where the source tree is (the policy's path is in it).
std::string portable(std::string text) {
  const std::string from = default_policy().source;
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) text.replace(at, from.size(), "policy.default.toml");
  std::string escaped;
  for (char c : from) escaped += c == '\\' ? std::string("\\\\") : std::string(1, c);
  for (std::size_t at = text.find(escaped); at != std::string::npos; at = text.find(escaped, at))
    text.replace(at, escaped.size(), "policy.default.toml");
  return text;
}

std::vector<fs::path> corpus() {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(hosts_dir(), ec))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

void compare_golden(const fs::path& golden, const std::string& got) {
  if (std::getenv("PORTGUARD_UPDATE_GOLDEN") != nullptr) {
    fs::create_directories(golden.parent_path());
    std::ofstream(golden, std::ios::binary) << got;
  }
  INFO("golden " << golden.string() << " (PORTGUARD_UPDATE_GOLDEN=1 regenerates it; read every line before committing)");
  REQUIRE(fs::exists(golden));
  CHECK(read_all(golden) == got);
}

bool has_suffix(const fs::path& p, std::string_view suffix) {
  const std::string name = p.filename().string();
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

TEST_CASE("corpus: every host plans as its golden files say", "[corpus]") {
  const auto files = corpus();
  REQUIRE(files.size() >= 16);
  for (const auto& file : files) {
    INFO("host " << file.filename().string());
    const Assessment a = plan_file(file);
    const fs::path stem = hosts_dir() / "expected" / file.stem();
    compare_golden(fs::path(stem.string() + ".plan.txt"), portable(render_text(a.plan)));
    compare_golden(fs::path(stem.string() + ".plan.json"), portable(render_json(a.plan)));
  }
}

TEST_CASE("corpus: healthy hosts need nothing and check OK; sick hosts do not", "[corpus]") {
  std::size_t healthy = 0, sick = 0;
  for (const auto& file : corpus()) {
    INFO("host " << file.filename().string());
    const Assessment a = plan_file(file);
    const CheckVerdict v = judge(a.plan, {});
    if (has_suffix(file, "-healthy.json")) {
      ++healthy;
      CHECK_FALSE(a.plan.has_changes());
      CHECK_THAT(render_text(a.plan), Catch::EndsWith("Result: nothing to change.\n"));
      INFO("warnings: " << (v.warning.empty() ? "" : v.warning.front()) << " critical: " << (v.critical.empty() ? "" : v.critical.front()));
      CHECK(v.status == CheckStatus::ok);
      for (const auto& f : a.plan.findings) CHECK(f.severity == Severity::info);
    } else if (has_suffix(file, "-sick.json")) {
      ++sick;
      CHECK(v.status != CheckStatus::ok);
    }
  }
  CHECK(healthy >= 8);
  CHECK(sick >= 8);
}

// --- The documented examples (docs/snapshot.md, "Example" and "The other examples") --------------

TEST_CASE("examples: win2003-dns-ias is the drifted 2003 host docs/snapshot.md describes", "[corpus][examples]") {
  const Assessment a = plan_file(source_dir() / "examples" / "win2003-dns-ias.json");
  const std::string text = portable(render_text(a.plan));
  CHECK_THAT(text, Catch::Contains("+ 1646-1646/udp  IAS (policy policy.default.toml:60: ") &&
                       Catch::Contains("IAS (catalog: RADIUS authentication and accounting (legacy 1645/1646 and 1812/1813))"));
  CHECK_THAT(text, Catch::Contains("= 1433-1434  not required by the policy"));
  CHECK_THAT(text, Catch::Contains("? \"RADIUS 1646\""));
  CHECK_THAT(text, Catch::Contains("conflict: UDP 1646 needed by") && Catch::Contains("held by DNS service (dns.exe, PID 1816)"));
  CHECK_THAT(text, Catch::Contains("warning at-risk: UDP 1646 needed by") && Catch::Contains("dynamic port range 1025-5000"));
  // Nothing below 1025 is planned into ReservedPorts (DNS's 53, W32Time's 123 ...).
  CHECK(a.plan.find(Target::reserved_ports)->added.size() == 1);
}

TEST_CASE("examples: win2016-dns-nps-widened has every RADIUS port at risk and DNS on 1813", "[corpus][examples]") {
  const Assessment a = plan_file(source_dir() / "examples" / "win2016-dns-nps-widened.json");
  const std::string text = portable(render_text(a.plan));
  CHECK_THAT(text, Catch::Contains("at-risk: UDP 1645-1646 needed by") && Catch::Contains("at-risk: UDP 1812-1813 needed by") &&
                       Catch::Contains("dynamic port range 1025-60000"));
  CHECK_THAT(text, Catch::Contains("conflict: UDP 1813 needed by") && Catch::Contains("dns.exe"));
  CHECK_THAT(text, Catch::Contains("info not-effective: ReservedPorts holds") && Catch::Contains("ignores ReservedPorts"));
}

TEST_CASE("examples: win2022-quiet has nothing to change and nothing at risk", "[corpus][examples]") {
  const Assessment a = plan_file(source_dir() / "examples" / "win2022-quiet.json");
  CHECK_FALSE(a.plan.has_changes());
  CHECK_THAT(render_text(a.plan), Catch::EndsWith("Result: nothing to change.\n"));
  CHECK(std::none_of(a.plan.findings.begin(), a.plan.findings.end(), [](const Finding& f) { return f.code == "at-risk"; }));
  CHECK(judge(a.plan, {}).status == CheckStatus::ok);
}
