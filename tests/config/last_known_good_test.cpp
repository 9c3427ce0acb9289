// Last known good: written atomically, re-validated identically on load.
#include "support.hpp"

using namespace pgtest;
using Catch::Matchers::Contains;

TEST_CASE("no last known good yet is 'missing', not an error", "[lkg]") {
  const auto dir = temp_dir("lkg-none");
  CHECK_FALSE(load_last_known_good(dir).has_value());
  CHECK_FALSE(load_last_known_good(dir / "not-created-yet").has_value());
  std::filesystem::remove_all(dir);
}

TEST_CASE("save then load gives the same policy, even after the sources change", "[lkg]") {
  const auto dir = temp_dir("lkg-roundtrip");
  const auto state = dir / "state";
  write_all(dir / "services", read_all(data_dir() / "services"));
  write_all(dir / "policy.toml", "[guard]\nmode = \"exact\"\n[guard.allow]\nremovals = true\n[[reserve]]\nports = [\"radius\", 1645]\nprotocol = \"udp\"\nservice = \"IAS\"\nwhen_installed = \"IAS\"\n");
  const Policy original = load_policy(dir / "policy.toml", dir / "services");
  save_last_known_good(original, state);
  CHECK(std::filesystem::exists(state / std::string(last_known_good_file_name)));

  // The policy gets broken and the services file disappears: the copy still loads.
  write_all(dir / "policy.toml", "garbage = [");
  std::filesystem::remove(dir / "services");
  const auto restored = load_last_known_good(state);
  REQUIRE(restored.has_value());
  CHECK(restored->source == original.source);
  CHECK(restored->text == original.text);
  CHECK(restored->plan.mode == Mode::exact);
  CHECK(restored->plan.allow.removals);
  CHECK(restored->reservations == original.reservations);
  CHECK(restored->catalog == original.catalog);
  HostSnapshot h;
  h.services.push_back(service("IAS"));
  CHECK(requirements_for(*restored, h) == requirements_for(original, h));

  // Saving again replaces the copy in place, leaving no temporary behind.
  const Policy second = load_policy_text("[[reserve]]\nports = [7]\nprotocol = \"tcp\"\nservice = \"Echo\"\n", "second.toml", test_services());
  save_last_known_good(second, state);
  CHECK(load_last_known_good(state)->source == "second.toml");
  for (const auto& entry : std::filesystem::directory_iterator(state)) CHECK(entry.path().filename() == std::string(last_known_good_file_name));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a local catalog is kept in the last known good", "[lkg][catalog]") {
  const auto dir = temp_dir("lkg-catalog");
  write_all(dir / "catalog.toml", "[[service]]\nname = \"Custom\"\nreason = \"custom app\"\nudp = [7000]\nreference = \"KB 123456\"\n");
  write_all(dir / "policy.toml", "[catalog]\ninclude = [\"Custom\"]\n");
  save_last_known_good(load_policy(dir / "policy.toml", data_dir() / "services"), dir / "state");
  std::filesystem::remove(dir / "catalog.toml");
  const auto restored = load_last_known_good(dir / "state");
  REQUIRE(restored.has_value());
  const Requirements r = requirements_for(*restored, HostSnapshot{});
  REQUIRE(r.size() == 1);
  CHECK(r[0].ports == PortRange::single(7000));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a damaged last known good is an error, never an empty policy", "[lkg]") {
  const auto dir = temp_dir("lkg-damaged");
  const auto file = dir / std::string(last_known_good_file_name);
  write_all(file, "{\"format\": 1, \"policy\": ");
  CHECK_THROWS_AS(load_last_known_good(dir), PolicyError);
  write_all(file, "{\"format\": 99}");
  CHECK_THROWS_WITH(load_last_known_good(dir), Contains("format 99"));
  write_all(file, R"({"format":1,"policy":{"source":"p.toml","text":"[guard]\nmode = 3\n"},"catalog":{"source":"c","text":"[[service]]\nname=\"A\"\nreason=\"r\"\nudp=[1]\nreference=\"KB 123456\"\n"},"services":{"source":"","text":""}})");
  CHECK_THROWS_WITH(load_last_known_good(dir), Contains("p.toml:2:8: 'mode' in [guard] must be a string"));
  std::filesystem::remove_all(dir);
}
