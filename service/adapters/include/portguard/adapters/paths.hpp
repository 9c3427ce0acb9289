#pragma once
// System paths PortGuard reads on a Windows host: where the installer records the data folder, the
// shell's default for it (SHGetFolderPathW) and the system's services file. The files under the
// data folder are named by DataLayout (data_layout.hpp).
#include <filesystem>
#include <string>
#include <string_view>

namespace portguard::win32 {

/// The folder the installer created (MSI: [CommonAppDataFolder]PortGuard\; install-service: the
/// same folder). Only administrators can write this key.
inline constexpr std::string_view data_dir_key = "HKLM\\SOFTWARE\\PortGuard";
inline constexpr std::string_view data_dir_value = "DataDir";

/// The shell's answer alone, ignoring DataDir (what install-service records).
std::filesystem::path shell_data_dir();
/// %SystemRoot%\System32\drivers\etc\services (for service-name ports in the policy).
std::filesystem::path services_file();

} // namespace portguard::win32
