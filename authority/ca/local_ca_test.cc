#include "authority/ca/local_ca.h"

#include <gtest/gtest.h>

#include "authority/signer/file_signer.h"

namespace stepca {
namespace {

using std::chrono::hours;

EvpPkeyPtr P256() { return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

// A self-signed CA certificate for key, valid for a day: enough for the
// issuer, and no file is read.
X509Ptr SelfSigned(EVP_PKEY* key, const char* cn) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  X509_sign(cert.get(), key, EVP_sha256());
  return cert;
}

class LocalCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EvpPkeyPtr key = P256();
    X509Ptr cert = SelfSigned(key.get(), "Local CA test");
    issuing_ = X509Ptr(X509_dup(cert.get()));
    std::vector<X509Ptr> chain;
    chain.push_back(std::move(cert));
    auto signer = MakeFileSigner(std::move(key));
    ASSERT_TRUE(signer.ok());
    auto ca = MakeLocalCa(std::move(chain), std::move(signer).value());
    ASSERT_TRUE(ca.ok()) << ca.status().message();
    ca_ = std::move(ca).value();
    leaf_key_ = P256();
  }

  CertificateRequest Request() {
    CertificateRequest r;
    r.leaf.public_key = leaf_key_.get();
    r.leaf.common_name = "leaf.example.test";
    r.leaf.sans = ClassifySans({"leaf.example.test"});
    const TimePoint now = Clock::now();
    r.leaf.validity.not_before = now;
    r.leaf.validity.not_after = now + hours(1);
    r.leaf.provisioner = {ProvisionerType::kJwk, "p", "kid"};
    return r;
  }

  X509Ptr issuing_;
  EvpPkeyPtr leaf_key_;
  std::unique_ptr<CertificateAuthorityService> ca_;
};

TEST_F(LocalCaTest, IssuesLeavesTheIssuingCertificateVerifies) {
  ASSERT_TRUE(ca_->InitProcess().ok());
  auto issued = ca_->Issue(Request());
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_EQ(X509_verify(issued->cert.get(), X509_get0_pubkey(issuing_.get())), 1);
  EXPECT_EQ(X509_check_issued(issuing_.get(), issued->cert.get()), X509_V_OK);
  EXPECT_EQ(SerialDecimal(issued->cert.get()), issued->serial);
}

TEST_F(LocalCaTest, ReissuesWithANewSerialAndTheSameKey) {
  auto first = ca_->Issue(Request());
  ASSERT_TRUE(first.ok());
  ReissueCertificateRequest rr;
  rr.reissue.old = first->cert.get();
  rr.reissue.validity = Request().leaf.validity;
  auto again = ca_->Reissue(rr);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_NE(again->serial, first->serial);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(again->cert.get()), leaf_key_.get()), 1);
  EXPECT_EQ(X509_verify(again->cert.get(), X509_get0_pubkey(issuing_.get())), 1);
}

TEST_F(LocalCaTest, AnswersWithItsChainAndLimit) {
  ASSERT_EQ(ca_->ChainPems().size(), 1u);
  EXPECT_EQ(ca_->ChainPems()[0], CertificateToPem(issuing_.get()));
  EXPECT_EQ(X509_cmp(ca_->IssuingCertificate(), issuing_.get()), 0);
  EXPECT_GT(ca_->IssuerNotAfter(), Clock::now() + hours(23));
  EXPECT_LT(ca_->IssuerNotAfter(), Clock::now() + hours(25));
}

TEST_F(LocalCaTest, RefusesALeafThatOutlivesTheIssuer) {
  CertificateRequest r = Request();
  r.leaf.validity.not_after = Clock::now() + hours(48);
  EXPECT_FALSE(ca_->Issue(r).ok());
}

TEST(MakeLocalCa, RefusesAKeyThatIsNotTheIssuingCertificates) {
  EvpPkeyPtr key = P256();
  std::vector<X509Ptr> chain;
  chain.push_back(SelfSigned(key.get(), "CA"));
  auto other = MakeFileSigner(P256());
  ASSERT_TRUE(other.ok());
  auto ca = MakeLocalCa(std::move(chain), std::move(other).value());
  EXPECT_EQ(ca.status().code(), Code::kInvalidArgument);
  auto signer = MakeFileSigner(P256());
  EXPECT_FALSE(MakeLocalCa({}, std::move(signer).value()).ok());
}

}  // namespace
}  // namespace stepca
