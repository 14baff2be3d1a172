#include "shared/duration.h"

#include <cstdio>
#include <limits>

namespace stepca {

namespace {

constexpr uint64_t kNanosecond = 1;
constexpr uint64_t kMicrosecond = 1000 * kNanosecond;
constexpr uint64_t kMillisecond = 1000 * kMicrosecond;
constexpr uint64_t kSecond = 1000 * kMillisecond;
constexpr uint64_t kMinute = 60 * kSecond;
constexpr uint64_t kHour = 60 * kMinute;
constexpr uint64_t kLimit = uint64_t{1} << 63;  // |min int64|

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The unit multiplier for a suffix, 0 when unknown. Both micro signs (U+00B5
// and U+03BC) are accepted, as Go does.
uint64_t UnitOf(std::string_view u) {
  if (u == "ns") return kNanosecond;
  if (u == "us" || u == "\xc2\xb5s" || u == "\xce\xbcs") return kMicrosecond;
  if (u == "ms") return kMillisecond;
  if (u == "s") return kSecond;
  if (u == "m") return kMinute;
  if (u == "h") return kHour;
  return 0;
}

// Days since 1970-01-01 of a proleptic Gregorian civil date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly n digits at text[*pos].
bool ReadFixed(std::string_view text, size_t* pos, size_t n, int* out) {
  if (*pos + n > text.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

// Appends the fraction v / 10^prec without trailing zeros ("" when zero)
// and returns the integer part.
uint64_t FormatFraction(std::string* out, uint64_t v, int prec) {
  uint64_t scale = 1;
  for (int i = 0; i < prec; ++i) scale *= 10;
  uint64_t frac = v % scale;
  if (frac != 0) {
    std::string digits(prec, '0');
    for (int i = prec - 1; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    *out = "." + digits + *out;
  }
  return v / scale;
}

}  // namespace

std::optional<Duration> ParseGoDuration(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return std::nullopt;

  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || IsDigit(s[0]))) return std::nullopt;
    // Integer part.
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (v > (kLimit - 1) / 10) return std::nullopt;  // overflow
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kLimit) return std::nullopt;
    }
    const bool pre = i > 0;
    s.remove_prefix(i);
    // Fraction: extra digits past what fits are ignored, as in Go.
    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      for (; j < s.size() && IsDigit(s[j]); ++j) {
        if (overflow) continue;
        if (f > (kLimit - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t nf = f * 10 + static_cast<uint64_t>(s[j] - '0');
        if (nf > kLimit) {
          overflow = true;
          continue;
        }
        f = nf;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return std::nullopt;
    // Unit.
    size_t k = 0;
    while (k < s.size() && s[k] != '.' && !IsDigit(s[k])) ++k;
    if (k == 0) return std::nullopt;  // missing unit
    const uint64_t unit = UnitOf(s.substr(0, k));
    if (unit == 0) return std::nullopt;
    s.remove_prefix(k);

    if (v > kLimit / unit) return std::nullopt;
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) *
                                 (static_cast<double>(unit) / scale));
      if (v > kLimit) return std::nullopt;
    }
    total += v;
    if (total > kLimit) return std::nullopt;
  }
  if (neg) {
    return Duration(total == kLimit ? std::numeric_limits<int64_t>::min()
                                    : -static_cast<int64_t>(total));
  }
  if (total > kLimit - 1) return std::nullopt;
  return Duration(static_cast<int64_t>(total));
}

std::string FormatGoDuration(Duration d) {
  const int64_t n = d.count();
  const bool neg = n < 0;
  uint64_t u = neg ? uint64_t{0} - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  std::string out;
  if (u < kSecond) {
    if (u == 0) return "0s";
    if (u < kMicrosecond) {
      out = "ns";
      u = FormatFraction(&out, u, 0);
    } else if (u < kMillisecond) {
      out = "\xc2\xb5s";  // Go writes U+00B5
      u = FormatFraction(&out, u, 3);
    } else {
      out = "ms";
      u = FormatFraction(&out, u, 6);
    }
    out = std::to_string(u) + out;
  } else {
    out = "s";
    u = FormatFraction(&out, u, 9);
    out = std::to_string(u % 60) + out;
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

std::optional<TimePoint> ParseRfc3339(std::string_view text) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!ReadFixed(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadFixed(text, &pos, 2, &month) || !Expect(text, &pos, '-') ||
      !ReadFixed(text, &pos, 2, &day) || !Expect(text, &pos, 'T') ||
      !ReadFixed(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !ReadFixed(text, &pos, 2, &minute) || !Expect(text, &pos, ':') ||
      !ReadFixed(text, &pos, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month)) ||
      hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  int64_t nanos = 0;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (digits < 9) nanos = nanos * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset = 0;  // seconds east of UTC
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!ReadFixed(text, &pos, 2, &oh) || !Expect(text, &pos, ':') ||
        !ReadFixed(text, &pos, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month),
                                     static_cast<unsigned>(day));
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset;
  // TimePoint holds int64 nanoseconds: about years 1678 to 2262.
  constexpr int64_t kMaxSecs = std::numeric_limits<int64_t>::max() / 1000000000 - 1;
  if (secs > kMaxSecs || secs < -kMaxSecs) return std::nullopt;
  return TimePoint(Duration(secs * 1000000000 + nanos));
}

std::string FormatRfc3339(TimePoint t) {
  int64_t ns = t.time_since_epoch().count();
  int64_t secs = ns / 1000000000;
  if (ns % 1000000000 < 0) --secs;  // floor
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ",
                static_cast<long long>(y), m, d, static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  return buf;
}

TimePoint SaturatingAdd(TimePoint t, Duration d) {
  int64_t r;
  if (__builtin_add_overflow(t.time_since_epoch().count(), d.count(), &r))
    r = d.count() > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return TimePoint(Duration(r));
}

Duration SaturatingSub(TimePoint a, TimePoint b) {
  int64_t r;
  if (__builtin_sub_overflow(a.time_since_epoch().count(), b.time_since_epoch().count(), &r))
    r = a > b ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return Duration(r);
}

TimePoint TimeDuration::Resolve(TimePoint base) const {
  return kind == Kind::kTime ? time : SaturatingAdd(base, duration);
}

std::optional<TimeDuration> ParseTimeDuration(std::string_view text) {
  TimeDuration td;
  if (text.empty()) return td;
  if (auto t = ParseRfc3339(text)) {
    td.kind = TimeDuration::Kind::kTime;
    td.time = *t;
    return td;
  }
  if (auto d = ParseGoDuration(text)) {
    td.kind = TimeDuration::Kind::kDuration;
    td.duration = *d;
    return td;
  }
  return std::nullopt;
}

}  // namespace stepca
