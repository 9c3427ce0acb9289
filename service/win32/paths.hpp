#pragma once
// Where PortGuard keeps its files on a Windows host: %ProgramData%\PortGuard\ (the known folder,
// via SHGetKnownFolderPath, not the environment, which a caller controls).
#include <filesystem>

namespace portguard::win32 {

std::filesystem::path data_dir();        // C:\ProgramData\PortGuard
std::filesystem::path policy_file();     // ...\policy.toml
std::filesystem::path state_dir();       // ...\state (last known good, created-reservations.json)
std::filesystem::path backups_dir();     // ...\backups
std::filesystem::path logs_dir();        // ...\logs
std::filesystem::path reservation_ledger_file();   // ...\state\created-reservations.json
/// %SystemRoot%\System32\drivers\etc\services (for service-name ports in the policy).
std::filesystem::path services_file();

} // namespace portguard::win32
