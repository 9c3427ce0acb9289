#pragma once
// Change notifications the watch loop waits on. Contract: arm BEFORE reading what is watched, and
// re-arm BEFORE re-reading after a notification — otherwise a change between the read and the
// arming is missed until the periodic timer.
#include "portguard/adapters/unique_handle.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace portguard::win32 {

/// RegNotifyChangeKeyValue on one HKLM key (values set or deleted, subkeys added or removed; the
/// subkeys' values too when `subtree`). Each watch owns an auto-reset event. Note: Windows does not
/// signal an identical rewrite of a value — nothing changed, so there is nothing to repair either.
class RegistryWatch {
public:
  enum class Scope : bool { key, subtree };
  /// nullopt when the key does not exist (the periodic timer covers it until it appears).
  static std::optional<RegistryWatch> open(const std::wstring& hklm_subkey, Scope scope = Scope::key);
  /// Registers (again) for the next change. Throws Win32Error.
  void arm();
  HANDLE event() const noexcept { return event_.get(); }
  const std::wstring& key_path() const noexcept { return path_; }

private:
  RegistryWatch() = default;
  std::wstring path_;
  Scope scope_ = Scope::key;
  unique_hkey key_;
  unique_handle_t event_;
};

/// FindFirstChangeNotificationW on the policy directory: file names, size, last write, attributes
/// and security (an ACL or mode change must trigger the write-permission check).
class DirectoryWatch {
public:
  /// nullopt when the directory does not exist.
  static std::optional<DirectoryWatch> open(const std::filesystem::path& directory);
  void rearm();
  HANDLE event() const noexcept { return handle_.get(); }

private:
  DirectoryWatch() = default;
  std::filesystem::path dir_;
  unique_find_change handle_;
};

} // namespace portguard::win32
