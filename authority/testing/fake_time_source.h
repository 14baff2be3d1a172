// Test support: a TimeSource that moves only when the test says so.
#ifndef STEPCA_AUTHORITY_TESTING_FAKE_TIME_SOURCE_H
#define STEPCA_AUTHORITY_TESTING_FAKE_TIME_SOURCE_H

#include <atomic>
#include <cstdint>

#include "authority/clock/time_source.h"

namespace stepca {
namespace testing {

class FakeTimeSource : public TimeSource {
 public:
  // Starts at start: a fixed instant keeps a test's output the same on
  // every run.
  explicit FakeTimeSource(TimePoint start) : nanos_(start.time_since_epoch().count()) {}

  TimePoint Now() const override {
    return TimePoint(Duration(nanos_.load(std::memory_order_acquire)));
  }
  void Set(TimePoint t) { nanos_.store(t.time_since_epoch().count(), std::memory_order_release); }
  void Advance(Duration d) { nanos_.fetch_add(d.count(), std::memory_order_acq_rel); }

 private:
  // Threads under test read while the test moves it.
  std::atomic<int64_t> nanos_;
};

}  // namespace testing
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TESTING_FAKE_TIME_SOURCE_H
