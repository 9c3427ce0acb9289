#pragma once
// Group Policy settings (installer/admx/PortGuard.admx) under HKLM\SOFTWARE\Policies\PortGuard,
// read through a small interface and merged with the policy file (docs/policy.md, "Group Policy").
// Portable: only the registry reading is a Win32 adapter (service/win32/group_policy_store.*).
//
// Precedence: a setting Group Policy sets replaces the file's setting of the same name
// (enforcement, catalog exclusions, metrics folder); Group Policy reservations are added to the
// file's and win a port the file gives to another service; whatever Group Policy does not set stays
// as the file says. Bad values throw GroupPolicyError, validated like the file: the caller keeps
// the policy in force (or the last known good), exactly as for a broken policy file.
#include "portguard/config/policy.hpp"
#include "portguard/core/registry_value.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portguard::config {

namespace group_policy_keys {
inline constexpr std::string_view root = "HKLM\\SOFTWARE\\Policies\\PortGuard";
inline constexpr std::string_view reservations = "HKLM\\SOFTWARE\\Policies\\PortGuard\\Reservations";
inline constexpr std::string_view catalog_exclude = "HKLM\\SOFTWARE\\Policies\\PortGuard\\CatalogExclude";
inline constexpr std::string_view protect_services = "HKLM\\SOFTWARE\\Policies\\PortGuard\\ProtectServices";
inline constexpr std::string_view enforcement_value = "Enforcement";
inline constexpr std::string_view metrics_dir_value = "MetricsDir";
} // namespace group_policy_keys

/// Read-only view of the Group Policy keys. The Win32 adapter enumerates with RegEnumValueW; tests
/// use a map.
class PolicyKeyReader {
public:
  virtual ~PolicyKeyReader() = default;
  /// Every value of `key` (a full path); nullopt when the key does not exist. Throws on any other
  /// failure (access denied ...).
  virtual std::optional<std::vector<PolicyRegistryValue>> values(std::string_view key) = 0;
};

/// The settings Group Policy sets. Unset settings are nullopt / empty: the file decides.
struct GroupPolicy {
  std::optional<Enforcement> enforcement;
  std::optional<std::string> metrics_dir;
  std::vector<Reservation> reservations;                 // provenance gpo, source = the Reservations key
  std::optional<std::vector<std::string>> catalog_exclude;
  std::vector<std::string> protect_services;             // services made to wait for PortGuard at boot
  /// Every value read, sorted by key and name: the inputs, kept in the last known good and
  /// compared to tell whether Group Policy changed.
  std::vector<PolicyRegistryValue> values;

  bool empty() const noexcept { return values.empty(); }
  /// A stable text of `values` (change detection).
  std::string fingerprint() const;
};

/// Group Policy values that cannot be used. Diagnostics name the registry key as their file,
/// the value in the message, and what to do ("correct the setting '...' in the GPO").
class GroupPolicyError : public PolicyError {
public:
  using PolicyError::PolicyError;
};

/// "Group Policy (HKLM\SOFTWARE\Policies\PortGuard)": how events and commands name the source.
std::string group_policy_source();

/// Reads and validates every value under the Group Policy keys. Throws GroupPolicyError listing
/// every problem (and Error when the registry cannot be read).
GroupPolicy read_group_policy(PolicyKeyReader& reader);
/// The same from values already read (the last known good).
GroupPolicy parse_group_policy(std::vector<PolicyRegistryValue> values);

/// Merges Group Policy into a policy loaded from the file (precedence above). Names Group Policy
/// gives are checked against the policy's catalog; throws GroupPolicyError. Keeps `gp` in
/// `policy.group_policy` (last known good, reporting).
void apply_group_policy(Policy& policy, const GroupPolicy& gp);

/// Whether the Group Policy merged into `policy` sets `value_name` directly under the PortGuard key
/// (e.g. Enforcement): commands then name Group Policy, not the file, as the setting's source.
bool set_by_group_policy(const Policy& policy, std::string_view value_name);

/// A PolicyKeyReader over values in memory (tests, the last known good).
class MemoryPolicyKeys : public PolicyKeyReader {
public:
  explicit MemoryPolicyKeys(std::vector<PolicyRegistryValue> values = {}) : values_(std::move(values)) {}
  void set_string(std::string_view key, std::string_view name, std::string_view text, std::uint32_t type = reg_type::sz);
  void set_dword(std::string_view key, std::string_view name, std::uint32_t value);
  std::optional<std::vector<PolicyRegistryValue>> values(std::string_view key) override;

private:
  std::vector<PolicyRegistryValue> values_;
};

} // namespace portguard::config
