// What OpenKmsKey refuses before any network or module is touched: the
// faults of the kms object and the key URI, each named, no secret repeated.
#include "authority/signer/kms_key.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace stepca {
namespace {

std::string Refusal(const KmsSettings& kms, const std::string& key, KeyScheme scheme) {
  auto k = OpenKmsKey(kms, key, scheme, KeyUse::kX509);
  EXPECT_FALSE(k.ok()) << key;
  return k.ok() ? "" : k.status().message();
}

KmsSettings Kms(const std::string& type, const std::string& uri) {
  KmsSettings k;
  k.present = true;
  k.type = type;
  k.uri = uri;
  return k;
}

TEST(KmsKey, Pkcs11NeedsAModuleAndAKey) {
  EXPECT_NE(Refusal(Kms("pkcs11", "pkcs11:token=ca?pin-value=7788"), "pkcs11:id=7331", KeyScheme::kPkcs11)
                .find("kms.uri names no module-path"), std::string::npos);
  EXPECT_NE(Refusal(Kms("pkcs11", "pkcs11:module-path=/m.so"), "pkcs11:token=ca", KeyScheme::kPkcs11)
                .find("names no key"), std::string::npos);
  EXPECT_NE(Refusal(Kms("pkcs11", "awskms:region=x"), "pkcs11:id=01", KeyScheme::kPkcs11)
                .find("kms.uri must be a pkcs11: URI"), std::string::npos);
}

TEST(KmsKey, AwsNeedsARegionAndCredentials) {
  for (const char* v : {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"})
    unsetenv(v);
  setenv("AWS_ACCESS_KEY_ID", "AKIAUNIT", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "unit-secret-4411", 1);
  const std::string m = Refusal(Kms("awskms", ""), "awskms:key-id=k1", KeyScheme::kAwsKms);
  EXPECT_NE(m.find("the key awskms:key-id=k1: awskms: no region"), std::string::npos) << m;
  EXPECT_EQ(m.find("unit-secret-4411"), std::string::npos);
  EXPECT_NE(Refusal(Kms("awskms", "awskms:region=x;colour=blue"), "awskms:key-id=k1", KeyScheme::kAwsKms)
                .find("kms.uri: awskms: URI: unknown attribute colour"), std::string::npos);
  EXPECT_NE(Refusal(Kms("awskms", "awskms:region=x"), "awskms:region=y", KeyScheme::kAwsKms)
                .find("names no key-id"), std::string::npos);
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST(KmsKey, CloudKmsNeedsAVersionNameAndCredentials) {
  unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  const std::string name = "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1";
  EXPECT_NE(Refusal(Kms("cloudkms", ""), name, KeyScheme::kCloudKms).find("cloudkms: no credentials"),
            std::string::npos);
  for (const char* bad : {"projects/p/locations/global/keyRings/r/cryptoKeys/k",
                          "projects/p/locations//keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
                          "projects/p/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1/x/y"})
    EXPECT_NE(Refusal(Kms("cloudkms", "cloudkms:credentials-file=/nonexistent"), bad, KeyScheme::kCloudKms)
                  .find("must be a key version name"), std::string::npos) << bad;
  EXPECT_NE(Refusal(Kms("cloudkms", "cloudkms:credentials-file=/nonexistent"), "cloudkms:" + name,
                    KeyScheme::kCloudKms)
                .find("cannot read the credentials file /nonexistent"), std::string::npos);
}

TEST(KmsKey, AzureNeedsClientCredentialsAndKeepsThemOutOfTheKeyUri) {
  for (const char* v : {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"}) unsetenv(v);
  const std::string m = Refusal(Kms("azurekms", "azurekms:tenant-id=t;client-id=c"),
                                "azurekms:name=k;vault=v", KeyScheme::kAzureKms);
  EXPECT_NE(m.find("azurekms: no client credentials"), std::string::npos) << m;
  const std::string s = Refusal(Kms("azurekms", ""), "azurekms:name=k;vault=v;client-secret=az-secret-9",
                                KeyScheme::kAzureKms);
  EXPECT_NE(s.find("the key URI must not hold client-secret; put it in kms.uri"), std::string::npos) << s;
  EXPECT_EQ(s.find("az-secret-9"), std::string::npos);
  EXPECT_NE(Refusal(Kms("azurekms", "azurekms:environment=AzureUSGovernment"), "azurekms:name=k;vault=v",
                    KeyScheme::kAzureKms)
                .find("unknown attribute environment"), std::string::npos);
}

TEST(KmsKey, YubiKeyNeedsASigningSlot) {
  EXPECT_NE(Refusal(Kms("yubikey", "yubikey:pin-value=123456"), "yubikey:slot-id=f9", KeyScheme::kYubiKey)
                .find("supported: 9a, 9c, 9d, 9e and 82-95"), std::string::npos);
  EXPECT_NE(Refusal(Kms("yubikey", "pkcs11:module-path=/m.so"), "yubikey:slot-id=9c", KeyScheme::kYubiKey)
                .find("kms.uri must be a yubikey: URI"), std::string::npos);
}

TEST(KmsKey, TypesFollowSchemes) {
  EXPECT_STREQ(KmsTypeFor(KeyScheme::kPkcs11), "pkcs11");
  EXPECT_STREQ(KmsTypeFor(KeyScheme::kYubiKey), "yubikey");
  EXPECT_STREQ(KmsTypeFor(KeyScheme::kAwsKms), "awskms");
  EXPECT_STREQ(KmsTypeFor(KeyScheme::kCloudKms), "cloudkms");
  EXPECT_STREQ(KmsTypeFor(KeyScheme::kAzureKms), "azurekms");
  EXPECT_STREQ(KmsTypeFor(KeyScheme::kFile), "");
}

}  // namespace
}  // namespace stepca
