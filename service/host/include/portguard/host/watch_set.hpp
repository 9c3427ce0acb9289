#pragma once
// Every change notification the guard's loop waits on, armed together: the TCP/IP and DNS
// parameter keys, Group Policy (HKLM\SOFTWARE\Policies, or HKLM\SOFTWARE until Policies exists)
// and the policy file's directory. Contract (watch.hpp): each watch is armed before the first read
// of what it watches, and re-armed (by `signalled`) before the pass re-reads it.
#include "portguard/adapters/watch.hpp"

#include <spdlog/logger.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace portguard::win32 {

class WatchSet {
public:
  /// What woke the loop up.
  enum class Signal { stop, recheck, registry, policy_dir, group_policy };

  /// Arms every watch; a key or directory that does not exist yet is logged (keys are retried by
  /// `retry_missing`, the directory only by the periodic check).
  WatchSet(const std::filesystem::path& policy_dir, spdlog::logger& log);

  /// The handles to wait on: `stop` first, then `recheck` (when not null) and every armed watch.
  /// `signalled` reads indices into the last list returned.
  const std::vector<HANDLE>& handles(HANDLE stop, HANDLE recheck);

  /// The source of handle `index` of the last `handles` list. A watch that fired is re-armed
  /// before this returns (watch before you read); Group Policy's parent watch, once fired, is
  /// replaced by the Policies watch.
  Signal signalled(std::size_t index);

  /// Watches the keys that did not exist until now (DNS installed, a key our own repair created,
  /// Policies created by the Group Policy client). A change between a key's creation and this
  /// call is caught by the next pass or the timer.
  void retry_missing();

private:
  spdlog::logger& log_;
  std::vector<RegistryWatch> registry_;
  std::vector<std::wstring> unwatched_;    // keys that do not exist (yet): retried after every pass
  std::optional<RegistryWatch> group_policy_;
  bool group_policy_is_parent_ = false;    // HKLM\SOFTWARE, watched until Policies exists
  std::optional<DirectoryWatch> policy_dir_;
  // The layout of the last `handles` list.
  std::vector<HANDLE> handles_;
  std::size_t recheck_index_ = 0;
  std::size_t registry_first_ = 0;
  std::size_t policy_index_ = 0;
  std::size_t gpo_index_ = 0;
  bool has_recheck_ = false;
};

} // namespace portguard::win32
