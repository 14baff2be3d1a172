// ParseGoDuration, ParseRfc3339 and ParseTimeDuration on arbitrary bytes.
// Properties: a parsed Go duration formats back to text that parses to the
// same value; a parsed RFC 3339 time in years 1..9999 formats back to text
// that parses to the same whole second.
#include <cstdint>
#include <cstdlib>

#include "shared/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = stepca::ParseGoDuration(text)) {
    auto again = stepca::ParseGoDuration(stepca::FormatGoDuration(*d));
    if (!again || *again != *d) std::abort();
  }
  if (auto t = stepca::ParseRfc3339(text)) {
    using namespace std::chrono;
    const auto secs = floor<seconds>(t->time_since_epoch()).count();
    // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z
    if (secs >= -62135596800LL && secs <= 253402300799LL) {
      auto again = stepca::ParseRfc3339(stepca::FormatRfc3339(*t));
      if (!again || floor<seconds>(again->time_since_epoch()).count() != secs) std::abort();
    }
  }
  if (auto td = stepca::ParseTimeDuration(text)) (void)td->Resolve(stepca::TimePoint{});
  return 0;
}
