#pragma once
// The ops-edited policy file (TOML, %ProgramData%\PortGuard\policy.toml) turned into what the
// planner needs. Contract (issue 4): a missing, empty, unreadable or invalid policy never yields an
// empty requirement set — load_policy throws PolicyError and the caller keeps the last known good.
#include "portguard/core/error.hpp"
#include "portguard/core/plan.hpp"
#include "portguard/core/ports.hpp"
#include "portguard/core/requirement.hpp"
#include "portguard/core/snapshot.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
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

enum class Enforcement : std::uint8_t { enforce, audit };   // audit: report and alert, never write

/// An explicit [[reserve]] entry, ports already resolved (service names through the services file).
struct Reservation {
  std::vector<PortRange> ports;
  std::vector<Protocol> protocols;          // "both" = {udp, tcp}
  std::string service;                      // owning Windows service key name
  std::string reason;
  std::optional<std::string> when_installed;// only while this service is installed
  std::string source;                       // "file:line"
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
  // Per-service catalog overrides and further discovery options are the policy module's own.
};

/// Where names like "radius" are resolved: the Windows services file
/// (%SystemRoot%\System32\drivers\etc\services) or any file of the same format.
struct ServiceNameResolver;

/// Reads and validates a policy file (UTF-8 with/without BOM, UTF-16LE with BOM; CRLF or LF).
/// Throws PolicyError listing every problem found.
Policy load_policy(const std::filesystem::path& file, const std::filesystem::path& services_file);

/// The requirements this policy demands on this host: its explicit reservations (honouring
/// when_installed), the catalog's installed services (unless opted out) and the registry-configured
/// ports discovery found. Every requirement carries provenance.
Requirements requirements_for(const Policy& policy, const HostSnapshot& host);

/// Registry lookups discovery must do for this policy (catalog entries with a port in the registry).
std::vector<ConfiguredPortQuery> configured_port_queries(const Policy& policy);

/// Last known good: a compiled copy of the last valid policy, written atomically to `state_dir`.
void save_last_known_good(const Policy& policy, const std::filesystem::path& state_dir);
/// nullopt when there is none yet; throws when it exists but cannot be read.
std::optional<Policy> load_last_known_good(const std::filesystem::path& state_dir);

} // namespace portguard::config
