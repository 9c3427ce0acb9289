#pragma once
// Where PortGuard keeps its files on a Windows host: %ProgramData%\PortGuard\ as the installer
// recorded it in HKLM\SOFTWARE\PortGuard\DataDir, else the shell's common application data folder
// (SHGetFolderPathW) — never the environment, which a caller controls.
#include <filesystem>
#include <string>
#include <string_view>

namespace portguard::win32 {

/// The folder the installer created (MSI: [CommonAppDataFolder]PortGuard\; install-service: the
/// same folder). Only administrators can write this key.
inline constexpr std::string_view data_dir_key = "HKLM\\SOFTWARE\\PortGuard";
inline constexpr std::string_view data_dir_value = "DataDir";

/// C:\ProgramData\PortGuard. Read once per process. Throws portguard::Error when DataDir is set
/// but not an absolute local path, Win32Error when the shell cannot say.
std::filesystem::path data_dir();
/// A command's `--data-dir` option (UTF-8) when given, else data_dir().
std::filesystem::path data_dir_or(const std::string& option);
/// The shell's answer alone, ignoring DataDir (what install-service records).
std::filesystem::path shell_data_dir();
std::filesystem::path policy_file();     // ...\policy.toml
std::filesystem::path state_dir();       // ...\state (last known good, created-reservations.json)
std::filesystem::path backups_dir();     // ...\backups
std::filesystem::path logs_dir();        // ...\logs
std::filesystem::path reservation_ledger_file();   // ...\state\created-reservations.json
/// %SystemRoot%\System32\drivers\etc\services (for service-name ports in the policy).
std::filesystem::path services_file();

} // namespace portguard::win32
