#include "authority/ra/cas_request.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

TEST(CasRequest, SerialHexIsLowerCaseWholeBytes) {
  EXPECT_EQ(SerialHex("255").value(), "ff");
  EXPECT_EQ(SerialHex("256").value(), "0100");
  EXPECT_EQ(SerialHex("3405691582").value(), "cafebabe");
}

TEST(CasRequest, SerialHexRejectsWhatIsNotDecimal) {
  EXPECT_EQ(SerialHex("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SerialHex("12a").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SerialHex("0x10").status().code(), Code::kInvalidArgument);
}

TEST(CasRequest, LifetimeSecondsCountsDownAndNeverGoesBelowOne) {
  const TimePoint now = std::chrono::time_point_cast<std::chrono::nanoseconds>(Clock::now());
  const std::string hour = LifetimeSeconds(now + std::chrono::hours(1));
  EXPECT_TRUE(hour == "3600s" || hour == "3599s") << hour;
  EXPECT_EQ(LifetimeSeconds(now - std::chrono::hours(1)), "1s");
}

TEST(CasRequest, FieldErrorNamesTheAuthorityField) {
  Status s = RaFieldError("certificateAuthority", "unreachable");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "field \"authority.certificateAuthority\": unreachable");
}

TEST(CasRequest, DescribedAddsTheDetailOnlyWhenThereIsOne) {
  EXPECT_EQ(Described(Unavailable("down")), "down");
  EXPECT_EQ(Described(Unavailable("down").WithDetail("https://ca: 503")), "down: https://ca: 503");
}

}  // namespace
}  // namespace stepca
