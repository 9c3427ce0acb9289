#pragma once
// What a command may ask of the machine it runs on. main() builds one Host (Win32Host on Windows,
// OfflineHost elsewhere) and passes it to every command in Io, so the portable commands never
// reach into the Windows code and no global is set before main runs.
#include "portguard/config/group_policy.hpp"
#include "portguard/config/policy.hpp"
#include "portguard/core/assess.hpp"

#include <optional>
#include <string>

namespace portguard::cli {

class Host {
public:
  virtual ~Host() = default;

  /// The policy file a command reads without --policy (UTF-8): the data folder's policy.toml on
  /// Windows (the service's, whatever the caller's environment says; throws portguard::Error on a
  /// bad DataDir), ./policy.toml elsewhere.
  virtual std::string default_policy_file() = 0;
  /// The system's services file (UTF-8), the --services-file default: the system directory's
  /// drivers\etc\services on Windows (the file the service reads), /etc/services elsewhere.
  virtual std::string services_file() = 0;
  /// Who may write the policy file or its folder although they should not ("" when safe, or where
  /// there are no Windows ACLs to read). Throws when the permissions cannot be read.
  virtual std::string policy_writers(const std::filesystem::path& policy_file) = 0;
  /// The machine's Group Policy settings (HKLM\SOFTWARE\Policies\PortGuard, read and validated);
  /// nullopt where there is no registry. Throws GroupPolicyError for bad values.
  virtual std::optional<config::GroupPolicy> machine_group_policy() = 0;
  /// Whether this host can be assessed live; false: plan and why need --snapshot.
  virtual bool live() const = 0;
  /// The core's assessment of this host (portguard/core/assess.hpp), as check, repair and the
  /// guard run it. Only when live(); throws on failure like any probe.
  virtual Assessment assess(const config::Policy& policy, ServiceDetail detail) = 0;
  /// One exclusive bind of `port` (SO_EXCLUSIVEADDRUSE), closed at once. Only when live().
  virtual BindOutcome try_exclusive_bind(Protocol protocol, Port port) = 0;
};

/// A host with nothing to read live (Linux builds): policy.toml in the current folder,
/// /etc/services, no ACLs, no Group Policy; assess and try_exclusive_bind throw.
class OfflineHost final : public Host {
public:
  std::string default_policy_file() override { return "policy.toml"; }
  std::string services_file() override { return "/etc/services"; }
  std::string policy_writers(const std::filesystem::path&) override { return {}; }
  std::optional<config::GroupPolicy> machine_group_policy() override { return std::nullopt; }
  bool live() const override { return false; }
  Assessment assess(const config::Policy& policy, ServiceDetail detail) override;
  BindOutcome try_exclusive_bind(Protocol protocol, Port port) override;
};

} // namespace portguard::cli
