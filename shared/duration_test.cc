#include "shared/duration.h"

#include <gtest/gtest.h>

#include <limits>

namespace stepca {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(ParseGoDuration, AcceptsWhatGoAccepts) {
  struct Case {
    const char* text;
    Duration want;
  } cases[] = {
      {"0", Duration(0)},
      {"+0", Duration(0)},
      {"-0", Duration(0)},
      {"0s", Duration(0)},
      {"5s", seconds(5)},
      {"30s", seconds(30)},
      {"1478s", seconds(1478)},
      {"-5s", seconds(-5)},
      {"+5s", seconds(5)},
      {"-0s", Duration(0)},
      {"5.0s", seconds(5)},
      {"5.6s", milliseconds(5600)},
      {"5.s", seconds(5)},
      {".5s", milliseconds(500)},
      {"1.0s", seconds(1)},
      {"1.00s", seconds(1)},
      {"1.004s", milliseconds(1004)},
      {"1.0040s", milliseconds(1004)},
      {"100.00100s", milliseconds(100001)},
      {"10ns", nanoseconds(10)},
      {"11us", microseconds(11)},
      {"12\xc2\xb5s", microseconds(12)},
      {"12\xce\xbcs", microseconds(12)},
      {"13ms", milliseconds(13)},
      {"14s", seconds(14)},
      {"15m", minutes(15)},
      {"16h", hours(16)},
      {"24h", hours(24)},
      {"720h", hours(720)},
      {"3h30m", hours(3) + minutes(30)},
      {"1h30m", minutes(90)},
      {"10.5s4m", minutes(4) + milliseconds(10500)},
      {"-2m3.4s", -(minutes(2) + milliseconds(3400))},
      {"1h2m3s4ms5us6ns", hours(1) + minutes(2) + seconds(3) + milliseconds(4) +
                               microseconds(5) + nanoseconds(6)},
      {"39h9m14.425s", hours(39) + minutes(9) + milliseconds(14425)},
      {"52763797000ns", nanoseconds(52763797000)},
      {"0.3333333333333333333h", minutes(20)},
      {"9007199254740993ns", nanoseconds(9007199254740993)},
      {"9223372036854775807ns", nanoseconds(std::numeric_limits<int64_t>::max())},
      {"9223372036854775.807us", nanoseconds(std::numeric_limits<int64_t>::max())},
      {"9223372036s854ms775us807ns", nanoseconds(std::numeric_limits<int64_t>::max())},
      {"-9223372036854775808ns", nanoseconds(std::numeric_limits<int64_t>::min())},
      {"-9223372036854775.808us", nanoseconds(std::numeric_limits<int64_t>::min())},
      {"-2562047h47m16.854775808s", nanoseconds(std::numeric_limits<int64_t>::min())},
      {"0.100000000000000000000h", minutes(6)},
      {"0.830103483285477580700h", minutes(49) + seconds(48) + nanoseconds(372539827)},
      {"1000h", hours(1000)},
      {"-5m", minutes(-5)},
  };
  for (const auto& c : cases) {
    auto got = ParseGoDuration(c.text);
    ASSERT_TRUE(got.has_value()) << c.text;
    EXPECT_EQ(got->count(), c.want.count()) << c.text;
  }
}

TEST(ParseGoDuration, RejectsWhatGoRejects) {
  const char* cases[] = {
      "",        "3",        "-",        "s",         ".",        "-.",
      ".s",      "+.s",      "1d",       "\x85\x85",  "\xff\xff", "hello \xff\xff world",
      "9223372036854775808ns", "9223372036854775.808us",
      "9223372036854ms775us808ns", "-9223372036854775809ns",
      "1h ",     " 1h",      "1H",       "1hh",       "1.2.3s",   "5m-3s",
      "0x10s",   "1e3s",     "100000000000000000000h",
  };
  for (const char* c : cases) {
    EXPECT_FALSE(ParseGoDuration(c).has_value()) << c;
  }
}

TEST(FormatGoDuration, MatchesGoString) {
  struct Case {
    Duration d;
    const char* want;
  } cases[] = {
      {Duration(0), "0s"},
      {nanoseconds(1), "1ns"},
      {nanoseconds(1100), "1.1\xc2\xb5s"},
      {microseconds(2200), "2.2ms"},
      {milliseconds(3300), "3.3s"},
      {minutes(4) + seconds(5), "4m5s"},
      {minutes(4) + milliseconds(5001), "4m5.001s"},
      {hours(5) + minutes(6) + milliseconds(7001), "5h6m7.001s"},
      {minutes(8) + nanoseconds(1), "8m0.000000001s"},
      {nanoseconds(std::numeric_limits<int64_t>::max()), "2562047h47m16.854775807s"},
      {nanoseconds(std::numeric_limits<int64_t>::min()), "-2562047h47m16.854775808s"},
      {hours(24), "24h0m0s"},
      {hours(24) + minutes(1), "24h1m0s"},
      {hours(1000) + minutes(1), "1000h1m0s"},
      {minutes(1), "1m0s"},
      {seconds(-90), "-1m30s"},
      {milliseconds(1500), "1.5s"},
      {milliseconds(300), "300ms"},
      {microseconds(-5), "-5\xc2\xb5s"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FormatGoDuration(c.d), c.want);
  }
}

TEST(FormatGoDuration, RoundTrips) {
  for (int64_t n : {int64_t{1}, int64_t{999}, int64_t{123456789}, int64_t{86400000000000},
                    int64_t{-7200000000001}}) {
    auto back = ParseGoDuration(FormatGoDuration(nanoseconds(n)));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->count(), n);
  }
}

TEST(Rfc3339, ParsesUtcFractionAndOffsets) {
  auto t = ParseRfc3339("2026-11-23T04:48:40Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->time_since_epoch().count(), int64_t{1795409320} * 1000000000);
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-23T04:48:40Z");

  auto f = ParseRfc3339("2026-11-23T04:48:40.123456789Z");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ((*f - *t).count(), 123456789);
  auto f2 = ParseRfc3339("2026-11-23T04:48:40.5Z");
  ASSERT_TRUE(f2.has_value());
  EXPECT_EQ((*f2 - *t).count(), 500000000);

  auto o = ParseRfc3339("2026-11-23T06:18:40+01:30");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(*o, *t);
  auto n = ParseRfc3339("2026-11-22T23:48:40-05:00");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, *t);

  auto epoch = ParseRfc3339("1970-01-01T00:00:00Z");
  ASSERT_TRUE(epoch.has_value());
  EXPECT_EQ(epoch->time_since_epoch().count(), 0);
  auto leap = ParseRfc3339("2024-02-29T12:00:00Z");
  ASSERT_TRUE(leap.has_value());
  EXPECT_EQ(FormatRfc3339(*leap), "2024-02-29T12:00:00Z");
  auto before = ParseRfc3339("1969-12-31T23:59:59Z");
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(FormatRfc3339(*before), "1969-12-31T23:59:59Z");
}

TEST(Rfc3339, FormatsWholeSecondsUtc) {
  TimePoint t(Duration(int64_t{1795409320} * 1000000000 + 999999999));
  EXPECT_EQ(FormatRfc3339(t), "2026-11-23T04:48:40Z");
}

TEST(Rfc3339, RejectsMalformed) {
  const char* cases[] = {
      "",
      "2026-11-23",
      "2026-11-23T04:48:40",
      "2026-11-23 04:48:40Z",
      "2026-11-23t04:48:40Z",
      "2026-13-23T04:48:40Z",
      "2026-02-29T04:48:40Z",
      "2026-11-31T04:48:40Z",
      "2026-11-23T24:00:00Z",
      "2026-11-23T04:60:00Z",
      "2026-11-23T04:48:60Z",
      "2026-11-23T04:48:40.Z",
      "2026-11-23T04:48:40+0100",
      "2026-11-23T04:48:40+24:00",
      "2026-11-23T04:48:40Zjunk",
      "26-11-23T04:48:40Z",
      "3000-01-01T00:00:00Z",  // beyond int64 nanoseconds
      "24h",
  };
  for (const char* c : cases) EXPECT_FALSE(ParseRfc3339(c).has_value()) << c;
}

TEST(TimeDuration, ParsesEachKind) {
  auto unset = ParseTimeDuration("");
  ASSERT_TRUE(unset.has_value());
  EXPECT_FALSE(unset->set());

  auto dur = ParseTimeDuration("1h30m");
  ASSERT_TRUE(dur.has_value());
  EXPECT_EQ(dur->kind, TimeDuration::Kind::kDuration);
  TimePoint base(Duration(int64_t{1000} * 1000000000));
  EXPECT_EQ(dur->Resolve(base), base + minutes(90));

  auto neg = ParseTimeDuration("-5m");
  ASSERT_TRUE(neg.has_value());
  EXPECT_EQ(neg->Resolve(base), base - minutes(5));

  auto tm = ParseTimeDuration("2026-11-23T04:48:40Z");
  ASSERT_TRUE(tm.has_value());
  EXPECT_EQ(tm->kind, TimeDuration::Kind::kTime);
  EXPECT_EQ(tm->Resolve(base), *ParseRfc3339("2026-11-23T04:48:40Z"));

  EXPECT_FALSE(ParseTimeDuration("tomorrow").has_value());
  EXPECT_FALSE(ParseTimeDuration("24").has_value());
}

}  // namespace
}  // namespace stepca
