#include "authority/cloud/http_request.h"

#include <gtest/gtest.h>

namespace stepca::cloud {
namespace {

TEST(PercentEscape, KeepsLettersDigitsAndTheKeepSetOnly) {
  EXPECT_EQ(PercentEscape("aZ09-_", "-"), "aZ09-%5F");
  EXPECT_EQ(PercentEscape("a b/c", "/"), "a%20b/c");
  EXPECT_EQ(PercentEscape(std::string("\xff\x01", 2), ""), "%FF%01");
}

TEST(FormEscape, KeepsTheRfc3986UnreservedSet) {
  EXPECT_EQ(FormEscape("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(FormEscape("x=1&y=a b+c/d"), "x%3D1%26y%3Da%20b%2Bc%2Fd");
}

TEST(UrlHost, CutsSchemeAndPath) {
  EXPECT_EQ(UrlHost("https://kms.test:8443/v1/x?q"), "kms.test:8443");
  EXPECT_EQ(UrlHost("host.test"), "host.test");
}

}  // namespace
}  // namespace stepca::cloud
