#pragma once
// The Windows `services` file (%SystemRoot%\System32\drivers\etc\services), through which a policy
// may name ports ("radius") instead of numbering them. Same format as /etc/services:
//   <name> <port>/<protocol> [aliases...] [# comment]
#include "portguard/core/port_range.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portguard::config {

struct ServicePort {
  std::string name;                // canonical name as written in the file
  std::vector<std::string> aliases;
  Port port = 0;
  Protocol protocol = Protocol::tcp;
  std::uint32_t line = 0;
};

/// Resolves service names. Lines it does not understand (other protocols such as ddp, garbage)
/// are skipped: the file belongs to Windows, not to PortGuard.
struct ServiceNameResolver {
  std::string source;              // file name, for messages
  std::string text;                // the file's content (UTF-8): kept for last known good
  std::vector<ServicePort> entries;

  static ServiceNameResolver parse(std::string_view text, std::string source);
  /// Throws PolicyReadError when the file cannot be read.
  static ServiceNameResolver read(const std::filesystem::path& file);

  /// Every entry whose name or alias equals `name` (case-insensitive), in file order.
  std::vector<ServicePort> lookup(std::string_view name) const;
  /// The closest known name for a "did you mean" hint, if any is close enough.
  std::optional<std::string> suggest(std::string_view name) const;
};

/// %SystemRoot%\System32\drivers\etc\services on Windows, /etc/services elsewhere.
std::filesystem::path default_services_file();

} // namespace portguard::config
