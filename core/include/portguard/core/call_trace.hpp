#pragma once
// Which step a guard pass is in, readable from another thread: the service's watchdog names the
// call a pass that does not end is stuck in (a hung SCM, IP Helper, WMI or registry call would
// otherwise stop protection without a word in the log).
#include <atomic>
#include <chrono>

namespace portguard {

class CallTrace {
public:
  using clock = std::chrono::steady_clock;

  /// Marks a step for its lifetime; steps nest, and the innermost one is current. `name` must
  /// have static storage (a string literal): a reader may see it after the Step is gone. A null
  /// trace makes a Step do nothing, so adapters built without a watchdog need no special case.
  class Step {
  public:
    Step(CallTrace* trace, const char* name) noexcept : trace_(trace), outer_(trace ? trace->enter(name) : nullptr) {}
    ~Step() {
      if (trace_) trace_->enter(outer_);
    }
    Step(const Step&) = delete;
    Step& operator=(const Step&) = delete;

  private:
    CallTrace* trace_;
    const char* outer_;
  };

  struct Now {
    bool in_pass = false;
    clock::time_point pass_since;   // when the pass began
    const char* step = nullptr;     // innermost step, or null between steps
    clock::time_point step_since;   // when that step (or the return to it) began
  };

  /// The pass thread calls these around every pass.
  void begin_pass() noexcept {
    pass_since_.store(ticks(), std::memory_order_relaxed);
    in_pass_.store(true, std::memory_order_release);
  }
  void end_pass() noexcept { in_pass_.store(false, std::memory_order_release); }

  /// A consistent-enough view for a log line: the fields are read one by one.
  Now now() const noexcept {
    Now n;
    n.in_pass = in_pass_.load(std::memory_order_acquire);
    n.pass_since = clock::time_point(clock::duration(pass_since_.load(std::memory_order_relaxed)));
    n.step = step_.load(std::memory_order_acquire);
    n.step_since = clock::time_point(clock::duration(step_since_.load(std::memory_order_relaxed)));
    return n;
  }

private:
  static clock::rep ticks() noexcept { return clock::now().time_since_epoch().count(); }
  const char* enter(const char* name) noexcept {
    step_since_.store(ticks(), std::memory_order_relaxed);
    return step_.exchange(name, std::memory_order_acq_rel);
  }

  std::atomic<bool> in_pass_{false};
  std::atomic<clock::rep> pass_since_{0};
  std::atomic<const char*> step_{nullptr};
  std::atomic<clock::rep> step_since_{0};
};

} // namespace portguard
