// The guard's pass watchdog (core/pass_watchdog.hpp): a pass that does not end is named once,
// with the step it is stuck in, and its end is reported; a healthy pass says nothing.
#include "portguard/core/pass_watchdog.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <vector>

using namespace portguard;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {
CallTrace::Now in_pass(CallTrace::clock::time_point since, const char* step, CallTrace::clock::time_point step_since) {
  return {true, since, step, step_since};
}
} // namespace

TEST_CASE("a pass within the limit is never reported", "[watchdog]") {
  StuckPassDetector detector(10s);
  const auto t0 = CallTrace::clock::time_point(100s);
  CHECK_FALSE(detector.look(in_pass(t0, "the process list (CreateToolhelp32Snapshot)", t0), t0 + 9s));
  CHECK_FALSE(detector.look(CallTrace::Now{}, t0 + 20s));  // between passes
}

TEST_CASE("a stuck pass is reported once, naming its step, then its end", "[watchdog]") {
  StuckPassDetector detector(10s);
  const auto t0 = CallTrace::clock::time_point(100s);
  const auto seen = in_pass(t0, "the UDP and TCP tables (GetExtendedUdpTable, GetExtendedTcpTable)", t0 + 2s);
  const auto first = detector.look(seen, t0 + 10s);
  REQUIRE(first);
  CHECK_THAT(*first, Contains("running for 10.0 s") && Contains("in the UDP and TCP tables") &&
                         Contains("for 8.0 s") && Contains("restart the PortGuard service"));
  CHECK_FALSE(detector.look(seen, t0 + 11s));   // once per pass, however long it hangs
  CHECK_FALSE(detector.look(seen, t0 + 600s));
  const auto ended = detector.look(CallTrace::Now{}, t0 + 612s);
  REQUIRE(ended);
  CHECK_THAT(*ended, Contains("has ended, after about 612.0 s"));
  CHECK_FALSE(detector.look(CallTrace::Now{}, t0 + 613s));
}

TEST_CASE("the next pass after a stuck one is judged on its own", "[watchdog]") {
  StuckPassDetector detector(10s);
  const auto t0 = CallTrace::clock::time_point(100s);
  REQUIRE(detector.look(in_pass(t0, nullptr, t0), t0 + 15s));
  // The stuck pass ended and a new one began between two looks: the end is said first ...
  const auto next = in_pass(t0 + 20s, "reporting an event", t0 + 20s);
  CHECK_THAT(detector.look(next, t0 + 21s).value_or(""), Contains("has ended"));
  CHECK_FALSE(detector.look(next, t0 + 29s));
  // ... and the new pass, stuck too, gets its own line.
  CHECK_THAT(detector.look(next, t0 + 31s).value_or(""), Contains("in reporting an event"));
}

TEST_CASE("a step names the innermost call and gives the outer one back", "[watchdog]") {
  CallTrace trace;
  CHECK(trace.now().step == nullptr);
  trace.begin_pass();
  {
    const CallTrace::Step outer(&trace, "assessing the host");
    {
      const CallTrace::Step inner(&trace, "the process list (CreateToolhelp32Snapshot)");
      CHECK(std::string(trace.now().step) == "the process list (CreateToolhelp32Snapshot)");
    }
    CHECK(std::string(trace.now().step) == "assessing the host");
  }
  CHECK(trace.now().step == nullptr);
  CHECK(trace.now().in_pass);
  trace.end_pass();
  CHECK_FALSE(trace.now().in_pass);
  const CallTrace::Step untraced(nullptr, "nothing");  // no trace: a no-op
}

TEST_CASE("the watchdog thread reports a pass that hangs", "[watchdog]") {
  CallTrace trace;
  std::mutex mutex;
  std::vector<std::string> lines;
  {
    PassWatchdog watchdog(trace, 50ms, [&](const std::string& line) {
      std::lock_guard lock(mutex);
      lines.push_back(line);
    }, 5ms);
    trace.begin_pass();
    const CallTrace::Step step(&trace, "a call that does not return");
    // Generous: the thread needs one look after 50 ms; a loaded machine may take far longer.
    for (int i = 0; i < 2000; ++i) {
      {
        std::lock_guard lock(mutex);
        if (!lines.empty()) break;
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  std::lock_guard lock(mutex);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Contains("in a call that does not return"));
}
