#pragma once
// Backups of every value PortGuard replaces, and the ledger of persistent reservations it created.
// Portable (std::filesystem): on Windows the directory is %ProgramData%\PortGuard\backups\.
//
// Layout: one JSON file per change, "<id>.json", written atomically (temporary file + rename) so a
// crash leaves either the old set of backups or the new one, never a torn file. Ids sort in time
// order ("20261126T190512.123Z-0001-reserved-ports"); only the newest `keep` backups are retained.
#include "portguard/core/ports.hpp"
#include "portguard/core/registry_value.hpp"
#include "portguard/core/target.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace portguard {

/// The dynamic port range before PortGuard restored it ([guard.dynamic_range], issue 16).
struct DynamicRangeBackup {
  std::string method;                     // "MaxUserPort", "MSFT_NetUDPSetting" or "MSFT_NetTCPSetting"
  Protocol protocol = Protocol::udp;      // the protocol whose range was restored (MaxUserPort: both)
  PortRange previous = PortRange::make(49152, 65535);

  friend bool operator==(const DynamicRangeBackup&, const DynamicRangeBackup&) = default;
};

/// The value of one mechanism before PortGuard changed it.
struct Backup {
  std::string id;                         // assigned by BackupStore::save
  std::string created_at;                 // ISO 8601 UTC, assigned by save
  Target target = Target::reserved_ports;
  std::optional<Protocol> protocol;       // persistent-reservation only
  std::string key;                        // registry targets: full key path
  std::string value;                      // registry targets: value name
  MultiStringValue previous;              // registry targets: decoded previous value (present=false: absent)
  std::optional<RawRegistryValue> previous_raw;  // registry targets: exact bytes, when the store offers them
  std::vector<PersistentReservation> previous_reservations;  // persistent-reservation target
  std::string reason;                     // "repair", "rollback of <id>", ...
  /// Set for a dynamic-range backup ("target": "dynamic-range" in the file; `target` is then
  /// meaningless). MaxUserPort backups also fill key, value, previous.present and previous_raw
  /// (the exact REG_DWORD bytes, or absent).
  std::optional<DynamicRangeBackup> dynamic_range;

  friend bool operator==(const Backup&, const Backup&) = default;
};

std::string backup_to_json(const Backup& backup);
/// Throws SnapshotError-like InputError naming `source` when the document is malformed.
Backup backup_from_json(std::string_view text, const std::string& source);

class BackupStore {
public:
  static constexpr std::size_t default_keep = 50;

  /// The directory is created on first save.
  BackupStore(std::filesystem::path directory, Clock& clock, std::size_t keep = default_keep);

  /// Writes the backup (atomically), then prunes to the newest `keep`. Returns the new id.
  std::string save(Backup backup);
  /// Newest first. Files that cannot be read are skipped and named in `problems` when given.
  std::vector<Backup> list(std::vector<std::string>* problems = nullptr) const;
  /// nullopt: no backup with this id. Throws InputError when the file exists but is broken.
  std::optional<Backup> load(const std::string& id) const;

  const std::filesystem::path& directory() const noexcept { return directory_; }

private:
  std::filesystem::path directory_;
  Clock& clock_;
  std::size_t keep_;
};

/// Persistent reservations PortGuard created (protocol, start, count), kept in the state directory
/// ("created-reservations.json") so `rollback` and uninstall remove exactly those blocks: the API
/// deletes only on an exact start/count match, and tokens change across reboots.
class ReservationLedger {
public:
  explicit ReservationLedger(std::filesystem::path file);
  /// Empty when the file does not exist; throws InputError when it is broken.
  std::vector<PersistentReservation> load() const;
  void add(const PersistentReservation& created);
  /// Forgets a block (after it was deleted). No-op when not recorded.
  void erase(Protocol protocol, Port start, std::uint16_t count);
  bool contains(Protocol protocol, Port start, std::uint16_t count) const;
  const std::filesystem::path& file() const noexcept { return file_; }

private:
  void store(const std::vector<PersistentReservation>& all) const;
  std::filesystem::path file_;
};

/// Whether write_file_atomically may create the folder the file goes into. The service's own
/// folders (state, backups) are created on first use; a file the user named (snapshot -o) goes only
/// into a folder that exists, so a mistyped path is an error instead of a new folder tree.
enum class ParentFolder { create, must_exist };

/// Writes `contents` to `file` atomically: a temporary file in the same directory, flushed, then
/// renamed over the target. Throws Error naming the file when it cannot be written (with
/// ParentFolder::must_exist: when its folder does not exist).
void write_file_atomically(const std::filesystem::path& file, std::string_view contents, ParentFolder parent);

/// "2026-11-26T19:05:12.123Z"
std::string iso8601_utc(std::chrono::system_clock::time_point t);

} // namespace portguard
