#include "authority/x509/ec_csr.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <string>

#include "authority/x509/csr.h"

namespace stepca {
namespace {

struct Made {
  EvpPkeyPtr key;
  std::string der;
};

// A request as `step` and most clients write it: CN, a DNS SAN in an
// extensionRequest attribute, signed with md.
Made MakeCsr(const char* type, const char* curve, const EVP_MD* md,
             point_conversion_form_t form = POINT_CONVERSION_UNCOMPRESSED) {
  Made m;
  m.key.reset(curve ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                    : std::string(type) == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, size_t{2048})
                                                 : EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  if (curve && form != POINT_CONVERSION_UNCOMPRESSED)
    EVP_PKEY_set_utf8_string_param(m.key.get(), "point-format", "compressed");
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), X509_REQ_VERSION_1);
  X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName, MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fast.example.test"), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), m.key.get());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name,
                                                   "DNS:fast.example.test"));
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  EXPECT_GT(X509_REQ_sign(req.get(), m.key.get(), md), 0);
  unsigned char* der = nullptr;
  const int n = i2d_X509_REQ(req.get(), &der);
  m.der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return m;
}

std::string SubjectDer(X509_REQ* req) {
  unsigned char* der = nullptr;
  const int n = i2d_X509_NAME(X509_REQ_get_subject_name(req), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

// The general parser's view of the same bytes, to compare with.
X509ReqPtr General(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509ReqPtr(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
}

TEST(ParseEcCsr, TakesEveryNamedCurveAndDigestAndMatchesTheGeneralParser) {
  struct Case {
    const char* curve;
    const EVP_MD* md;
  } cases[] = {{"P-256", EVP_sha256()}, {"P-384", EVP_sha384()}, {"P-521", EVP_sha512()},
               {"P-256", EVP_sha512()}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.curve);
    Made m = MakeCsr("EC", c.curve, c.md);
    auto fast = ParseEcCsr(m.der);
    ASSERT_TRUE(fast.has_value());
    ASSERT_TRUE(fast->ok()) << fast->status().message();
    X509_REQ* req = fast->value().get();
    X509ReqPtr general = General(m.der);
    ASSERT_TRUE(general);
    EXPECT_EQ(SubjectDer(req), SubjectDer(general.get()));
    EXPECT_EQ(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), m.key.get()), 1);
    EXPECT_EQ(X509_REQ_get_attr_count(req), X509_REQ_get_attr_count(general.get()));
    // The assembled request carries the client's signature: re-encoded, it
    // still verifies.
    EXPECT_EQ(X509_REQ_verify(req, m.key.get()), 1);
    // and the key works with EVP calls made later (issuance, comparisons)
    char group[64] = {0};
    size_t len = 0;
    EXPECT_EQ(EVP_PKEY_get_group_name(X509_REQ_get0_pubkey(req), group, sizeof group, &len), 1);
    EXPECT_TRUE(CheckPublicKey(X509_REQ_get0_pubkey(req)).ok());
  }
}

TEST(ParseEcCsr, CompressedPointIsTheSameKey) {
  Made m = MakeCsr("EC", "P-256", EVP_sha256(), POINT_CONVERSION_COMPRESSED);
  auto fast = ParseEcCsr(m.der);
  ASSERT_TRUE(fast.has_value() && fast->ok());
  EXPECT_EQ(EVP_PKEY_eq(X509_REQ_get0_pubkey(fast->value().get()), m.key.get()), 1);
}

TEST(ParseEcCsr, RejectsABadSignatureInStepCasWords) {
  Made m = MakeCsr("EC", "P-256", EVP_sha256());
  std::string bad = m.der;
  bad[bad.size() - 3] ^= 0x01;  // inside the ECDSA signature's s
  auto fast = ParseEcCsr(bad);
  ASSERT_TRUE(fast.has_value());
  ASSERT_FALSE(fast->ok());
  EXPECT_EQ(fast->status().code(), Code::kInvalidArgument);
  EXPECT_EQ(fast->status().message(), "invalid csr: x509: ECDSA verification failure");
  // and ParseCsrDer answers the same
  auto parsed = ParseCsrDer(bad);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "invalid csr: x509: ECDSA verification failure");

  // a signed byte changed in the subject
  std::string other = m.der;
  const size_t at = other.find("fast.example.test");
  ASSERT_NE(at, std::string::npos);
  other[at] = 'F';
  auto changed = ParseEcCsr(other);
  ASSERT_TRUE(changed.has_value());
  EXPECT_FALSE(changed->ok());
}

TEST(ParseEcCsr, LeavesOtherRequestsToTheGeneralParser) {
  // other key types
  EXPECT_FALSE(ParseEcCsr(MakeCsr("RSA", nullptr, EVP_sha256()).der).has_value());
  EXPECT_FALSE(ParseEcCsr(MakeCsr("ED25519", nullptr, nullptr).der).has_value());
  // an EC key signed with SHA-1: the general parser decides
  EXPECT_FALSE(ParseEcCsr(MakeCsr("EC", "P-256", EVP_sha1()).der).has_value());
  Made m = MakeCsr("EC", "P-256", EVP_sha256());
  // trailing data, truncation, garbage, empty
  EXPECT_FALSE(ParseEcCsr(m.der + std::string("\x00", 1)).has_value());
  EXPECT_FALSE(ParseEcCsr(m.der.substr(0, m.der.size() - 1)).has_value());
  EXPECT_FALSE(ParseEcCsr(m.der.substr(0, 10)).has_value());
  EXPECT_FALSE(ParseEcCsr("").has_value());
  EXPECT_FALSE(ParseEcCsr(std::string(40, '\x30')).has_value());
  // ParseCsrDer still refuses what the general parser refuses
  auto trailing = ParseCsrDer(m.der + std::string("\x00", 1));
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(ParseCsrDer(m.der.substr(0, m.der.size() - 1)).ok());
}

TEST(ParseEcCsr, APointOffTheCurveIsRefused) {
  Made m = MakeCsr("EC", "P-256", EVP_sha256());
  // The uncompressed point is the 65 bytes after "03 42 00 04"; change the
  // last byte of y, which leaves the curve.
  const std::string marker("\x03\x42\x00\x04", 4);
  const size_t at = m.der.find(marker);
  ASSERT_NE(at, std::string::npos);
  std::string off = m.der;
  off[at + marker.size() + 63] ^= 0x01;
  EXPECT_FALSE(ParseEcCsr(off).has_value());
  auto parsed = ParseCsrDer(off);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
}

TEST(ParseEcCsr, ANonZeroVersionGoesToTheGeneralParser) {
  Made m = MakeCsr("EC", "P-256", EVP_sha256());
  // version INTEGER 0 is the first element of the info: "02 01 00"
  const size_t at = m.der.find(std::string("\x02\x01\x00", 3));
  ASSERT_NE(at, std::string::npos);
  std::string v2 = m.der;
  v2[at + 2] = 0x01;
  EXPECT_FALSE(ParseEcCsr(v2).has_value());
  auto parsed = ParseCsrDer(v2);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace stepca
