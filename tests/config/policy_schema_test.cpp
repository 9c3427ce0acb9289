// The policy schema: what loads, into what, and the exact messages for common mistakes.
#include "support.hpp"

using namespace pgtest;
using Catch::Matchers::Contains;

TEST_CASE("a minimal policy gets the documented defaults", "[policy]") {
  const Policy p = load("[guard]\nmode = \"merge\"\n");
  CHECK(p.source == "policy.toml");
  CHECK(p.plan.mode == Mode::merge);
  CHECK(p.enforcement == Enforcement::enforce);
  CHECK_FALSE(p.plan.targets.has_value());
  CHECK(p.plan.limits.max_reserved_ports == 1024);
  CHECK(p.plan.limits.min_free_dynamic_ports == 255);
  CHECK_FALSE(p.plan.allow.removals);
  CHECK(p.recheck_interval == std::chrono::minutes(15));
  CHECK(p.use_catalog);
  CHECK(p.discover_registry_ports);
  CHECK(p.reservations.empty());
  CHECK(p.catalog.source == builtin_catalog_source);
}

TEST_CASE("every setting is read", "[policy]") {
  const Policy p = load(R"(
[guard]
mode = "exact"
enforcement = "audit"
targets = ["dns-socket-pool", "persistent-reservation"]
recheck_interval = "1h30m"
[guard.limits]
max_reserved_ports = 2048
min_free_dynamic_ports = 1000
[guard.allow]
removals = true
empty_value = true

[catalog]
exclude = ["SSDPSRV", "w3svc"]
include = ["SNMP"]
[catalog.override.IAS]
udp = ["1812-1813"]
reason = "RADIUS, current ports only"

[discovery]
registry_ports = true
exclude = ["MSSQL$SCRATCH"]

[[reserve]]
ports = [1645, "1646", "radius", "radacct", "5000-5010"]
protocol = "both"
service = "IAS"
reason = "RADIUS"
when_installed = "IAS"
)");
  CHECK(p.plan.mode == Mode::exact);
  CHECK(p.enforcement == Enforcement::audit);
  REQUIRE(p.plan.targets.has_value());
  CHECK(*p.plan.targets == std::vector<Target>{Target::dns_socket_pool, Target::persistent_reservation});
  CHECK(p.recheck_interval == std::chrono::seconds(5400));
  CHECK(p.plan.limits.max_reserved_ports == 2048);
  CHECK(p.plan.limits.min_free_dynamic_ports == 1000);
  CHECK(p.plan.allow.removals);
  CHECK(p.plan.allow.empty_value);
  CHECK_FALSE(p.plan.allow.large_reservations);
  CHECK(p.catalog_exclude == std::vector<std::string>{"SSDPSRV", "W3SVC"});  // the catalog's spelling
  CHECK(p.catalog_include == std::vector<std::string>{"SNMP"});
  REQUIRE(p.catalog_overrides.size() == 1);
  CHECK(p.catalog_overrides[0].service == "IAS");
  CHECK(p.catalog_overrides[0].udp == std::vector<PortRange>{PortRange::make(1812, 1813)});
  CHECK_FALSE(p.catalog_overrides[0].tcp.has_value());
  CHECK(p.catalog_overrides[0].reason == "RADIUS, current ports only");
  CHECK(p.catalog_overrides[0].source == "policy.toml:17");
  CHECK(p.discovery_exclude == std::vector<std::string>{"MSSQL$SCRATCH"});
  REQUIRE(p.reservations.size() == 1);
  const Reservation& r = p.reservations[0];
  CHECK(r.ports == std::vector<PortRange>{PortRange::single(1645), PortRange::single(1646), PortRange::single(1812),
                                          PortRange::single(1813), PortRange::make(5000, 5010)});
  CHECK(r.protocols == std::vector<Protocol>{Protocol::udp, Protocol::tcp});
  CHECK(r.service == "IAS");
  CHECK(r.reason == "RADIUS");
  CHECK(r.when_installed == "IAS");
  CHECK(r.source == "policy.toml:25");
  // Names were resolved through the services file: it is kept for the last known good.
  CHECK(p.services_file == "services");
  CHECK_FALSE(p.services_text.empty());
}

TEST_CASE("recheck_interval accepts durations and seconds, within 10s..24h", "[policy]") {
  CHECK(load("[guard]\nrecheck_interval = 600\n").recheck_interval == std::chrono::seconds(600));
  CHECK(load("[guard]\nrecheck_interval = \"90s\"\n").recheck_interval == std::chrono::seconds(90));
  CHECK(load("[guard]\nrecheck_interval = \"2h\"\n").recheck_interval == std::chrono::hours(2));
  CHECK(errors_of("[guard]\nrecheck_interval = \"5s\"\n") ==
        std::vector<std::string>{"policy.toml:2:20: recheck_interval of 5 seconds is out of range; write a duration from \"10s\" to \"24h\""});
  CHECK(errors_of("[guard]\nrecheck_interval = \"soon\"\n") ==
        std::vector<std::string>{"policy.toml:2:20: recheck_interval must be a duration such as \"15m\", \"90s\" or \"1h\" (or a number of seconds), not 'soon'"});
}

TEST_CASE("unknown keys are errors with a did-you-mean", "[policy][messages]") {
  const auto errors = errors_of(R"([[reserve]]
ports = [1812]
protcol = "udp"
service = "IAS"
)");
  CHECK(errors == std::vector<std::string>{
                      "policy.toml:1:1: [[reserve]] #1 has no 'protocol'; write protocol = \"udp\", \"tcp\" or \"both\"",
                      "policy.toml:3:1: unknown key 'protcol' in [[reserve]] #1; did you mean 'protocol'?",
                  });
  CHECK(errors_of("[gaurd]\nmode = \"merge\"\n") ==
        std::vector<std::string>{"policy.toml:1:2: unknown key 'gaurd' in the policy (top level); did you mean 'guard'?"});
  CHECK(errors_of("[guard]\nenforcment = \"audit\"\n") ==
        std::vector<std::string>{"policy.toml:2:1: unknown key 'enforcment' in [guard]; did you mean 'enforcement'?"});
  // Nothing close: the allowed keys are listed instead.
  CHECK(errors_of("[discovery]\nfrobnicate = true\n") ==
        std::vector<std::string>{"policy.toml:2:1: unknown key 'frobnicate' in [discovery]; the keys allowed here are 'registry_ports' and 'exclude'"});
}

TEST_CASE("wrong types say what to write", "[policy][messages]") {
  CHECK(errors_of("[guard]\nmode = 1\n") ==
        std::vector<std::string>{"policy.toml:2:8: 'mode' in [guard] must be a string, not an integer; write mode = \"merge\""});
  CHECK(errors_of("[catalog]\nenabled = \"false\"\n") ==
        std::vector<std::string>{"policy.toml:2:11: 'enabled' in [catalog] must be true or false, not a string; write enabled = true or enabled = false (without quotes)"});
  CHECK(errors_of("[guard.limits]\nmax_reserved_ports = \"2000\"\n") ==
        std::vector<std::string>{"policy.toml:2:22: 'max_reserved_ports' in [guard.limits] must be a whole number from 1 to 65535, not a string; write max_reserved_ports = 1 (no quotes)"});
  CHECK(errors_of("guard = 3\n") ==
        std::vector<std::string>{"policy.toml:1:9: 'guard' in the policy must be a table, not an integer; write it as a section [guard]"});
  CHECK(errors_of("[reserve]\nports = [1812]\nprotocol = \"udp\"\nservice = \"IAS\"\n") ==
        std::vector<std::string>{"policy.toml:1:1: 'reserve' must be written as [[reserve]] sections (double brackets), one per reservation"});
  CHECK(errors_of("[[reserve]]\nports = [1.5]\nprotocol = \"udp\"\nservice = \"X\"\n") ==
        std::vector<std::string>{"policy.toml:2:10: entries of 'ports' must be port numbers or strings such as \"1812-1813\" or \"radius\", not a decimal number"});
}

TEST_CASE("bad enumerations suggest the right word", "[policy][messages]") {
  CHECK(errors_of("[guard]\nmode = \"marge\"\n") ==
        std::vector<std::string>{"policy.toml:2:8: unknown mode 'marge' (did you mean 'merge'?); write mode = \"merge\" (only add what is missing) or mode = \"exact\" (the policy is the whole truth)"});
  CHECK(errors_of("[[reserve]]\nports = [1812]\nprotocol = \"upd\"\nservice = \"IAS\"\n") ==
        std::vector<std::string>{"policy.toml:3:12: unknown protocol 'upd' in [[reserve]] #1 (did you mean 'udp'?); write protocol = \"udp\", \"tcp\" or \"both\""});
  CHECK(errors_of("[guard]\ntargets = [\"dns-socketpool\", \"reserved-ports\", \"reserved-ports\"]\n") ==
        std::vector<std::string>{
            "policy.toml:2:12: unknown target 'dns-socketpool' (did you mean 'dns-socket-pool'?); targets are 'reserved-ports', 'dns-socket-pool' and 'persistent-reservation'",
            "policy.toml:2:48: target 'reserved-ports' is listed twice; remove one",
        });
  CHECK_THAT(errors_of("[guard]\ntargets = []\n").at(0), Contains("targets = [] manages nothing; remove the 'targets' line"));
}

TEST_CASE("ports out of range, port 0, reversed ranges and garbage", "[policy][messages]") {
  const auto errors = errors_of(R"([[reserve]]
ports = [70000, 0, "1813-1812", "1-99999", "12ab", -5]
protocol = "udp"
service = "IAS"
)");
  CHECK(errors == std::vector<std::string>{
                      "policy.toml:2:10: port 70000 in 'ports' is out of range; ports are 1 to 65535",
                      "policy.toml:2:17: port 0 in 'ports' is not a port (it means \"any port\"); ports are 1 to 65535",
                      "policy.toml:2:20: reversed range '1813-1812' in 'ports'; write \"1812-1813\" (smaller port first)",
                      "policy.toml:2:33: port 99999 in 'ports' is out of range; ports are 1 to 65535",
                      "policy.toml:2:44: '12ab' in 'ports' is not a port, a range such as \"1812-1813\" or a service name from the services file; ports are 1 to 65535",
                      "policy.toml:2:52: port -5 in 'ports' is out of range; ports are 1 to 65535",
                  });
}

TEST_CASE("service names resolve through the services file", "[policy]") {
  SECTION("unknown name with a suggestion") {
    CHECK(errors_of("[[reserve]]\nports = [\"radiuss\"]\nprotocol = \"udp\"\nservice = \"IAS\"\n") ==
          std::vector<std::string>{"policy.toml:2:10: unknown service name 'radiuss' in [[reserve]] #1 (not in services); did you mean 'radius'?"});
  }
  SECTION("aliases and case do not matter") {
    const Policy p = load("[[reserve]]\nports = [\"WWW\", \"Krb5\"]\nprotocol = \"tcp\"\nservice = \"W3SVC\"\n");
    CHECK(p.reservations.at(0).ports == std::vector<PortRange>{PortRange::single(80), PortRange::single(88)});
  }
  SECTION("a name listed only for another protocol") {
    CHECK(errors_of("[[reserve]]\nports = [\"radius\"]\nprotocol = \"tcp\"\nservice = \"IAS\"\n") ==
          std::vector<std::string>{"policy.toml:2:10: service name 'radius' in [[reserve]] #1 is listed in services only for udp; write the port number (1812) or change 'protocol'"});
  }
  SECTION("an unreadable services file is an error only when a name needs it") {
    const auto missing = data_dir() / "no-such-services-file";
    CHECK_NOTHROW(load_policy_text("[[reserve]]\nports = [1812]\nprotocol = \"udp\"\nservice = \"IAS\"\n", "p.toml", missing));
    try {
      load_policy_text("[[reserve]]\nports = [\"radius\"]\nprotocol = \"udp\"\nservice = \"IAS\"\n", "p.toml", missing);
      FAIL("loaded");
    } catch (const PolicyError& e) {
      REQUIRE(e.diagnostics().size() == 1);
      CHECK_THAT(e.diagnostics()[0].to_string(), Contains("p.toml:2:10: cannot resolve service name 'radius' in [[reserve]] #1: "));
      CHECK_THAT(e.diagnostics()[0].message, Contains("services file not found"));
      CHECK_THAT(e.diagnostics()[0].message, Contains("write the port number instead, or pass --services-file FILE"));
    }
  }
}

TEST_CASE("duplicates and conflicting owners", "[policy][messages]") {
  CHECK(errors_of("[[reserve]]\nports = [1812, \"1810-1815\"]\nprotocol = \"udp\"\nservice = \"IAS\"\n") ==
        std::vector<std::string>{"policy.toml:2:16: ports 1810-1815 are listed twice in [[reserve]] #1; remove the duplicate"});
  CHECK(errors_of(R"([[reserve]]
ports = ["1812-1813"]
protocol = "udp"
service = "IAS"

[[reserve]]
ports = [1813]
protocol = "both"
service = "ias"
)") == std::vector<std::string>{"policy.toml:6:1: [[reserve]] #2 reserves 1813/udp for 'ias' again (already reserved at policy.toml:1); remove the duplicate"});
  CHECK(errors_of(R"([[reserve]]
ports = ["1812-1813"]
protocol = "udp"
service = "IAS"

[[reserve]]
ports = [1813]
protocol = "udp"
service = "Backup"
)") == std::vector<std::string>{"policy.toml:6:1: conflicting owners: [[reserve]] #2 reserves 1813/udp for 'Backup', but policy.toml:1 reserves 1812-1813 for 'IAS'; a port has one owner, keep one entry"});
  // Same port, other protocol: no conflict.
  CHECK_NOTHROW(load("[[reserve]]\nports = [53]\nprotocol = \"udp\"\nservice = \"DNS\"\n[[reserve]]\nports = [53]\nprotocol = \"tcp\"\nservice = \"Other\"\n"));
  CHECK(errors_of("[catalog]\nexclude = [\"SNMP\", \"snmp\"]\n") ==
        std::vector<std::string>{"policy.toml:2:20: service 'snmp' is listed twice in [catalog] exclude; remove one"});
}

TEST_CASE("contradictory settings", "[policy][messages]") {
  CHECK(errors_of("[guard.allow]\nremovals = true\n") ==
        std::vector<std::string>{"policy.toml:2:12: allow.removals = true has no effect in merge mode (merge never removes); set mode = \"exact\" in [guard] or remove 'removals'"});
  CHECK(errors_of("[guard.limits]\nmax_reserved_ports = 10\n[guard.allow]\nlarge_reservations = true\n") ==
        std::vector<std::string>{"policy.toml:4:22: allow.large_reservations = true lifts the max_reserved_ports limit that [guard.limits] sets; keep one of the two"});
  CHECK(errors_of("[catalog]\nenabled = false\nexclude = [\"SNMP\"]\n[[reserve]]\nports = [1]\nprotocol = \"tcp\"\nservice = \"X\"\n") ==
        std::vector<std::string>{"policy.toml:3:11: [catalog] exclude has no effect with enabled = false; remove it or set enabled = true"});
  CHECK(errors_of("[catalog]\nexclude = [\"SNMP\"]\ninclude = [\"SNMP\"]\n") ==
        std::vector<std::string>{"policy.toml:3:12: service 'snmp' is both included and excluded in [catalog]; keep it in one list"});
  CHECK(errors_of("[catalog]\nexclude = [\"IAS\"]\n[catalog.override.IAS]\nudp = [1812]\n") ==
        std::vector<std::string>{"policy.toml:3:19: [catalog.override.IAS] overrides a service that [catalog] exclude opts out of; remove the override or the exclusion"});
  CHECK(errors_of("[guard.limits]\nmin_free_dynamic_ports = 100\n") ==
        std::vector<std::string>{"policy.toml:2:26: min_free_dynamic_ports = 100 is below 255, the smallest dynamic port range Windows supports; write 255 or more (leaving fewer free ports risks port exhaustion)"});
  CHECK(errors_of("[catalog]\nenabled = false\n[discovery]\nregistry_ports = false\n") ==
        std::vector<std::string>{"policy.toml: the policy protects nothing: the catalog is disabled, there is no [[reserve]] section and registry discovery is off; set [catalog] enabled = true or add a [[reserve]] section"});
}

TEST_CASE("catalog names in the policy are checked against the catalog", "[policy][messages]") {
  CHECK(errors_of("[catalog]\nexclude = [\"SNPM\"]\n") ==
        std::vector<std::string>{"policy.toml:2:12: service 'SNPM' in [catalog] exclude is not in the catalog (<built-in catalog>); did you mean 'SNMP'?"});
  CHECK(errors_of("[catalog.override.IASS]\nudp = [1812]\n") ==
        std::vector<std::string>{"policy.toml:1:19: service 'IASS' in [catalog.override.IASS] is not in the catalog (<built-in catalog>); did you mean 'IAS'?"});
  CHECK(errors_of("[catalog.override.IAS]\nudp = [1812]\ntpc = [1]\n") ==
        std::vector<std::string>{"policy.toml:3:1: unknown key 'tpc' in [catalog.override.IAS]; did you mean 'tcp'?"});
}

TEST_CASE("all errors are reported, in file order, not just the first", "[policy][messages]") {
  const auto errors = errors_of(R"([guard]
mode = "fast"
recheck_interval = 3

[[reserve]]
ports = [70000]
protocol = "udp"
service = "IAS"

[[reserve]]
ports = ["radiuss"]
protcol = "udp"
service = "IAS"
)");
  REQUIRE(errors.size() == 6);
  CHECK_THAT(errors[0], Contains("policy.toml:2:8: unknown mode 'fast'"));
  CHECK_THAT(errors[1], Contains("policy.toml:3:20: recheck_interval of 3 seconds is out of range"));
  CHECK_THAT(errors[2], Contains("policy.toml:6:10: port 70000"));
  CHECK_THAT(errors[3], Contains("policy.toml:10:1: [[reserve]] #2 has no 'protocol'"));
  CHECK_THAT(errors[4], Contains("policy.toml:11:10: unknown service name 'radiuss'"));
  CHECK_THAT(errors[5], Contains("policy.toml:12:1: unknown key 'protcol' in [[reserve]] #2; did you mean 'protocol'?"));
}

TEST_CASE("a TOML syntax error names line and column", "[policy][messages]") {
  const auto errors = errors_of("[guard]\nmode = merge\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Contains("policy.toml:2:8: TOML syntax error: "));
}

TEST_CASE("missing, empty and comment-only policies are errors, never an empty policy", "[policy]") {
  CHECK(errors_of("") == std::vector<std::string>{"policy.toml: the policy is empty; PortGuard keeps using the last known good policy. Start from the shipped policy.default.toml (docs/policy.md)"});
  CHECK(errors_of(" \r\n\t\n").size() == 1);
  CHECK_THAT(errors_of("# [guard]\n# mode = \"merge\"\n").at(0), Contains("the policy has no settings (only comments)"));

  const auto dir = temp_dir("missing");
  CHECK_THROWS_AS(load_policy(dir / "policy.toml", data_dir() / "services"), PolicyReadError);
  try {
    load_policy(dir / "policy.toml", data_dir() / "services");
  } catch (const PolicyReadError& e) {
    CHECK(e.diagnostics().at(0).to_string() == (dir / "policy.toml").string() + ": policy not found; check the path or pass --policy FILE");
  }
  CHECK_THROWS_AS(load_policy(dir, data_dir() / "services"), PolicyReadError);  // a directory
  write_all(dir / "policy.toml", "");
  try {
    load_policy(dir / "policy.toml", data_dir() / "services");
    FAIL("an empty policy loaded");
  } catch (const PolicyReadError&) {
    FAIL("an empty policy is invalid, not unreadable");
  } catch (const PolicyError& e) {
    CHECK_THAT(e.what(), Contains("the policy is empty"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a catalog.toml next to the policy replaces the built-in catalog", "[policy][catalog]") {
  const auto dir = temp_dir("local-catalog");
  write_all(dir / "policy.toml", "[catalog]\nexclude = [\"Custom\"]\n[[reserve]]\nports = [1]\nprotocol = \"tcp\"\nservice = \"X\"\n");
  // Without a local catalog, "Custom" is unknown.
  CHECK_THROWS_AS(load_policy(dir / "policy.toml", data_dir() / "services"), PolicyError);
  write_all(dir / "catalog.toml", "[[service]]\nname = \"Custom\"\nreason = \"custom app\"\nudp = [7000]\nreference = \"KB 123456\"\n");
  const Policy p = load_policy(dir / "policy.toml", data_dir() / "services");
  CHECK(p.catalog.source == (dir / "catalog.toml").string());
  REQUIRE(p.catalog.entries.size() == 1);
  CHECK(p.catalog_exclude == std::vector<std::string>{"Custom"});
  // A broken local catalog is an error, not a silent fall-back to the built-in one.
  write_all(dir / "catalog.toml", "[[service]]\nname = \"Custom\"\n");
  CHECK_THROWS_AS(load_policy(dir / "policy.toml", data_dir() / "services"), PolicyError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a service that is not in the catalog and not close to one", "[policy][messages]") {
  CHECK(errors_of("[catalog]\ninclude = [\"MyBackupAgent\"]\n") ==
        std::vector<std::string>{"policy.toml:2:12: service 'MyBackupAgent' in [catalog] include is not in the catalog (<built-in catalog>); protect it with a [[reserve]] section instead (docs/policy.md lists the catalog's services)"});
}

TEST_CASE("[monitoring] textfile_dir: an absolute folder, validated like any other setting", "[policy][monitoring]") {
  CHECK_FALSE(load("[guard]\nmode = \"merge\"\n").metrics_textfile_dir.has_value());
  CHECK(load("[monitoring]\ntextfile_dir = 'C:\\Program Files\\windows_exporter\\textfile_inputs'\n").metrics_textfile_dir ==
        "C:\\Program Files\\windows_exporter\\textfile_inputs");
  CHECK(load("[monitoring]\ntextfile_dir = '\\\\metrics01\\inputs\\dns'\n").metrics_textfile_dir == "\\\\metrics01\\inputs\\dns");
  CHECK(errors_of("[monitoring]\ntextfile_dir = 'textfile_inputs'\n") ==
        std::vector<std::string>{"policy.toml:2:16: textfile_dir 'textfile_inputs' is not an absolute folder path; write a path such as "
                                 "'C:\\Program Files\\windows_exporter\\textfile_inputs'"});
  CHECK(errors_of("[monitoring]\ntextfile_dir = 'C:\\metrics\\a|b'\n") ==
        std::vector<std::string>{"policy.toml:2:16: textfile_dir 'C:\\metrics\\a|b' contains a character Windows does not allow in a folder name ('|')"});
  CHECK(errors_of("[monitoring]\ntextfile_dir = 5\n") ==
        std::vector<std::string>{"policy.toml:2:16: 'textfile_dir' in [monitoring] must be a string, not an integer; write textfile_dir = "
                                 "'C:\\Program Files\\windows_exporter\\textfile_inputs'"});
  CHECK(errors_of("[monitoring]\ntextfile_dri = 'C:\\x'\n") ==
        std::vector<std::string>{"policy.toml:2:1: unknown key 'textfile_dri' in [monitoring]; did you mean 'textfile_dir'?"});
  CHECK(errors_of("[monitoring]\ntextfile_directory = 'C:\\x'\n") ==
        std::vector<std::string>{"policy.toml:2:1: unknown key 'textfile_directory' in [monitoring]; the keys allowed here are 'textfile_dir'"});
  CHECK(folder_path_problem("C:\\x:y").has_value());
  CHECK_FALSE(folder_path_problem("D:\\").has_value());
}

// --- [guard.dynamic_range] (issue 16 item 1) -------------------------------------------------------

TEST_CASE("[guard.dynamic_range]: the expected range per protocol, with its policy line", "[policy][dynamic-range]") {
  const Policy none = load("[guard]\nmode = \"merge\"\n");
  CHECK(none.plan.dynamic_ranges.empty());   // not guarded unless the policy says so

  const Policy p = load("[guard]\nmode = \"merge\"\n\n[guard.dynamic_range]\nudp = \"49152-65535\"\ntcp = \"10000-20000\"\n");
  REQUIRE(p.plan.dynamic_ranges.size() == 2);
  CHECK(p.plan.dynamic_ranges[0] == ExpectedDynamicRange{Protocol::udp, PortRange::make(49152, 65535), "policy.toml:5"});
  CHECK(p.plan.dynamic_ranges[1] == ExpectedDynamicRange{Protocol::tcp, PortRange::make(10000, 20000), "policy.toml:6"});
  // Windows' own bounds are accepted exactly: start 1025, 255 ports, end 65535.
  CHECK(load("[guard.dynamic_range]\nudp = \"1025-1279\"\n").plan.dynamic_ranges.at(0).range == PortRange::make(1025, 1279));
  CHECK(load("[guard.dynamic_range]\nudp = \"65281-65535\"\n").plan.dynamic_ranges.at(0).range == PortRange::make(65281, 65535));
}

TEST_CASE("[guard.dynamic_range]: bad ranges name the line and what to write", "[policy][dynamic-range][messages]") {
  const auto errors = errors_of(R"([guard.dynamic_range]
udp = "1024-65535"
tcp = "60000-60100"
)");
  CHECK(errors == std::vector<std::string>{
                      "policy.toml:2:7: dynamic range '1024-65535' for udp starts at 1024, below 1025 (Windows never hands out lower ports at "
                      "random; the default range is 49152-65535); Windows needs a start of 1025 or more and at least 255 ports; write e.g. "
                      "udp = \"49152-65535\" (the default)",
                      "policy.toml:3:7: dynamic range '60000-60100' for tcp has 101 ports, fewer than the 255 Windows requires (fewer risks "
                      "port exhaustion); Windows needs a start of 1025 or more and at least 255 ports; write e.g. tcp = \"49152-65535\" (the default)",
                  });
  CHECK(errors_of("[guard.dynamic_range]\nudp = \"65535-49152\"\n") ==
        std::vector<std::string>{"policy.toml:2:7: reversed dynamic range '65535-49152' for udp; write \"49152-65535\" (smaller port first)"});
  CHECK(errors_of("[guard.dynamic_range]\nudp = \"49152-70000\"\n") ==
        std::vector<std::string>{"policy.toml:2:7: dynamic range '49152-70000' for udp ends after 65535, the last port; write an end of "
                                 "65535 or less, e.g. udp = \"49152-65535\""});
  CHECK_THAT(errors_of("[guard.dynamic_range]\nudp = \"49152\"\n").at(0),
             Contains("policy.toml:2:7: dynamic range '49152' for udp is not \"start-end\"; write udp = \"49152-65535\""));
  CHECK(errors_of("[guard.dynamic_range]\nudp = 49152\n") ==
        std::vector<std::string>{"policy.toml:2:7: 'udp' in [guard.dynamic_range] must be a string \"start-end\", not an integer; write udp = \"49152-65535\""});
  CHECK(errors_of("[guard.dynamic_range]\nupd = \"49152-65535\"\n") ==
        std::vector<std::string>{"policy.toml:2:1: unknown key 'upd' in [guard.dynamic_range]; did you mean 'udp'?"});
  CHECK_THAT(errors_of("[guard.dynamic_range]\n").at(0), Contains("[guard.dynamic_range] is empty; write udp = \"49152-65535\""));
}
