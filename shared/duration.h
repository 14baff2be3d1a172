// Go duration strings ("24h", "1h30m", "-5m", "300ms", "1m0s") and step-ca's
// TimeDuration request fields ("" unset, RFC 3339 time, or a Go duration).
#ifndef STEPCA_SHARED_DURATION_H
#define STEPCA_SHARED_DURATION_H

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stepca {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::time_point<Clock, std::chrono::nanoseconds>;
using Duration = std::chrono::nanoseconds;

// Accepts exactly what Go's time.ParseDuration accepts (units ns, us, µs,
// ms, s, m, h; sign; fractions; "0"). Rejects empty text and overflow.
std::optional<Duration> ParseGoDuration(std::string_view text);

// Formats like Go's Duration.String(): "24h0m0s", "1m0s", "1.5s", "0s".
std::string FormatGoDuration(Duration d);

// RFC 3339 ("2026-11-23T04:48:40Z", fractional seconds, numeric offsets).
std::optional<TimePoint> ParseRfc3339(std::string_view text);
std::string FormatRfc3339(TimePoint t);  // UTC, "Z", whole seconds

struct TimeDuration {
  enum class Kind { kUnset, kTime, kDuration };
  Kind kind = Kind::kUnset;
  TimePoint time{};
  Duration duration{};

  bool set() const { return kind != Kind::kUnset; }
  // A time stands for itself; a duration is relative to base (saturating).
  TimePoint Resolve(TimePoint base) const;
};

// t + d and a - b, saturating at the ends of the int64 nanosecond range
// (about years 1677 and 2262) instead of overflowing; Go's Time.Sub
// saturates the same way.
TimePoint SaturatingAdd(TimePoint t, Duration d);
Duration SaturatingSub(TimePoint a, TimePoint b);

// "" -> unset; otherwise RFC 3339 first, then a Go duration.
std::optional<TimeDuration> ParseTimeDuration(std::string_view text);

}  // namespace stepca

#endif  // STEPCA_SHARED_DURATION_H
