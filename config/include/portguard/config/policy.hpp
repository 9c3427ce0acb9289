#pragma once
// The ops-edited policy file (TOML, %ProgramData%\PortGuard\policy.toml) turned into what the
// planner needs. Contract (issue 4): a missing, empty, unreadable or invalid policy never yields an
// empty requirement set — load_policy throws PolicyError and the caller keeps the last known good.
#include "portguard/config/catalog.hpp"
#include "portguard/config/services_file.hpp"
#include "portguard/core/assess.hpp"
#include "portguard/core/error.hpp"
#include "portguard/core/plan.hpp"
#include "portguard/core/ports.hpp"
#include "portguard/core/registry_value.hpp"
#include "portguard/core/requirement.hpp"
#include "portguard/core/snapshot.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portguard::config {

/// One problem in a policy file: "policy.toml:12:5: unknown key 'protcol' in [[reserve]] #2; did
/// you mean 'protocol'?" Every diagnostic names file, line and column, and what to write instead.
struct Diagnostic {
  std::string file;
  std::uint32_t line = 0;     // 1-based; 0 when the problem is about the whole file
  std::uint32_t column = 0;
  std::string message;

  std::string to_string() const;   // "file:line:column: message"
};

/// The policy could not be used. what() is the first diagnostic; diagnostics() lists them all.
class PolicyError : public InputError {
public:
  explicit PolicyError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

private:
  std::vector<Diagnostic> diagnostics_;
};

/// The policy (or a file it depends on) could not be read at all: missing, unreadable, or a
/// directory. `portguard validate` exits 2 for this, 1 for a PolicyError that is not a read error.
class PolicyReadError : public PolicyError {
public:
  using PolicyError::PolicyError;
};

/// Edit distance (Levenshtein, case-insensitive) used for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to `word` when it is close enough to be a plausible typo.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

enum class Enforcement : std::uint8_t { enforce, audit };   // audit: report and alert, never write

/// An explicit [[reserve]] entry, ports already resolved (service names through the services file).
struct Reservation {
  std::vector<PortRange> ports;
  std::vector<Protocol> protocols;          // "both" = {udp, tcp}
  std::string service;                      // owning Windows service key name
  std::string reason;
  std::optional<std::string> when_installed;// only while this service is installed
  std::string source;                       // "file:line"; for Group Policy the registry key
  Provenance::Kind origin = Provenance::Kind::policy;  // gpo: from Group Policy (group_policy.hpp)

  friend bool operator==(const Reservation&, const Reservation&) = default;
};

/// [catalog.override.<Service>]: replaces the catalog's ports for one protocol and/or its reason.
struct CatalogOverride {
  std::string service;                      // catalog entry name as the catalog spells it
  std::optional<std::vector<PortRange>> udp;// set: replaces the catalog's UDP ports ([] = none)
  std::optional<std::vector<PortRange>> tcp;
  std::optional<std::string> reason;
  std::string source;                       // "file:line"

  friend bool operator==(const CatalogOverride&, const CatalogOverride&) = default;
};

/// One registry value exactly as read (type and bytes), with the key it is in: a Group Policy
/// input (group_policy.hpp), kept in the last known good.
struct PolicyRegistryValue {
  std::string key;    // full path, one of group_policy_keys
  std::string name;
  RawRegistryValue raw;

  friend bool operator==(const PolicyRegistryValue&, const PolicyRegistryValue&) = default;
};

struct Policy {
  std::string source;                       // the file it came from
  Enforcement enforcement = Enforcement::enforce;
  PlanSettings plan;                        // mode, targets, safety limits, allowances
  std::chrono::seconds recheck_interval{15 * 60};

  std::vector<Reservation> reservations;
  bool use_catalog = true;
  std::vector<std::string> catalog_exclude; // services opted out of catalog protection
  bool discover_registry_ports = true;      // SQL Server TcpPort, RDP PortNumber, ...
  std::vector<std::string> discovery_exclude;

  // Additions of the policy module (issue 4).
  std::vector<std::string> catalog_include; // protect these catalog services even when not installed
  std::vector<CatalogOverride> catalog_overrides;
  Catalog catalog;                          // built-in, or the catalog.toml next to the policy
  std::string text;                         // the policy as loaded (UTF-8, BOM removed), for last known good
  std::string services_file;                // services file used to resolve names (empty: none needed)
  std::string services_text;                // its content when names were resolved
  std::string accepted_utc;                 // when the service accepted it (ISO 8601 UTC), kept in last known good

  // [monitoring] (issue 17, docs/monitoring.md)
  std::optional<std::string> metrics_textfile_dir; // folder for portguard.prom (windows_exporter textfile collector)

  // Group Policy merged in (issue 17, group_policy.hpp): the values read (empty: none), and the
  // services Group Policy makes wait for PortGuard at boot.
  std::vector<PolicyRegistryValue> group_policy;
  std::vector<std::string> protect_at_boot;
};

/// Where names like "radius" are resolved: the Windows services file
/// (%SystemRoot%\System32\drivers\etc\services) or any file of the same format.
/// (Defined in services_file.hpp.)
struct ServiceNameResolver;

/// Reads and validates a policy file (UTF-8 with/without BOM, UTF-16LE with BOM; CRLF or LF).
/// Throws PolicyError listing every problem found.
/// A catalog.toml in the policy's directory replaces the built-in catalog. The services file is
/// read only when the policy names ports by service name.
Policy load_policy(const std::filesystem::path& file, const std::filesystem::path& services_file);

/// The same from text already in memory (tests, the fuzzer, last known good). `source` names the
/// text in diagnostics and provenance.
Policy load_policy_text(std::string_view bytes, const std::string& source, const ServiceNameResolver& services,
                        const Catalog& catalog = builtin_catalog());
Policy load_policy_text(std::string_view bytes, const std::string& source, const std::filesystem::path& services_file,
                        const Catalog& catalog = builtin_catalog());

/// The requirements this policy demands on this host: its explicit reservations (honouring
/// when_installed), the catalog's installed services (unless opted out) and the registry-configured
/// ports discovery found. Every requirement carries provenance.
Requirements requirements_for(const Policy& policy, const HostSnapshot& host);

/// Registry lookups discovery must do for this policy (catalog entries with a port in the registry).
std::vector<ConfiguredPortQuery> configured_port_queries(const Policy& policy);

/// Why `path` cannot be a metrics folder (absolute drive or UNC path, no characters Windows forbids),
/// or nullopt when it can. Shared by the policy file and the installer's / Group Policy's value.
std::optional<std::string> folder_path_problem(std::string_view path);
/// A policy as the core's assessment reads it (portguard/core/assess.hpp). Holds its own copy:
/// the guard keeps it across passes while the file is reloaded.
class PolicyRequirements : public RequirementSource {
public:
  explicit PolicyRequirements(Policy policy) : policy_(std::move(policy)), queries_(config::configured_port_queries(policy_)) {}
  std::vector<ConfiguredPortQuery> configured_port_queries() const override { return queries_; }
  Requirements requirements_for(const HostSnapshot& host) const override { return config::requirements_for(policy_, host); }
  const Policy& policy() const noexcept { return policy_; }

private:
  Policy policy_;
  std::vector<ConfiguredPortQuery> queries_;
};

/// Largest policy accepted, in bytes (issue 9, hostile input): a policy lists ports, so anything
/// bigger is a mistake or an attack; refusing it up front keeps load time and memory bounded.
inline constexpr std::size_t max_policy_bytes = 1024 * 1024;

/// Name of the last-known-good file inside state_dir.
inline constexpr std::string_view last_known_good_file_name = "last-known-good.json";

/// Last known good: a compiled copy of the last valid policy, written atomically to `state_dir`.
void save_last_known_good(const Policy& policy, const std::filesystem::path& state_dir);
/// nullopt when there is none yet; throws when it exists but cannot be read.
std::optional<Policy> load_last_known_good(const std::filesystem::path& state_dir);

} // namespace portguard::config
