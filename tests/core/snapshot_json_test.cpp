#include "portguard/core/error.hpp"
#include "portguard/core/snapshot_json.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace portguard;

namespace {

HostSnapshot full_snapshot() {
  HostSnapshot s;
  s.hostname = "DC01";
  s.captured_at = "2026-11-26T10:00:00Z";
  s.version = WindowsVersion{6, 1, 7601, true};
  s.services = {ServiceInfo{"DNS", "DNS Server", StartType::automatic, ServiceState::running, 1816, "", {"Tcpip", "RpcSs"}, "C:\\Windows\\system32\\dns.exe"},
                ServiceInfo{"IAS", "Network Policy Server", StartType::delayed_automatic, ServiceState::stopped, 0, "grp", {}, ""}};
  s.reserved_ports = MultiStringValue{true, {"1645-1646", "", " junk ", "ü"}, ""};
  s.dns_socket_pool_excluded = MultiStringValue{true, {"1645-1646"}, "value has type REG_SZ, expected REG_MULTI_SZ"};
  s.persistent_reservations = std::vector<PersistentReservation>{{Protocol::udp, 1645, 2, 0xFFFFFFFFFFFFFFFFull}, {Protocol::tcp, 65535, 1, 0}};
  s.dynamic_ranges = {{Protocol::udp, IpVersion::v6, PortRange::make(1025, 60000), true, "default for Windows 6.1"}};
  s.ports_in_use = {{Protocol::udp, 1645, 1816, "dns.exe", "DNS"}, {Protocol::tcp, 65535, 0, "", ""}};
  s.configured_ports = {{"MSSQL$X", Protocol::tcp, PortRange::make(1433, 1434), "HKLM\\SOFTWARE\\X\\TcpPort"}};
  s.boot_time_unix = 1763618400;
  s.dns_start_time_unix = std::nullopt;
  return s;
}

/// The error a document raises, or "" when it is accepted.
std::string error_of(const std::string& text) {
  try {
    snapshot_from_json(text, "host.json");
  } catch (const SnapshotError& e) {
    CHECK(e.where() == "host.json");
    return e.what();
  }
  return {};
}

std::string minimal(const std::string& extra = {}) {
  return R"({"format": "portguard-snapshot", "format_version": 1, "windows": {"major": 10, "minor": 0})" + extra + "}";
}

} // namespace

TEST_CASE("snapshot JSON round-trips every field") {
  const auto s = full_snapshot();
  const auto text = to_json(s);
  CHECK(snapshot_from_json(text) == s);
  // The writer's output is the documented format: stable member names.
  const auto j = nlohmann::json::parse(text);
  CHECK(j["format"] == "portguard-snapshot");
  CHECK(j["format_version"] == 1);
  CHECK(j["services"][0]["start_type"] == "automatic");
  CHECK(j["services"][1]["start_type"] == "delayed-automatic");
  CHECK(j["persistent_reservations"][0]["token"] == 0xFFFFFFFFFFFFFFFFull);
  CHECK(j["dns_start_time_unix"].is_null());

  HostSnapshot bare;
  bare.persistent_reservations.reset();
  const auto b = snapshot_from_json(to_json(bare));
  CHECK(b == bare);
  CHECK_FALSE(b.persistent_reservations.has_value());
  CHECK_FALSE(b.reserved_ports.present);
}

TEST_CASE("snapshot JSON: optional members take documented defaults") {
  const auto s = snapshot_from_json(minimal());
  CHECK(s.version == WindowsVersion{10, 0, 0, true});
  CHECK(s.version.server);
  CHECK(s.services.empty());
  CHECK_FALSE(s.reserved_ports.present);
  CHECK_FALSE(s.persistent_reservations.has_value());  // absent: the API is not available
  const auto present = snapshot_from_json(minimal(R"(, "reserved_ports": {"strings": []}, "persistent_reservations": [])"));
  CHECK(present.reserved_ports.present);
  CHECK(present.reserved_ports.strings.empty());
  REQUIRE(present.persistent_reservations.has_value());
  CHECK(present.persistent_reservations->empty());
  const auto svc = snapshot_from_json(minimal(R"(, "services": [{"name": "DNS"}])"));
  CHECK(svc.services[0].start_type == StartType::unknown);
  CHECK(svc.services[0].state == ServiceState::unknown);
}

TEST_CASE("snapshot JSON: unknown members are errors naming their path") {
  CHECK_THAT(error_of(minimal(R"(, "hostnme": "x")")), Catch::Contains("/hostnme: unknown member \"hostnme\""));
  CHECK_THAT(error_of(minimal(R"(, "services": [{"name": "DNS"}, {"name": "IAS", "pidd": 4}])")),
             Catch::Contains("/services/1/pidd: unknown member"));
  CHECK_THAT(error_of(minimal(R"(, "reserved_ports": {"strings": [], "present": true})")),
             Catch::Contains("/reserved_ports/present: unknown member"));
  CHECK_THAT(error_of(minimal(R"(, "a/b~c": 1)")), Catch::Contains("/a~1b~0c: unknown member"));
  CHECK_THAT(error_of(minimal(R"(, "hostnme": "x")")), Catch::Contains("known members here: format, format_version"));
}

TEST_CASE("snapshot JSON: a member given twice is an error naming its path") {
  CHECK_THAT(error_of(minimal(R"(, "reserved_ports": {"strings": ["1645-1646"]}, "reserved_ports": null)")),
             Catch::Contains("/reserved_ports: duplicate member \"reserved_ports\""));
  CHECK_THAT(error_of(minimal(R"(, "services": [{"name": "DNS"}, {"name": "IAS", "pid": 1, "pid": 2}])")),
             Catch::Contains("/services/1/pid: duplicate member"));
  CHECK_THAT(error_of(minimal(R"(, "dynamic_ranges": [[1, [2]], {"protocol": "udp"}], "ports_in_use": [{"port": 1, "port": 1}])")),
             Catch::Contains("/ports_in_use/0/port: duplicate member"));
  // Equal names in different objects are fine.
  CHECK(error_of(minimal(R"(, "services": [{"name": "DNS", "pid": 1}, {"name": "IAS", "pid": 2}])")).empty());
}

TEST_CASE("snapshot JSON: wrong types, ranges and words are errors naming their path") {
  CHECK_THAT(error_of(minimal(R"(, "services": [{"name": "DNS", "start_type": "auto"}])")),
             Catch::Contains("/services/0/start_type: expected one of \"boot\"") && Catch::Contains("found \"auto\""));
  CHECK_THAT(error_of(minimal(R"(, "ports_in_use": [{"protocol": "udp", "port": 0}])")),
             Catch::Contains("/ports_in_use/0/port: expected a whole number from 1 to 65535, found 0"));
  CHECK_THAT(error_of(minimal(R"(, "ports_in_use": [{"protocol": "udp", "port": 70000}])")), Catch::Contains("found 70000"));
  CHECK_THAT(error_of(minimal(R"(, "ports_in_use": [{"protocol": "udp", "port": -5}])")), Catch::Contains("found -5"));
  CHECK_THAT(error_of(minimal(R"(, "ports_in_use": [{"protocol": "udp", "port": 53.5}])")), Catch::Contains("found a fractional number"));
  CHECK_THAT(error_of(minimal(R"(, "ports_in_use": [{"protocol": "icmp", "port": 5}])")),
             Catch::Contains("/ports_in_use/0/protocol: expected one of \"udp\", \"tcp\""));
  CHECK_THAT(error_of(minimal(R"(, "ports_in_use": [{"port": 5}])")), Catch::Contains("/ports_in_use/0/protocol: required member is missing"));
  CHECK_THAT(error_of(minimal(R"(, "dynamic_ranges": [{"protocol": "udp", "first": 60000, "last": 1025}])")),
             Catch::Contains("/dynamic_ranges/0/last: the range 60000-1025 ends before it starts"));
  CHECK_THAT(error_of(minimal(R"(, "persistent_reservations": [{"protocol": "udp", "start": 65535, "count": 2}])")),
             Catch::Contains("/persistent_reservations/0/count: the block 65535+2 goes beyond port 65535"));
  CHECK_THAT(error_of(minimal(R"(, "reserved_ports": {"strings": ["1645-1646", 1812]})")),
             Catch::Contains("/reserved_ports/strings/1: expected a string, found a number"));
  CHECK_THAT(error_of(minimal(R"(, "reserved_ports": ["1645-1646"])")), Catch::Contains("/reserved_ports: expected an object, found an array"));
  CHECK_THAT(error_of(minimal(R"(, "services": {"name": "DNS"})")), Catch::Contains("/services: expected an array, found an object"));
  CHECK_THAT(error_of(minimal(R"(, "services": [{"name": ""}])")), Catch::Contains("/services/0/name: a service name cannot be empty"));
  CHECK_THAT(error_of(R"({"format": "portguard-snapshot", "format_version": 1, "windows": {"major": 10, "minor": 0, "server": "yes"}})"),
             Catch::Contains("/windows/server: expected true or false, found a string"));
  CHECK_THAT(error_of(R"({"format": "portguard-snapshot", "format_version": 1, "windows": {"major": 10}})"),
             Catch::Contains("/windows/minor: required member is missing"));
  CHECK_THAT(error_of(minimal(R"(, "boot_time_unix": "yesterday")")), Catch::Contains("/boot_time_unix: expected a whole number"));
}

TEST_CASE("snapshot JSON: documents that are not snapshots are refused clearly") {
  CHECK_THAT(error_of(R"({"format_version": 1, "windows": {"major": 5, "minor": 2}})"), Catch::Contains("/format: required member is missing"));
  CHECK_THAT(error_of(R"({"format": "portguard-snapshot", "format_version": 1})"), Catch::Contains("/windows: required member is missing"));
  CHECK_THAT(error_of(R"({"format": "other", "format_version": 1, "windows": {"major": 5, "minor": 2}})"),
             Catch::Contains("this is not a PortGuard host snapshot"));
  CHECK_THAT(error_of(R"({"format": "portguard-snapshot", "format_version": 2, "windows": {"major": 5, "minor": 2}})"),
             Catch::Contains("format version 2 is not supported"));
  CHECK_THAT(error_of("[1, 2]"), Catch::Contains("/: expected an object, found an array"));
  CHECK_THAT(error_of(""), Catch::Contains("host.json: invalid JSON"));
  CHECK_THAT(error_of("{\n  \"format\": \"portguard-snapshot\",\n  \"format_version\": 1,,\n}"),
             Catch::Contains("line 3, column"));
  CHECK_THAT(error_of(std::string(100, '[') + std::string(100, ']')), Catch::Contains("nesting deeper than 16 levels"));
  CHECK_THAT(error_of("{\"format\": \"\xff\"}"), Catch::Contains("invalid JSON"));
  // Regression (fuzz_snapshot_json crash-92bc6f41): a number overflowing a double escaped as
  // nlohmann's out_of_range instead of a SnapshotError.
  CHECK_THAT(error_of("6666666666666666676666e6666666666\"], \n"), Catch::Contains("invalid JSON") && Catch::Contains("number overflow"));
  CHECK_THAT(error_of(minimal(R"(, "boot_time_unix": 1e999)")), Catch::Contains("number overflow"));
}
