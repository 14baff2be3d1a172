#include "authority/revocation/crl_builder.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "authority/revocation/test_issuer.h"

namespace stepca {
namespace {

using CrlPtr = OsslPtr<X509_CRL, X509_CRL_free>;

const TimePoint kNow = TimePoint(std::chrono::seconds(1800000000));

CrlPtr Parse(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  return CrlPtr(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
}

CrlContents Contents() {
  CrlContents c;
  c.number = 7;
  c.this_update = kNow;
  c.next_update = kNow + std::chrono::hours(24);
  c.entries = {{"340282366920938463463374607431768211455", kNow - std::chrono::hours(1), 1},
               {"12", kNow - std::chrono::hours(2), 0}};
  return c;
}

TEST(CrlBuilder, SignedByTheIssuerWithNumberTimesEntriesAndReasons) {
  auto issuer = testing::TestIssuer::Make();
  auto der = BuildCrl(issuer.cert.get(), *issuer.signer, Contents());
  ASSERT_TRUE(der.ok()) << der.status().message();
  CrlPtr crl = Parse(*der);
  ASSERT_TRUE(crl);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer.cert.get())), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer.cert.get())), 0);
  EXPECT_EQ(X509_CRL_get_version(crl.get()), X509_CRL_VERSION_2);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl.get()), 1800000000), 0);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl.get()), 1800000000 + 86400), 0);

  OsslPtr<ASN1_INTEGER, ASN1_INTEGER_free> number(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr)));
  ASSERT_TRUE(number);
  EXPECT_EQ(ASN1_INTEGER_get(number.get()), 7);
  OsslPtr<AUTHORITY_KEYID, AUTHORITY_KEYID_free> akid(static_cast<AUTHORITY_KEYID*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_authority_key_identifier, nullptr, nullptr)));
  ASSERT_TRUE(akid && akid->keyid);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(issuer.cert.get())), 0);
  EXPECT_EQ(X509_CRL_get_ext_by_NID(crl.get(), NID_issuing_distribution_point, -1), -1);

  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  ASSERT_EQ(sk_X509_REVOKED_num(revoked), 2);
  // Sorted by serial: 12 first.
  X509_REVOKED* first = sk_X509_REVOKED_value(revoked, 0);
  X509_REVOKED* second = sk_X509_REVOKED_value(revoked, 1);
  EXPECT_EQ(ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(first)), 12);
  EXPECT_EQ(X509_REVOKED_get_ext_by_NID(first, NID_crl_reason, -1), -1);  // unspecified: absent
  OsslPtr<ASN1_ENUMERATED, ASN1_ENUMERATED_free> reason(static_cast<ASN1_ENUMERATED*>(
      X509_REVOKED_get_ext_d2i(second, NID_crl_reason, nullptr, nullptr)));
  ASSERT_TRUE(reason);
  EXPECT_EQ(ASN1_ENUMERATED_get(reason.get()), 1);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(second), 1800000000 - 3600), 0);
}

TEST(CrlBuilder, IssuingDistributionPointIsCriticalWithTheUrl) {
  auto issuer = testing::TestIssuer::Make();
  CrlContents c = Contents();
  c.idp_url = "http://ca.example.test/1.0/crl";
  auto der = BuildCrl(issuer.cert.get(), *issuer.signer, c);
  ASSERT_TRUE(der.ok()) << der.status().message();
  CrlPtr crl = Parse(*der);
  const int at = X509_CRL_get_ext_by_NID(crl.get(), NID_issuing_distribution_point, -1);
  ASSERT_GE(at, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_CRL_get_ext(crl.get(), at)), 1);
  OsslPtr<ISSUING_DIST_POINT, ISSUING_DIST_POINT_free> idp(static_cast<ISSUING_DIST_POINT*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_issuing_distribution_point, nullptr, nullptr)));
  ASSERT_TRUE(idp && idp->distpoint && idp->distpoint->type == 0);
  GENERAL_NAME* gn = sk_GENERAL_NAME_value(idp->distpoint->name.fullname, 0);
  ASSERT_EQ(gn->type, GEN_URI);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier))),
            c.idp_url);
}

TEST(CrlBuilder, AnEmptyListIsAValidCrl) {
  auto issuer = testing::TestIssuer::Make();
  CrlContents c = Contents();
  c.entries.clear();
  auto der = BuildCrl(issuer.cert.get(), *issuer.signer, c);
  ASSERT_TRUE(der.ok());
  CrlPtr crl = Parse(*der);
  ASSERT_TRUE(crl);
  // OpenSSL leaves the list out altogether (RFC 5280: absent when empty).
  EXPECT_LE(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get())), 0);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer.cert.get())), 1);
}

TEST(CrlBuilder, RefusesBadSerialsReasonsAndTimes) {
  auto issuer = testing::TestIssuer::Make();
  for (const char* bad : {"", "-1", "12a", "0x10"}) {
    CrlContents c = Contents();
    c.entries = {{bad, kNow, 0}};
    auto der = BuildCrl(issuer.cert.get(), *issuer.signer, c);
    EXPECT_EQ(der.status().code(), Code::kInvalidArgument) << bad;
  }
  for (int reason : {-1, 7, 11}) {
    CrlContents c = Contents();
    c.entries = {{"5", kNow, reason}};
    EXPECT_EQ(BuildCrl(issuer.cert.get(), *issuer.signer, c).status().code(), Code::kInvalidArgument)
        << reason;
  }
  CrlContents c = Contents();
  c.next_update = c.this_update;
  EXPECT_FALSE(BuildCrl(issuer.cert.get(), *issuer.signer, c).ok());
}

TEST(CrlBuilder, ReasonNames) {
  EXPECT_EQ(CrlReasonCode("keyCompromise"), 1);
  EXPECT_EQ(CrlReasonCode("cACompromise"), 2);
  EXPECT_EQ(CrlReasonCode("superseded"), 4);
  EXPECT_EQ(CrlReasonCode("aACompromise"), 10);
  EXPECT_EQ(CrlReasonCode("keycompromise"), -1);
  EXPECT_EQ(CrlReasonCode(""), -1);
  EXPECT_FALSE(ValidCrlReason(7));
  EXPECT_TRUE(ValidCrlReason(0));
}

}  // namespace
}  // namespace stepca
