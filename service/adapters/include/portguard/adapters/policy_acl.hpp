#pragma once
// The policy steers a SYSTEM service: only SYSTEM, Administrators (and TrustedInstaller) and the
// file's owner may be able to change it. This check runs on every policy (re)load, for the file and
// for its directory (whoever can create files there can replace the policy).
#include <filesystem>
#include <string>
#include <vector>

namespace portguard::win32 {

/// One account that can write `path` although it should not: "Everyone (write data, change
/// permissions) on C:\ProgramData\PortGuard\policy.toml".
/// Empty: the path is safe. Throws Win32Error when the security descriptor cannot be read.
/// Conservative by design: every allow ACE that applies to the object counts, even if a deny
/// ACE would win for some members; a NULL DACL counts as "Everyone".
std::vector<std::string> unsafe_writers(const std::filesystem::path& path);

/// unsafe_writers of the file and of its directory, joined for an event: "" when safe.
std::string policy_write_problems(const std::filesystem::path& policy_file);

/// The data folder's access control: SYSTEM and Administrators full control, Users read, not
/// inherited from %ProgramData%, inherited by everything below. The MSI applies the same string
/// (DataSddl in installer/portguard.wxs; tests/installer/tables.sh keeps the two equal).
inline constexpr const wchar_t* data_dir_sddl = L"D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FRFX;;;BU)";

/// Applies data_dir_sddl to `dir` (created when missing); Windows passes the inheritable entries on
/// to what the folder holds. Needed where the MSI cannot: Windows Installer 4.5 and earlier (Windows
/// Server 2003 and 2008) ignore MsiLockPermissionsEx, so the folder would keep %ProgramData%'s
/// "Users may create files" and the guard would refuse its own policy (3007). Throws Win32Error.
void secure_data_dir(const std::filesystem::path& dir);

} // namespace portguard::win32
