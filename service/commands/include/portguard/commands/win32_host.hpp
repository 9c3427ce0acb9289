#pragma once
// The Host of the Windows build (cli/host.hpp): the live machine behind the Win32 adapters. main()
// builds one; the Windows-only commands reach its registry, data folder and LiveHost through
// win32_host(io). Nothing is read before a command asks: `--help` of a command that does not show
// the policy default never touches the registry.
#include "portguard/commands/command.hpp"
#include "portguard/commands/host.hpp"
#include "portguard/adapters/data_layout.hpp"
#include "portguard/adapters/live_host.hpp"
#include "portguard/adapters/registry_store.hpp"

#include <memory>
#include <optional>

namespace portguard::win32 {

class Win32Host final : public cli::Host {
public:
  std::string default_policy_file() override;
  std::string services_file() override;
  std::string policy_writers(const std::filesystem::path& policy_file) override;
  std::optional<config::GroupPolicy> machine_group_policy() override;
  bool live() const override { return true; }
  Assessment assess(const config::Policy& policy, ServiceDetail detail) override;
  BindOutcome try_exclusive_bind(Protocol protocol, Port port) override;

  /// The one registry adapter of this process.
  Win32RegistryStore& registry() noexcept { return registry_; }
  /// The installed data folder (DataLayout::installed), read on first use. Throws on a bad DataDir.
  const DataLayout& layout();
  /// The adapters over layout(), built on first use (so `check` can turn a bad DataDir into UNKNOWN
  /// inside its own try). Throws like layout().
  LiveHost& live_host();

private:
  Win32RegistryStore registry_;
  std::optional<DataLayout> layout_;
  std::unique_ptr<LiveHost> live_;
};

/// The Win32Host of a Windows build's commands. main() always injects a Win32Host on Windows, so
/// this is a checked downcast in name only: the Windows-only commands are never run with another.
Win32Host& win32_host(cli::Io io);

} // namespace portguard::win32
