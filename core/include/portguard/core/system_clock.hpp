#pragma once
// The real clock behind the core's Clock interface (ports.hpp). Portable: std::chrono only. Tests
// use testing::FakeClock (tests/support/fakes.hpp) instead.
#include "portguard/core/ports.hpp"

#include <chrono>

namespace portguard {

/// Wall time for timestamps (events, backups, metrics) and steady time for intervals (pass
/// durations, retry back-off), straight from std::chrono.
class SystemClock final : public Clock {
public:
  std::chrono::system_clock::time_point now() override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point steady_now() override { return std::chrono::steady_clock::now(); }
};

} // namespace portguard
