#include "portguard/adapters/policy_acl.hpp"

#include "portguard/adapters/unique_handle.hpp"
#include "portguard/adapters/win32_error.hpp"

#include <aclapi.h>
#include <sddl.h>

namespace portguard::win32 {
namespace {

std::string account_name(PSID sid) {
  wchar_t name[256], domain[256];
  DWORD name_len = 256, domain_len = 256;
  SID_NAME_USE use;
  if (::LookupAccountSidW(nullptr, sid, name, &name_len, domain, &domain_len, &use)) {
    std::wstring full = domain_len > 0 && domain[0] != L'\0' ? std::wstring(domain) + L"\\" + name : std::wstring(name);
    return narrow(full);
  }
  wchar_t* text = nullptr;
  if (::ConvertSidToStringSidW(sid, &text)) {
    unique_hlocal owner(text);
    return narrow(text);
  }
  return "an unknown account";
}

bool is_well_known(PSID sid, WELL_KNOWN_SID_TYPE type) { return ::IsWellKnownSid(sid, type) != FALSE; }

bool is_trusted_installer(PSID sid) {
  // NT SERVICE\TrustedInstaller: S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464
  PSID ti = nullptr;
  if (!::ConvertStringSidToSidW(L"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464", &ti)) return false;
  unique_hlocal owner(ti);
  return ::EqualSid(sid, ti) != FALSE;
}

std::string rights(ACCESS_MASK m, bool directory) {
  std::string out;
  auto add = [&](const char* what) { out += (out.empty() ? "" : ", ") + std::string(what); };
  if (m & (GENERIC_ALL)) add("full control");
  if (m & (GENERIC_WRITE | FILE_WRITE_DATA)) add(directory ? "create files" : "write data");
  if (m & FILE_APPEND_DATA) add(directory ? "create folders" : "append data");
  if (directory && (m & FILE_DELETE_CHILD)) add("delete files");
  if (m & WRITE_DAC) add("change permissions");
  if (m & WRITE_OWNER) add("take ownership");
  return out;
}

} // namespace

std::vector<std::string> unsafe_writers(const std::filesystem::path& path) {
  PSID owner = nullptr;
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  const DWORD status = ::GetNamedSecurityInfoW(path.wstring().c_str(), SE_FILE_OBJECT,
                                               OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, nullptr, &dacl,
                                               nullptr, &sd);
  check_status(static_cast<LSTATUS>(status), "GetNamedSecurityInfoW", path.string());
  unique_hlocal sd_owner(sd);
  const bool directory = std::filesystem::is_directory(path);
  std::vector<std::string> out;
  if (dacl == nullptr) {
    out.push_back("Everyone (no access control list at all) on " + path.string());
    return out;
  }
  ACL_SIZE_INFORMATION info{};
  if (!::GetAclInformation(dacl, &info, sizeof info, AclSizeInformation)) throw_last_error("GetAclInformation", path.string());
  ACCESS_MASK dangerous = GENERIC_ALL | GENERIC_WRITE | FILE_WRITE_DATA | FILE_APPEND_DATA | WRITE_DAC | WRITE_OWNER;
  if (directory) dangerous |= FILE_DELETE_CHILD;
  for (DWORD i = 0; i < info.AceCount; ++i) {
    void* raw = nullptr;
    if (!::GetAce(dacl, i, &raw)) throw_last_error("GetAce", path.string());
    const auto* header = static_cast<const ACE_HEADER*>(raw);
    if (header->AceType != ACCESS_ALLOWED_ACE_TYPE) continue;
    if (header->AceFlags & INHERIT_ONLY_ACE) continue;  // applies to children only
    const auto* ace = static_cast<const ACCESS_ALLOWED_ACE*>(raw);
    const ACCESS_MASK granted = ace->Mask & dangerous;
    if (granted == 0) continue;
    PSID sid = const_cast<DWORD*>(&ace->SidStart);
    if (is_well_known(sid, WinLocalSystemSid) || is_well_known(sid, WinBuiltinAdministratorsSid) || is_trusted_installer(sid)) continue;
    if (owner != nullptr && ::EqualSid(sid, owner)) continue;
    out.push_back(account_name(sid) + " (" + rights(granted, directory) + ") on " + path.string());
  }
  return out;
}

void secure_data_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Win32Error(static_cast<DWORD>(ec.value()), "CreateDirectoryW", dir.string());
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(data_dir_sddl, SDDL_REVISION_1, &sd, nullptr))
    throw_last_error("ConvertStringSecurityDescriptorToSecurityDescriptorW");
  unique_hlocal sd_owner(sd);
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = nullptr;
  if (!::GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) throw_last_error("GetSecurityDescriptorDacl");
  std::wstring path = dir.wstring();
  // PROTECTED: stop inheriting %ProgramData%'s entries; SetNamedSecurityInfoW then propagates the
  // inheritable ones to the existing children (their own explicit entries stay).
  const DWORD status = ::SetNamedSecurityInfoW(path.data(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                               nullptr, nullptr, dacl, nullptr);
  check_status(static_cast<LSTATUS>(status), "SetNamedSecurityInfoW", dir.string());
}

std::string policy_write_problems(const std::filesystem::path& policy_file) {
  std::vector<std::string> all;
  if (std::filesystem::exists(policy_file)) all = unsafe_writers(policy_file);
  const auto dir = policy_file.parent_path();
  if (!dir.empty() && std::filesystem::exists(dir)) {
    for (auto& w : unsafe_writers(dir)) all.push_back(std::move(w));
  }
  std::string out;
  for (const auto& w : all) out += (out.empty() ? "" : "; ") + w;
  return out;
}

} // namespace portguard::win32
