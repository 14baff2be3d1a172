// The system clock as a TimeSource.
#ifndef STEPCA_AUTHORITY_CLOCK_SYSTEM_TIME_SOURCE_H
#define STEPCA_AUTHORITY_CLOCK_SYSTEM_TIME_SOURCE_H

#include "authority/clock/time_source.h"

namespace stepca {

class SystemTimeSource : public TimeSource {
 public:
  TimePoint Now() const override;
};

// One shared instance: it has no state, so every part may hold it.
const TimeSource& SystemTime();

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_CLOCK_SYSTEM_TIME_SOURCE_H
