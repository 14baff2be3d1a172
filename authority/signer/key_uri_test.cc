#include "authority/signer/key_uri.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

TEST(KeyUri, StepKmsUri) {
  auto u = ParsePkcs11Uri(
      "pkcs11:module-path=/usr/lib/softhsm/libsofthsm2.so;token=smallstep?pin-value=password");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->module_path, "/usr/lib/softhsm/libsofthsm2.so");
  EXPECT_EQ(u->token, "smallstep");
  EXPECT_EQ(u->pin_value, "password");
  EXPECT_FALSE(u->slot_id.has_value());
}

TEST(KeyUri, StepKeyUriIdIsHex) {
  auto u = ParsePkcs11Uri("pkcs11:id=7331;object=intermediate-key");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->id, std::string("\x73\x31"));
  EXPECT_EQ(u->object, "intermediate-key");
  EXPECT_EQ(DescribePkcs11Key(*u), "id=7331;object=intermediate-key");
}

TEST(KeyUri, PercentEscapes) {
  auto u = ParsePkcs11Uri("pkcs11:id=%01%ff;object=my%20key;token=a%3Bb?pin-source=file:/run/pin");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->id, std::string("\x01\xff"));
  EXPECT_EQ(u->object, "my key");
  EXPECT_EQ(u->token, "a;b");
  EXPECT_EQ(u->pin_source, "/run/pin");
  EXPECT_EQ(DescribePkcs11Key(*u), "id=01ff;object=my key;token=a;b");
}

TEST(KeyUri, OddLengthOrNonHexIdIsTakenAsText) {
  auto u = ParsePkcs11Uri("pkcs11:id=abc");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->id, "abc");
  auto v = ParsePkcs11Uri("pkcs11:id=zz");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->id, "zz");
}

TEST(KeyUri, SlotIdAndSerial) {
  auto u = ParsePkcs11Uri("pkcs11:slot-id=12;serial=abc123;type=private;x-vendor=1");
  ASSERT_TRUE(u.ok()) << u.status().message();
  ASSERT_TRUE(u->slot_id.has_value());
  EXPECT_EQ(*u->slot_id, 12u);
  EXPECT_EQ(u->serial, "abc123");
}

TEST(KeyUri, BadInputsAreRefusedNamingTheAttribute) {
  struct Case {
    const char* uri;
    const char* want;
  } cases[] = {
      {"pkcs11", "must start with pkcs11:"},
      {"pkcs12:id=1", "must start with pkcs11:"},
      {"pkcs11:id", "is not attribute=value"},
      {"pkcs11:=7331", "is not attribute=value"},
      {"pkcs11:id=73;id=74", "attribute id is repeated"},
      {"pkcs11:token=a?token=b", "attribute token is repeated"},
      {"pkcs11:object=a%2", "truncated %-escape"},
      {"pkcs11:object=a%", "truncated %-escape"},
      {"pkcs11:object=a%zz", "invalid %-escape"},
      {"pkcs11:slot-id=abc", "slot-id must be a decimal number"},
      {"pkcs11:slot-id=-1", "slot-id must be a decimal number"},
      {"pkcs11:slot-id=1x", "slot-id must be a decimal number"},
      {"pkcs11:slot-id=", "slot-id must be a decimal number"},
      {"pkcs11:slot-id=99999999999999999999999", "slot-id must be a decimal number"},
      {"pkcs11:id=", "id is empty"},
      {"pkcs11:modul-path=/x.so", "unknown attribute modul-path"},
      {"pkcs11:token=t?pin-value=1234&pin-source=/f", "pin-value or pin-source, not both"},
      {"pkcs11:token=t?pin-source=", "pin-source is empty"},
  };
  for (const auto& c : cases) {
    auto u = ParsePkcs11Uri(c.uri);
    ASSERT_FALSE(u.ok()) << c.uri;
    EXPECT_EQ(u.status().code(), Code::kInvalidArgument) << c.uri;
    EXPECT_NE(u.status().message().find(c.want), std::string::npos)
        << c.uri << " -> " << u.status().message();
  }
}

TEST(KeyUri, ErrorsNeverRepeatThePin) {
  for (const char* uri : {"pkcs11:token=t?pin-value=s3cr3tpin&pin-source=/f",
                          "pkcs11:pin-value=s3cr3tpin;pin-value=s3cr3tpin",
                          "pkcs11:token=t?pin-value=s3cr3tpin&bogus=1",
                          "pkcs11:token=t?pin-value=s3cr3tpin%zz"}) {
    auto u = ParsePkcs11Uri(uri);
    ASSERT_FALSE(u.ok()) << uri;
    EXPECT_EQ(u.status().message().find("s3cr3tpin"), std::string::npos) << u.status().message();
  }
  auto k = ClassifyKey("tpmkms:name=1?pin-value=s3cr3tpin");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message().find("s3cr3tpin"), std::string::npos);
}

TEST(KeyUri, MergeKeyOverKms) {
  auto kms = ParsePkcs11Uri("pkcs11:module-path=/m.so;token=ca?pin-value=1234");
  auto key = ParsePkcs11Uri("pkcs11:id=7331;object=intermediate-key");
  ASSERT_TRUE(kms.ok() && key.ok());
  Pkcs11Uri m = MergePkcs11Uri(*kms, *key);
  EXPECT_EQ(m.module_path, "/m.so");
  EXPECT_EQ(m.token, "ca");
  EXPECT_EQ(m.pin_value, "1234");
  EXPECT_EQ(m.id, "\x73\x31");
  EXPECT_EQ(m.object, "intermediate-key");
  auto key2 = ParsePkcs11Uri("pkcs11:token=other;object=k?pin-source=/p");
  ASSERT_TRUE(key2.ok());
  Pkcs11Uri m2 = MergePkcs11Uri(*kms, *key2);
  EXPECT_EQ(m2.token, "other");
  EXPECT_EQ(m2.pin_value, "");
  EXPECT_EQ(m2.pin_source, "/p");
}

TEST(KeyUri, ClassifiesFilesAndPkcs11) {
  for (const char* f : {"secrets/intermediate_ca_key", "/etc/step/key.pem", "key:with/colon",
                        "./a:b"}) {
    auto k = ClassifyKey(f);
    ASSERT_TRUE(k.ok()) << f;
    EXPECT_EQ(k.value(), KeyScheme::kFile) << f;
  }
  struct Case {
    const char* key;
    KeyScheme scheme;
  } kms[] = {
      {"pkcs11:id=7331", KeyScheme::kPkcs11},
      {"yubikey:slot-id=9c", KeyScheme::kYubiKey},
      {"awskms:key-id=f879f239-feb6-4596-9ed2-b1606277c7fe", KeyScheme::kAwsKms},
      {"AWSKMS:key-id=1", KeyScheme::kAwsKms},
      {"azurekms:name=intermediate-ca-key;vault=example-vault-0?version=15", KeyScheme::kAzureKms},
      {"cloudkms:projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
       KeyScheme::kCloudKms},
      {"projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
       KeyScheme::kCloudKms},
  };
  for (const auto& c : kms) {
    auto k = ClassifyKey(c.key);
    ASSERT_TRUE(k.ok()) << c.key << ": " << k.status().message();
    EXPECT_EQ(k.value(), c.scheme) << c.key;
  }
}

TEST(KeyUri, OtherKmsSchemesAreNamedWithTheSupportedOnes) {
  struct Case {
    const char* key;
    const char* scheme;
  } cases[] = {
      {"sshagentkms:name=x", "sshagentkms:"},
      {"tpmkms:name=intermediate", "tpmkms:"},
      {"CAPI:store-location=machine", "capi:"},
      {"https://vault.example/keys/x", "https://"},
  };
  for (const auto& c : cases) {
    auto k = ClassifyKey(c.key);
    ASSERT_FALSE(k.ok()) << c.key;
    EXPECT_EQ(k.status().code(), Code::kInvalidArgument);
    const std::string& m = k.status().message();
    EXPECT_NE(m.find(c.scheme), std::string::npos) << m;
    EXPECT_NE(m.find("not supported"), std::string::npos) << m;
    EXPECT_NE(m.find("supported: a PEM file path, pkcs11:, yubikey:, awskms:, cloudkms"), std::string::npos) << m;
    EXPECT_EQ(m.find("cannot read"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace stepca
