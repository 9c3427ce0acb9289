#include "portguard/host/watch_set.hpp"

#include "portguard/adapters/win32_error.hpp"

namespace portguard::win32 {
namespace {

// Group Policy (HKLM\SOFTWARE\Policies\PortGuard): the whole Policies subtree is watched, so the
// PortGuard key is seen when the Group Policy client creates it. A notification is settled like
// a policy-file save: one reload a second after the last one, and a pass only when the merged
// policy changed (gpupdate rewrites every product's policies every 90 minutes). Where Policies
// itself does not exist yet (a bare Wine prefix), HKLM\SOFTWARE is watched for its creation.
constexpr wchar_t policies_key[] = L"SOFTWARE\\Policies";

} // namespace

WatchSet::WatchSet(const std::filesystem::path& policy_dir, spdlog::logger& log) : log_(log) {
  for (const wchar_t* key : {L"SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters", L"SYSTEM\\CurrentControlSet\\Services\\DNS\\Parameters"}) {
    if (auto w = RegistryWatch::open(key)) registry_.push_back(std::move(*w));
    else {
      unwatched_.emplace_back(key);
      log_.info("not watching HKLM\\{} yet (absent); retried after every pass", narrow(key));
    }
  }
  group_policy_ = RegistryWatch::open(policies_key, RegistryWatch::Scope::subtree);
  if (!group_policy_) {
    group_policy_ = RegistryWatch::open(L"SOFTWARE", RegistryWatch::Scope::key);
    group_policy_is_parent_ = group_policy_.has_value();
    log_.info("HKLM\\{} does not exist; watching HKLM\\SOFTWARE for its creation", narrow(policies_key));
  }
  policy_dir_ = DirectoryWatch::open(policy_dir);
  if (!policy_dir_) log_.warn("policy directory {} does not exist: policy changes are seen by the periodic check only",
                              policy_dir.string());
}

const std::vector<HANDLE>& WatchSet::handles(HANDLE stop, HANDLE recheck) {
  handles_.assign({stop});
  recheck_index_ = handles_.size();
  has_recheck_ = recheck != nullptr;
  if (has_recheck_) handles_.push_back(recheck);
  registry_first_ = handles_.size();
  for (const auto& w : registry_) handles_.push_back(w.event());
  policy_index_ = handles_.size();
  if (policy_dir_) handles_.push_back(policy_dir_->event());
  gpo_index_ = handles_.size();
  if (group_policy_) handles_.push_back(group_policy_->event());
  return handles_;
}

WatchSet::Signal WatchSet::signalled(std::size_t index) {
  if (index == 0) return Signal::stop;
  if (has_recheck_ && index == recheck_index_) return Signal::recheck;
  if (group_policy_ && index == gpo_index_) {
    group_policy_->arm();
    log_.debug("change notification: HKLM\\{}", narrow(group_policy_->key_path()));
    if (group_policy_is_parent_) retry_missing();  // Policies created: watch it from now on
    return Signal::group_policy;
  }
  if (index >= registry_first_ && index < policy_index_) {
    auto& w = registry_[index - registry_first_];
    w.arm();
    log_.debug("change notification: HKLM\\{}", narrow(w.key_path()));
    return Signal::registry;
  }
  policy_dir_->rearm();
  log_.debug("change notification: policy directory");
  return Signal::policy_dir;
}

void WatchSet::retry_missing() {
  if (!group_policy_ || group_policy_is_parent_) {
    if (auto w = RegistryWatch::open(policies_key, RegistryWatch::Scope::subtree)) {
      log_.info("now watching HKLM\\{}", narrow(policies_key));
      group_policy_ = std::move(w);
      group_policy_is_parent_ = false;
    }
  }
  for (auto it = unwatched_.begin(); it != unwatched_.end();) {
    if (auto w = RegistryWatch::open(*it)) {
      log_.info("now watching HKLM\\{}", narrow(*it));
      registry_.push_back(std::move(*w));
      it = unwatched_.erase(it);
    } else {
      ++it;
    }
  }
}

} // namespace portguard::win32
