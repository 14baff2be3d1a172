#include "authority/x509/validity.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const Duration kBackdate = minutes(1);

TimePoint Now() { return *ParseRfc3339("2026-11-23T04:48:40.250Z"); }
TimePoint FarIssuerEnd() { return *ParseRfc3339("2036-11-23T04:48:40Z"); }

TimeDuration Td(const char* text) {
  auto td = ParseTimeDuration(text);
  EXPECT_TRUE(td.has_value()) << text;
  return *td;
}

Result<Validity> Compute(const char* nb, const char* na, const Claims& c = Claims(),
                         TimePoint issuer_end = FarIssuerEnd()) {
  return ComputeValidity(Now(), Td(nb), Td(na), c, kBackdate, issuer_end);
}

TEST(ComputeValidity, DefaultWindowIsBackdatedDay) {
  auto v = Compute("", "");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(FormatRfc3339(v->not_before), "2026-11-23T04:47:40Z");
  EXPECT_EQ(FormatRfc3339(v->not_after), "2026-11-24T04:48:40Z");
  EXPECT_EQ(v->not_after - v->not_before, hours(24) + minutes(1));
  // Whole seconds.
  EXPECT_EQ(v->not_before.time_since_epoch().count() % 1000000000, 0);
}

TEST(ComputeValidity, ProvisionerDefaultDuration) {
  Claims c;
  c.default_tls = hours(2);
  auto v = Compute("", "", c);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(FormatRfc3339(v->not_after), "2026-11-23T06:48:40Z");
}

TEST(ComputeValidity, FixtureNotAfterTooLong) {
  auto v = Compute("", "1000h");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(v.status().message(),
            "requested duration of 1000h1m0s is more than the authorized maximum certificate "
            "duration of 24h1m0s");
}

TEST(ComputeValidity, MaxIncludesBackdateOnlyWhenBackdated) {
  EXPECT_TRUE(Compute("", "24h").ok());
  auto own_nb = Compute("0s", "24h1s");
  ASSERT_FALSE(own_nb.ok());
  EXPECT_EQ(own_nb.status().message(),
            "requested duration of 24h0m1s is more than the authorized maximum certificate "
            "duration of 24h0m0s");
  EXPECT_TRUE(Compute("0s", "24h").ok());
}

TEST(ComputeValidity, DurationsAndTimes) {
  // notBefore relative to now, notAfter relative to notBefore.
  auto v = Compute("1h", "2h");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(FormatRfc3339(v->not_before), "2026-11-23T05:48:40Z");
  EXPECT_EQ(FormatRfc3339(v->not_after), "2026-11-23T07:48:40Z");

  auto t = Compute("2026-11-23T10:00:00Z", "2026-11-23T12:00:00Z");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(FormatRfc3339(t->not_before), "2026-11-23T10:00:00Z");
  EXPECT_EQ(FormatRfc3339(t->not_after), "2026-11-23T12:00:00Z");

  auto mixed = Compute("", "2026-11-23T12:00:00Z");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(FormatRfc3339(mixed->not_before), "2026-11-23T04:47:40Z");
}

TEST(ComputeValidity, NotAfterInThePast) {
  auto v = Compute("", "2026-11-22T00:00:00Z");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(v.status().message(), "notAfter cannot be in the past; na=2026-11-22T00:00:00Z");
  EXPECT_FALSE(Compute("", "-5m").ok());
}

TEST(ComputeValidity, NotAfterBeforeNotBefore) {
  auto v = Compute("2h", "-1h");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(),
            "notAfter cannot be before notBefore; na=2026-11-23T05:48:40Z, "
            "nb=2026-11-23T06:48:40Z");
}

TEST(ComputeValidity, TooShort) {
  auto v = Compute("0s", "4m");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(),
            "requested duration of 4m0s is less than the authorized minimum certificate "
            "duration of 5m0s");
  EXPECT_TRUE(Compute("0s", "5m").ok());
  // The backdate counts toward the duration, as in step-ca (short-5m).
  EXPECT_TRUE(Compute("", "4m").ok());
}

TEST(ComputeValidity, ClampsToIssuer) {
  TimePoint issuer_end = *ParseRfc3339("2026-11-23T20:00:00Z");
  auto v = Compute("", "", Claims(), issuer_end);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(FormatRfc3339(v->not_after), "2026-11-23T20:00:00Z");
  auto expired = Compute("", "", Claims(), *ParseRfc3339("2026-11-01T00:00:00Z"));
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), Code::kPermissionDenied);
}

// Found by fuzz_http: requested times at the ends of TimePoint's range
// (int64 nanoseconds, years 1677 to 2262) overflowed when resolved and
// subtracted (signed overflow, undefined behaviour). They saturate now,
// and the request is refused as any too-long or past window is.
TEST(ComputeValidity, HugeNotAfterDurationIsRefusedNotOverflowed) {
  auto v = Compute("", "2562047h");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kPermissionDenied);
  EXPECT_NE(v.status().message().find("is more than the authorized maximum"), std::string::npos)
      << v.status().message();
}

TEST(ComputeValidity, HugeNotBeforeDurationIsRefusedNotOverflowed) {
  auto v = Compute("2562047h", "");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kPermissionDenied);
}

TEST(ComputeValidity, EarliestNotBeforeWithNegativeNotAfterIsInThePast) {
  auto v = Compute("1677-09-21T00:12:45Z", "-2562047h");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kPermissionDenied);
  EXPECT_NE(v.status().message().find("notAfter cannot be in the past"), std::string::npos)
      << v.status().message();
}

TEST(ComputeValidity, LatestNotBeforeWithHugeNotAfterIsTooLong) {
  auto v = Compute("1677-09-21T00:12:45Z", "2262-04-11T23:47:15Z");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kPermissionDenied);
  EXPECT_NE(v.status().message().find("is more than the authorized maximum"), std::string::npos)
      << v.status().message();
}

}  // namespace
}  // namespace stepca
