#pragma once
// The catalog of well-known Windows services and the fixed ports they bind (config/catalog.toml).
// The repository's catalog is compiled into the binary; a catalog.toml next to the policy file
// replaces it as a whole (docs/policy.md, "The catalog").
#include "portguard/core/port_range.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace portguard::config {

/// A registry value that, when present, replaces a catalog entry's default port(s) for one
/// protocol: SQL Server instance TcpPort, RDP PortNumber, the WDS UDP port range.
struct CatalogConfiguredPort {
  std::string service;     // service the value configures; may contain '*' ("MSSQL*")
  std::string key;         // full registry key; may contain one '*' matching any subkey (instances)
  std::string value;       // "TcpPort"; with end_value: the value holding the range start
  std::string end_value;   // optional: the value holding the range end ("UdpEndPort")
  Protocol protocol = Protocol::tcp;

  friend bool operator==(const CatalogConfiguredPort&, const CatalogConfiguredPort&) = default;
};

struct CatalogEntry {
  std::string service;     // Windows service key name, e.g. "IAS"
  std::string display;     // "Network Policy Server (IAS)"
  std::string reason;      // why the ports are needed, shown in plans: "RADIUS authentication and accounting"
  std::string reference;   // where the ports are documented: "KB 832017" or a URL
  std::vector<PortRange> udp;
  std::vector<PortRange> tcp;
  std::vector<CatalogConfiguredPort> configured;
  std::string source;      // "catalog.toml:12" or "<built-in catalog>:12"

  friend bool operator==(const CatalogEntry&, const CatalogEntry&) = default;
};

struct Catalog {
  std::string source;      // the file it came from, or "<built-in catalog>"
  std::string text;        // the TOML as loaded (UTF-8): kept so a last known good re-validates identically
  std::vector<CatalogEntry> entries;

  /// Case-insensitive, like Windows service key names. nullptr when absent.
  const CatalogEntry* find(std::string_view service) const noexcept;

  friend bool operator==(const Catalog&, const Catalog&) = default;
};

/// The catalog compiled into this binary (config/catalog.toml at build time).
const Catalog& builtin_catalog();
/// Name used as the built-in catalog's source in diagnostics and provenance.
inline constexpr std::string_view builtin_catalog_source = "<built-in catalog>";

/// Parses and validates catalog text (same encodings as a policy). Throws PolicyError.
Catalog load_catalog_text(std::string_view bytes, const std::string& source);
/// Reads a catalog file. Throws PolicyReadError when unreadable, PolicyError when invalid.
Catalog load_catalog(const std::filesystem::path& file);

/// True when `name` matches `pattern` case-insensitively, '*' matching any run of characters.
bool glob_match(std::string_view pattern, std::string_view name) noexcept;

} // namespace portguard::config
