#include "authority/uuid.h"

#include <gtest/gtest.h>

#include <regex>

namespace stepca {
namespace {

TEST(Uuid, IsAVersion4VariantRfc4122UuidAndDiffersEachTime) {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  const std::string a = NewUuidV4(), b = NewUuidV4();
  EXPECT_TRUE(std::regex_match(a, shape)) << a;
  EXPECT_TRUE(std::regex_match(b, shape)) << b;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace stepca
