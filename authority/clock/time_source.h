// The time source the CA asks for "now". Production reads the system clock;
// unit tests hold a fake (authority/testing/fake_time_source.h) they move by
// hand, so expiry and renewal windows are tested without sleeping.
// (`Clock` in shared/duration.h is the std::chrono clock type; this is the
// injectable source of its time points.)
#ifndef STEPCA_AUTHORITY_CLOCK_TIME_SOURCE_H
#define STEPCA_AUTHORITY_CLOCK_TIME_SOURCE_H

#include "shared/duration.h"

namespace stepca {

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  // Thread-safe.
  virtual TimePoint Now() const = 0;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_CLOCK_TIME_SOURCE_H
