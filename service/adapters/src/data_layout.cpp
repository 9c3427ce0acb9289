#include "portguard/adapters/data_layout.hpp"

#include "portguard/core/error.hpp"
#include "portguard/core/ports.hpp"
#include "portguard/adapters/paths.hpp"
#include "portguard/adapters/win32_error.hpp"

namespace portguard::win32 {
namespace {

/// "C:\..." only: a relative, drive-relative or network path would move the policy and the
/// backups somewhere the installer's ACLs do not protect.
bool absolute_local(const std::wstring& p) {
  return p.size() >= 3 && ((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z')) && p[1] == L':' &&
         (p[2] == L'\\' || p[2] == L'/');
}

std::filesystem::path read_installed_root(RegistryStore& registry) {
  if (const auto recorded = registry.read_string(data_dir_key, data_dir_value); recorded && !recorded->empty()) {
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
}

} // namespace

DataLayout DataLayout::installed(RegistryStore& registry) {
  // Read once per process (a failed read is retried by the next call, as before).
  static const std::filesystem::path root = read_installed_root(registry);
  return DataLayout(root);
}

DataLayout DataLayout::from_option(const std::string& option, RegistryStore& registry) {
  return option.empty() ? installed(registry) : DataLayout(std::filesystem::path(widen(option)));
}

} // namespace portguard::win32
