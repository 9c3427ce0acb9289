#include "win32/paths.hpp"

#include "portguard/core/error.hpp"
#include "win32/registry_store.hpp"
#include "win32/unique_handle.hpp"
#include "win32/win32_error.hpp"

#include <shlobj.h>

namespace portguard::win32 {
namespace {

/// The shell's folder for data shared by all users: C:\ProgramData on Vista and later, "All
/// Users\Application Data" (localised) on 2003 — the folder the MSI's CommonAppDataFolder names.
/// SHGetFolderPathW exists on every supported version, unlike SHGetKnownFolderPath (Vista+).
/// shell32 is loaded only here: with its dependencies it is a third of portguard.exe's start-up
/// under Wine, and the installed service never needs it (data_dir() reads the recorded folder).
std::filesystem::path common_app_data() {
  // shell32 is a KnownDLL: loaded from System32 whatever the search path says.
  unique_hmodule shell(::LoadLibraryW(L"shell32.dll"));
  if (!shell) throw_last_error("LoadLibraryW", "shell32.dll");
  using Fn = HRESULT(WINAPI*)(HWND, int, HANDLE, DWORD, LPWSTR);
  const auto get_folder = reinterpret_cast<Fn>(reinterpret_cast<void*>(::GetProcAddress(shell.get(), "SHGetFolderPathW")));
  if (get_folder == nullptr) throw_last_error("GetProcAddress", "SHGetFolderPathW");
  wchar_t path[MAX_PATH] = {};
  const HRESULT hr = get_folder(nullptr, CSIDL_COMMON_APPDATA, nullptr, SHGFP_TYPE_CURRENT, path);
  if (FAILED(hr)) throw Win32Error(static_cast<DWORD>(hr), "SHGetFolderPathW", "CSIDL_COMMON_APPDATA");
  return std::filesystem::path(path);
}

/// "C:\..." only: a relative, drive-relative or network path would move the policy and the
/// backups somewhere the installer's ACLs do not protect.
bool absolute_local(const std::wstring& p) {
  return p.size() >= 3 && ((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z')) && p[1] == L':' &&
         (p[2] == L'\\' || p[2] == L'/');
}

} // namespace

std::filesystem::path data_dir() {
  // Read once per process: the service and every command agree for their whole run.
  static const std::filesystem::path dir = [] {
    if (const auto recorded = Win32RegistryStore().read_string(data_dir_key, data_dir_value); recorded && !recorded->empty()) {
      std::wstring text = widen(*recorded);
      while (text.size() > 3 && (text.back() == L'\\' || text.back() == L'/')) text.pop_back();   // MSI writes "...\PortGuard\"
      if (!absolute_local(text)) {
        throw Error(std::string(data_dir_key) + "\\" + std::string(data_dir_value) + " is \"" + *recorded +
                    "\", not an absolute local path such as C:\\ProgramData\\PortGuard: correct the value, or delete it to use "
                    "the default folder");
      }
      return std::filesystem::path(text);
    }
    return shell_data_dir();
  }();
  return dir;
}

std::filesystem::path data_dir_or(const std::string& option) {
  return option.empty() ? data_dir() : std::filesystem::path(widen(option));
}

std::filesystem::path shell_data_dir() { return common_app_data() / L"PortGuard"; }
std::filesystem::path policy_file() { return data_dir() / L"policy.toml"; }
std::filesystem::path state_dir() { return data_dir() / L"state"; }
std::filesystem::path backups_dir() { return data_dir() / L"backups"; }
std::filesystem::path logs_dir() { return data_dir() / L"logs"; }
std::filesystem::path reservation_ledger_file() { return state_dir() / L"created-reservations.json"; }
std::filesystem::path services_file() {
  wchar_t system[MAX_PATH] = {};
  const UINT n = ::GetSystemDirectoryW(system, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) throw_last_error("GetSystemDirectoryW");
  return std::filesystem::path(system) / L"drivers" / L"etc" / L"services";
}

} // namespace portguard::win32
