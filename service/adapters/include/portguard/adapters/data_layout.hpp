#pragma once
// Every file PortGuard keeps under its data folder (%ProgramData%\PortGuard), named from one root:
// the service, the commands and the installer code ask a DataLayout rather than joining names.
#include <filesystem>
#include <string>

namespace portguard {
class RegistryStore;
}

namespace portguard::win32 {

class DataLayout {
public:
  explicit DataLayout(std::filesystem::path root) : root_(std::move(root)) {}

  /// The installed folder: HKLM\SOFTWARE\PortGuard\DataDir as the installer recorded it, else the
  /// shell's common application data folder (paths.hpp) — never the environment, which a caller
  /// controls. Read once per process: the service and every command agree for their whole run.
  /// Throws portguard::Error when DataDir is set but not an absolute local path, Win32Error when
  /// the shell cannot say.
  static DataLayout installed(RegistryStore& registry);
  /// A command's `--data-dir` option (UTF-8) when given, else installed(registry).
  static DataLayout from_option(const std::string& option, RegistryStore& registry);

  const std::filesystem::path& root() const noexcept { return root_; }
  std::filesystem::path policy_file() const { return root_ / L"policy.toml"; }
  /// Last known good policy, pending effects, metrics counters, the two records below.
  std::filesystem::path state_dir() const { return root_ / L"state"; }
  std::filesystem::path backups_dir() const { return root_ / L"backups"; }
  std::filesystem::path logs_dir() const { return root_ / L"logs"; }
  /// The persistent reservations PortGuard created (ReservationLedger).
  std::filesystem::path ledger_file() const { return state_dir() / L"created-reservations.json"; }
  /// The services `protect` made wait for PortGuard (boot_protection.hpp).
  std::filesystem::path protect_records_file() const { return state_dir() / L"protected-services.json"; }

private:
  std::filesystem::path root_;
};

} // namespace portguard::win32
