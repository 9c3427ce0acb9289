#include "portguard/adapters/watch.hpp"

#include "portguard/adapters/win32_error.hpp"

namespace portguard::win32 {

std::optional<RegistryWatch> RegistryWatch::open(const std::wstring& hklm_subkey, Scope scope) {
  RegistryWatch w;
  w.path_ = hklm_subkey;
  w.scope_ = scope;
  const LSTATUS s = ::RegOpenKeyExW(HKEY_LOCAL_MACHINE, hklm_subkey.c_str(), 0, KEY_NOTIFY | KEY_WOW64_64KEY, w.key_.put());
  if (s == ERROR_FILE_NOT_FOUND) return std::nullopt;
  check_status(s, "RegOpenKeyExW", narrow(hklm_subkey));
  w.event_.reset(::CreateEventW(nullptr, FALSE, FALSE, nullptr));
  if (!w.event_) throw_last_error("CreateEventW");
  w.arm();
  return w;
}

void RegistryWatch::arm() {
  check_status(::RegNotifyChangeKeyValue(key_.get(), scope_ == Scope::subtree ? TRUE : FALSE, REG_NOTIFY_CHANGE_NAME | REG_NOTIFY_CHANGE_LAST_SET, event_.get(), TRUE),
               "RegNotifyChangeKeyValue", narrow(path_));
}

std::optional<DirectoryWatch> DirectoryWatch::open(const std::filesystem::path& directory) {
  if (!std::filesystem::is_directory(directory)) return std::nullopt;
  DirectoryWatch w;
  w.dir_ = directory;
  w.handle_.reset(::FindFirstChangeNotificationW(directory.wstring().c_str(), FALSE,
                                                 FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_SIZE | FILE_NOTIFY_CHANGE_LAST_WRITE |
                                                     FILE_NOTIFY_CHANGE_ATTRIBUTES | FILE_NOTIFY_CHANGE_SECURITY));
  if (!w.handle_) throw_last_error("FindFirstChangeNotificationW", directory.string());
  return w;
}

void DirectoryWatch::rearm() {
  if (!::FindNextChangeNotification(handle_.get())) throw_last_error("FindNextChangeNotification", dir_.string());
}

} // namespace portguard::win32
