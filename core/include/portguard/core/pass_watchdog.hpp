#pragma once
// A watchdog over the guard's passes. A pass normally takes milliseconds; one that runs past
// `limit` is stuck in a call that does not return, and while it is stuck nothing is checked or
// repaired. The watchdog cannot unstick it (no call can be cancelled safely), but it says so once,
// naming the step, so the log shows what hung instead of a silence; and it says when the pass ends.
#include "portguard/core/call_trace.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace portguard {

/// The watchdog's judgement, without the thread: what to say about the trace at a given time.
class StuckPassDetector {
public:
  explicit StuckPassDetector(std::chrono::milliseconds limit) : limit_(limit) {}
  /// The line to report, if any: at most one "stuck" line per pass, and one "ended" line for a
  /// pass that was reported stuck.
  std::optional<std::string> look(const CallTrace::Now& seen, CallTrace::clock::time_point now);

private:
  std::chrono::milliseconds limit_;
  std::optional<CallTrace::clock::time_point> stuck_pass_;  // pass_since of the pass reported stuck
};

/// StuckPassDetector on a thread of its own, looking every `poll`.
class PassWatchdog {
public:
  /// `report` is called from the watchdog's own thread (it must be thread-safe: a logger is).
  PassWatchdog(const CallTrace& trace, std::chrono::milliseconds limit, std::function<void(const std::string&)> report,
               std::chrono::milliseconds poll = std::chrono::milliseconds(500));
  /// Stops the thread; waits at most one `poll` for it.
  ~PassWatchdog();
  PassWatchdog(const PassWatchdog&) = delete;
  PassWatchdog& operator=(const PassWatchdog&) = delete;

private:
  void run();

  const CallTrace& trace_;
  StuckPassDetector detector_;
  std::function<void(const std::string&)> report_;
  std::chrono::milliseconds poll_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once every other member is ready
};

} // namespace portguard
