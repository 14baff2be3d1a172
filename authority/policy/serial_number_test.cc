#include "authority/policy/serial_number.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

TEST(ParseSerial, ReadsGoBigIntPrefixes) {
  EXPECT_EQ(ParseSerial("255").value(), "255");
  EXPECT_EQ(ParseSerial("0xff").value(), "255");
  EXPECT_EQ(ParseSerial("0XFF").value(), "255");
  EXPECT_EQ(ParseSerial("0o17").value(), "15");
  EXPECT_EQ(ParseSerial("017").value(), "15");
  EXPECT_EQ(ParseSerial("0b101").value(), "5");
  EXPECT_EQ(ParseSerial("+7").value(), "7");
  EXPECT_EQ(ParseSerial("0").value(), "0");
  EXPECT_EQ(ParseSerial("340282366920938463463374607431768211455").value(),
            "340282366920938463463374607431768211455");
}

TEST(ParseSerial, RejectsWhatIsNotANumber) {
  EXPECT_FALSE(ParseSerial(""));
  EXPECT_FALSE(ParseSerial("0x"));
  EXPECT_FALSE(ParseSerial("12a"));
  EXPECT_FALSE(ParseSerial("09"));
  EXPECT_FALSE(ParseSerial("-1"));
  EXPECT_FALSE(ParseSerial("0b2"));
  EXPECT_FALSE(ParseSerial(std::string(161, '1')));
}

}  // namespace
}  // namespace stepca
