#include "authority/clock/system_time_source.h"

#include <gtest/gtest.h>

#include "authority/testing/fake_time_source.h"

namespace stepca {
namespace {

using std::chrono::seconds;

TEST(SystemTimeSource, FollowsTheSystemClock) {
  const auto before = Clock::now();
  const TimePoint now = SystemTime().Now();
  const auto after = Clock::now();
  EXPECT_GE(now, before);
  EXPECT_LE(now, after);
}

TEST(FakeTimeSource, MovesOnlyWhenTold) {
  const TimePoint start = ParseRfc3339("2024-01-02T03:04:05Z").value();
  testing::FakeTimeSource fake(start);
  const TimeSource& source = fake;
  EXPECT_EQ(source.Now(), start);
  EXPECT_EQ(source.Now(), start);
  fake.Advance(seconds(90));
  EXPECT_EQ(source.Now(), start + seconds(90));
  fake.Set(start - seconds(5));
  EXPECT_EQ(FormatRfc3339(source.Now()), "2024-01-02T03:04:00Z");
}

}  // namespace
}  // namespace stepca
