#include "authority/provisioner/provisioner_fields.h"

#include <gtest/gtest.h>

#include "authority/ossl.h"

namespace stepca {
namespace {

TEST(ProvisionerFields, TypesAreCheckedAndErrorsNameTheField) {
  JsonPtr j(json_loads(R"({"s":"v","e":"","n":1,"l":["a","b"],"bad":["a",2],"b":true})", 0, nullptr));
  std::string s;
  EXPECT_TRUE(ReadStringSetting(j.get(), "f", "s", true, &s).ok());
  EXPECT_EQ(s, "v");
  EXPECT_FALSE(ReadStringSetting(j.get(), "f", "e", true, &s).ok());
  EXPECT_FALSE(ReadStringSetting(j.get(), "f", "missing", true, &s).ok());
  Status n = ReadStringSetting(j.get(), "f", "n", false, &s);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.message().find("\"f.n\""), std::string::npos);
  std::vector<std::string> l;
  EXPECT_TRUE(ReadStringListSetting(j.get(), "f", "l", &l).ok());
  EXPECT_EQ(l, (std::vector<std::string>{"a", "b"}));
  Status bad = ReadStringListSetting(j.get(), "f", "bad", &l);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("f.bad[1]"), std::string::npos);
  bool b = false;
  EXPECT_TRUE(ReadBoolSetting(j.get(), "f", "b", &b).ok());
  EXPECT_TRUE(b);
  EXPECT_FALSE(ReadBoolSetting(j.get(), "f", "s", &b).ok());
}

}  // namespace
}  // namespace stepca
