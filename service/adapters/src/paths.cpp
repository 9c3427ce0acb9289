#include "portguard/adapters/paths.hpp"

#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <shlobj.h>

namespace portguard::win32 {
namespace {

/// The shell's folder for data shared by all users: C:\ProgramData on Vista and later, "All
/// Users\Application Data" (localised) on 2003 — the folder the MSI's CommonAppDataFolder names.
/// SHGetFolderPathW exists on every supported version, unlike SHGetKnownFolderPath (Vista+).
/// shell32 is loaded only here: with its dependencies it is a third of portguard.exe's start-up
/// under Wine, and the installed service never needs it (DataLayout::installed reads the recorded folder).
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

} // namespace

std::filesystem::path shell_data_dir() { return common_app_data() / L"PortGuard"; }
std::filesystem::path services_file() {
  wchar_t system[MAX_PATH] = {};
  const UINT n = ::GetSystemDirectoryW(system, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) throw_last_error("GetSystemDirectoryW");
  return std::filesystem::path(system) / L"drivers" / L"etc" / L"services";
}

} // namespace portguard::win32
