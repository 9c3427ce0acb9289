#include "portguard/commands/host.hpp"

#include "portguard/core/error.hpp"

namespace portguard::cli {

// Callers ask live() first (plan and why require --snapshot otherwise): reaching these is a bug.
Assessment OfflineHost::assess(const config::Policy&, ServiceDetail) {
  throw Error("this build cannot read a live host; use --snapshot");
}

BindOutcome OfflineHost::try_exclusive_bind(Protocol, Port) {
  throw Error("this build cannot probe a live port; use --snapshot");
}

} // namespace portguard::cli
