#include "authority/signer/kms_uri.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

TEST(KmsUri, ParsesPathAndQueryAttributes) {
  auto u = ParseKmsUri("azurekms:name=intermediate-ca-key;vault=example-vault-0?version=15faf8b8&hsm=true",
                       "azurekms", {"name", "vault", "version", "hsm"});
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->scheme, "azurekms");
  EXPECT_EQ(u->Get("name"), "intermediate-ca-key");
  EXPECT_EQ(u->Get("vault"), "example-vault-0");
  EXPECT_EQ(u->Get("version"), "15faf8b8");
  EXPECT_EQ(u->Get("hsm"), "true");
  EXPECT_EQ(u->Get("absent"), "");
  auto a = ParseKmsUri("AWSKMS:key-id=arn:aws:kms:us-east-1:111122223333:key/abc;region=us-east-1",
                       "awskms", {"key-id", "region"});
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->Get("key-id"), "arn:aws:kms:us-east-1:111122223333:key/abc");
  auto p = ParseKmsUri("awskms:credentials-file=/etc/step%20ca/creds", "awskms", {"credentials-file"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Get("credentials-file"), "/etc/step ca/creds");
}

TEST(KmsUri, RefusesUnknownRepeatedAndMalformedWithoutValues) {
  const char* known = "client-secret";
  for (const char* bad : {"azurekms:client-secret=s3cr3t;colour=blue",
                          "azurekms:client-secret=s3cr3t;client-secret=s3cr3t",
                          "azurekms:client-secret=s3cr3t%zz", "azurekms:client-secret",
                          "awskms:client-secret=s3cr3t"}) {
    auto u = ParseKmsUri(bad, "azurekms", {known});
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_EQ(u.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(u.status().message().find("s3cr3t"), std::string::npos) << u.status().message();
  }
  auto u = ParseKmsUri("azurekms:colour=blue", "azurekms", {"name", "vault"});
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("unknown attribute colour (known: name, vault)"), std::string::npos)
      << u.status().message();
}

TEST(KmsUri, KeyAttributesWinOverKms) {
  auto kms = ParseKmsUri("awskms:region=us-west-2;profile=a", "awskms", {"region", "profile", "key-id"});
  auto key = ParseKmsUri("awskms:key-id=k;region=eu-west-1", "awskms", {"region", "profile", "key-id"});
  ASSERT_TRUE(kms.ok() && key.ok());
  KmsUri m = MergeKmsUri(*kms, *key);
  EXPECT_EQ(m.Get("region"), "eu-west-1");
  EXPECT_EQ(m.Get("profile"), "a");
  EXPECT_EQ(m.Get("key-id"), "k");
}

}  // namespace
}  // namespace stepca
