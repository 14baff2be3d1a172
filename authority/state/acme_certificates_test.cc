#include "authority/state/acme_certificates.h"

#include <gtest/gtest.h>

#include "authority/store/memory_store.h"

namespace stepca {
namespace {

TEST(AcmeCertificatesTest, RoundTripAndSerialIndex) {
  auto store = MakeMemoryStore();
  AcmeCertificates certs(*store);
  acme::CertRecord c{"c1", "acct", "1234", "-----BEGIN CERTIFICATE-----\n"};
  EXPECT_EQ(AcmeCertificates::Encode(c),
            R"({"id":"c1","account":"acct","serial":"1234","chain":"-----BEGIN CERTIFICATE-----\n"})");
  ASSERT_TRUE(certs.Insert(c, std::chrono::seconds(60)).ok());
  EXPECT_EQ(certs.Insert(c, std::chrono::seconds(60)).code(), Code::kAlreadyExists);
  auto byid = certs.Find("c1");
  ASSERT_TRUE(byid.ok() && byid->has_value());
  EXPECT_EQ((*byid)->chain, c.chain);
  auto byserial = certs.FindBySerial("1234");
  ASSERT_TRUE(byserial.ok() && byserial->has_value());
  EXPECT_EQ((*byserial)->account, "acct");
  EXPECT_FALSE(certs.FindBySerial("99").value().has_value());
}

TEST(AcmeCertificatesTest, DamagedBytesDoNotDecode) {
  EXPECT_FALSE(AcmeCertificates::Decode("garbage"));
  EXPECT_FALSE(AcmeCertificates::Decode(R"({"serial":"1"})"));
  auto store = MakeMemoryStore();
  ASSERT_TRUE(store->Put(AcmeCertificates::Key("bad"), "1", std::chrono::seconds(0)).ok());
  EXPECT_EQ(AcmeCertificates(*store).Find("bad").status().code(), Code::kInternal);
}

}  // namespace
}  // namespace stepca
