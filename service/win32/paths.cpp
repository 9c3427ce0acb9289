#include "win32/paths.hpp"

#include "win32/win32_error.hpp"

#include <shlobj.h>
#include <knownfolders.h>

namespace portguard::win32 {
namespace {

std::filesystem::path known_folder(REFKNOWNFOLDERID id, const char* name) {
  PWSTR path = nullptr;
  const HRESULT hr = ::SHGetKnownFolderPath(id, KF_FLAG_DEFAULT, nullptr, &path);
  // The buffer must be freed with CoTaskMemFree even on failure.
  struct Free {
    PWSTR p;
    ~Free() { ::CoTaskMemFree(p); }
  } guard{path};
  if (FAILED(hr)) throw Win32Error(static_cast<DWORD>(hr), "SHGetKnownFolderPath", name);
  return std::filesystem::path(path);
}

} // namespace

std::filesystem::path data_dir() { return known_folder(FOLDERID_ProgramData, "ProgramData") / L"PortGuard"; }
std::filesystem::path policy_file() { return data_dir() / L"policy.toml"; }
std::filesystem::path state_dir() { return data_dir() / L"state"; }
std::filesystem::path backups_dir() { return data_dir() / L"backups"; }
std::filesystem::path logs_dir() { return data_dir() / L"logs"; }
std::filesystem::path reservation_ledger_file() { return state_dir() / L"created-reservations.json"; }
std::filesystem::path services_file() {
  return known_folder(FOLDERID_System, "System") / L"drivers" / L"etc" / L"services";
}

} // namespace portguard::win32
