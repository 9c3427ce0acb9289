#include "portguard/core/pass_watchdog.hpp"

#include <cstdio>

namespace portguard {
namespace {

std::string seconds(CallTrace::clock::duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
  return text;
}

} // namespace

PassWatchdog::PassWatchdog(const CallTrace& trace, std::chrono::milliseconds limit, std::function<void(const std::string&)> report,
                           std::chrono::milliseconds poll)
    : trace_(trace), detector_(limit), report_(std::move(report)), poll_(poll), thread_([this] { run(); }) {}

PassWatchdog::~PassWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::optional<std::string> StuckPassDetector::look(const CallTrace::Now& seen, CallTrace::clock::time_point now) {
  if (stuck_pass_ && (!seen.in_pass || seen.pass_since != *stuck_pass_)) {
    const auto took = now - *stuck_pass_;
    stuck_pass_.reset();
    return "the pass reported stuck has ended, after about " + seconds(took) + "; checking and repairing go on";
  }
  if (!seen.in_pass || stuck_pass_ || now - seen.pass_since < limit_) return std::nullopt;
  stuck_pass_ = seen.pass_since;
  const std::string where = seen.step != nullptr ? std::string("in ") + seen.step + " for " + seconds(now - seen.step_since)
                                                 : std::string("between steps");
  return "a pass has been running for " + seconds(now - seen.pass_since) + ", " + where +
         "; nothing is checked or repaired until it returns (if it never does, restart the PortGuard service)";
}

void PassWatchdog::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, poll_, [this] { return stopping_; })) {
    if (auto line = detector_.look(trace_.now(), CallTrace::clock::now())) report_(*line);
  }
}

} // namespace portguard
