#include "authority/clock/system_time_source.h"

namespace stepca {

TimePoint SystemTimeSource::Now() const {
  return std::chrono::time_point_cast<Duration>(Clock::now());
}

const TimeSource& SystemTime() {
  static const SystemTimeSource source;
  return source;
}

}  // namespace stepca
