// The host corpus (tests/data/hosts/): hand-written snapshots of real kinds of Windows hosts, and the
// README that says, per file, what a correct plan for it must say. This test keeps the corpus
// usable: every file reads, writes back unchanged, and the README describes exactly the files that
// exist with their true Windows version and health. (The plans themselves are pinned by golden
// tests against that README, elsewhere.)
#include "host_corpus.hpp"

#include "portguard/core/error.hpp"
#include "portguard/core/snapshot_json.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace portguard;
namespace corpus = portguard::testing::host_corpus;

namespace {

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

/// One row of the README's host table: | `file.json` | Windows | role | health | correct plan |
struct ReadmeRow {
  std::string file;
  std::string windows;
  std::string health;
  std::string plan;
  int line = 0;
};

/// The README rows whose first cell names a `.json` file (the table of hosts).
std::vector<ReadmeRow> readme_rows() {
  std::vector<ReadmeRow> rows;
  std::istringstream in{std::string(corpus::readme)};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line.front() != '|') continue;
    std::vector<std::string> cells;
    std::string cell;
    bool in_code = false;
    for (char c : std::string_view(line).substr(1)) {
      if (c == '`') in_code = !in_code;
      if (c == '|' && !in_code) {
        cells.push_back(trim(cell));
        cell.clear();
      } else {
        cell += c;
      }
    }
    if (cells.size() < 5) continue;
    const std::string& first = cells[0];
    if (first.size() < 7 || first.front() != '`' || first.back() != '`' || first.find(".json") == std::string::npos) continue;
    rows.push_back({first.substr(1, first.size() - 2), cells[1], cells[3], cells[4], number});
  }
  return rows;
}

std::string health_of(std::string_view file) {
  if (file.find("-healthy.json") != std::string_view::npos) return "healthy";
  if (file.find("-sick.json") != std::string_view::npos) return "sick";
  return "?";
}

} // namespace

TEST_CASE("every host of the corpus reads and writes back unchanged") {
  REQUIRE(std::size(corpus::files) >= 16);
  for (const auto& file : corpus::files) {
    INFO(file.name);
    HostSnapshot host;
    REQUIRE_NOTHROW(host = snapshot_from_json(file.text, std::string(file.name)));
    const std::string written = to_json(host);
    const HostSnapshot again = snapshot_from_json(written, std::string(file.name) + " (written back)");
    CHECK(again == host);
    CHECK(to_json(again) == written);
    // A corpus host is a real capture's shape: a name, a Windows version, services and ports.
    CHECK_FALSE(host.hostname.empty());
    CHECK_FALSE(host.services.empty());
    CHECK_FALSE(host.ports_in_use.empty());
    CHECK(host.dynamic_ranges.size() == 4);  // UDP and TCP, IPv4 and IPv6, as the probe captures them
    // The persistent reservation API exists from Vista / 2008 on: the probe writes a list (maybe
    // empty) there and null on 2003.
    CHECK(host.persistent_reservations.has_value() == (host.version.major >= 6));
  }
}

TEST_CASE("the corpus covers every Windows generation PortGuard supports") {
  std::set<std::string> generations;
  for (const auto& file : corpus::files) {
    const std::string described = snapshot_from_json(file.text, std::string(file.name)).version.describe();
    generations.insert(described.substr(0, described.find(" (")));
  }
  for (const char* wanted : {"Windows Server 2003", "Windows Server 2008", "Windows Server 2008 R2", "Windows Server 2012 R2",
                             "Windows Server 2016", "Windows Server 2019", "Windows Server 2022", "Windows Server 2025",
                             "Windows 10", "Windows 11"}) {
    INFO(wanted);
    CHECK(generations.count(wanted) == 1);
  }
}

TEST_CASE("the corpus README lists exactly the files present, with their true version and health") {
  const auto rows = readme_rows();
  std::map<std::string, int> listed;
  for (const auto& row : rows) {
    INFO("README.md line " << row.line << ": " << row.file);
    CHECK(++listed[row.file] == 1);  // each file once
    CHECK_FALSE(row.plan.empty());   // and what a correct plan says about it
  }
  std::set<std::string> present;
  for (const auto& file : corpus::files) present.insert(std::string(file.name));
  for (const auto& name : present) {
    INFO(name << " is in tests/data/hosts/ but has no row in its README.md");
    CHECK(listed.count(name) == 1);
  }
  for (const auto& row : rows) {
    INFO("README.md line " << row.line << " lists " << row.file << ", which is not in tests/data/hosts/");
    CHECK(present.count(row.file) == 1);
  }
  for (const auto& row : rows) {
    const auto file = std::find_if(std::begin(corpus::files), std::end(corpus::files), [&](const auto& f) { return f.name == row.file; });
    if (file == std::end(corpus::files)) continue;
    INFO("README.md line " << row.line << ": " << row.file);
    CHECK(row.windows == snapshot_from_json(file->text, row.file).version.describe());
    CHECK(row.health == health_of(row.file));
  }
}
