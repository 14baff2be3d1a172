#include "authority/provisioner/cloud_identity.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

Result<CloudSettings> Read(const char* text) {
  JsonPtr j(json_loads(text, 0, nullptr));
  return ReadCloudSettings(j.get(), "p");
}

TEST(CloudIdentity, Settings) {
  auto none = Read("{}");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->disable_custom_sans);
  EXPECT_FALSE(none->disable_trust_on_first_use);
  EXPECT_FALSE(none->instance_age);
  auto all = Read(R"({"disableCustomSANs":true,"disableTrustOnFirstUse":true,"instanceAge":"1h"})");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->disable_custom_sans && all->disable_trust_on_first_use);
  EXPECT_EQ(*all->instance_age, std::chrono::hours(1));
  EXPECT_FALSE(Read(R"({"instanceAge":"-1h"})").ok());
  EXPECT_FALSE(Read(R"({"instanceAge":"soon"})").ok());
  EXPECT_FALSE(Read(R"({"disableCustomSANs":"yes"})").ok());
  EXPECT_FALSE(Read(R"({"instanceAge":"0s"})")->instance_age);
}

TEST(CloudIdentity, InstanceAgeAndUseKeys) {
  CloudSettings s;
  s.instance_age = std::chrono::hours(1);
  const TimePoint now(std::chrono::seconds(1700000000));
  EXPECT_TRUE(CheckInstanceAge(s, now - std::chrono::minutes(59), now, "x").ok());
  EXPECT_FALSE(CheckInstanceAge(s, now - std::chrono::minutes(61), now, "x").ok());
  Jws jws;
  jws.header.reset(json_object());
  jws.payload.reset(json_object());
  SignGrant tofu, once;
  SetCloudUseKeys(s, "aws/a", "i-1", jws, &tofu);
  EXPECT_FALSE(tofu.instance_key.empty());
  EXPECT_TRUE(tofu.token_key.empty());
  s.disable_trust_on_first_use = true;
  SetCloudUseKeys(s, "aws/a", "i-1", jws, &once);
  EXPECT_TRUE(once.instance_key.empty());
  EXPECT_FALSE(once.token_key.empty());
}

}  // namespace
}  // namespace stepca
