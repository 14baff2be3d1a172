#include "authority/provisioner/provisioner_base.h"

#include <gtest/gtest.h>

#include "authority/provisioner/acme_provisioner.h"
#include "authority/testing/fake_time_source.h"

namespace stepca {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

// A certificate valid from start for a day.
X509Ptr CertValidFrom(TimePoint start) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  const time_t t = std::chrono::duration_cast<std::chrono::seconds>(start.time_since_epoch()).count();
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), t);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), t + 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_sign(cert.get(), key.get(), EVP_sha256());
  return cert;
}

class RenewRuleTest : public ::testing::Test {
 protected:
  const TimePoint start_ = ParseRfc3339("2025-03-01T00:00:00Z").value();
  testing::FakeTimeSource time_{start_};
  X509Ptr cert_ = CertValidFrom(start_);
};

TEST_F(RenewRuleTest, AcceptsACertificateValidNow) {
  time_.Advance(hours(12));
  EXPECT_TRUE(DefaultAuthorizeRenew(Claims{}, "p", cert_.get(), time_.Now()).ok());
}

TEST_F(RenewRuleTest, RefusesWhenRenewalIsDisabled) {
  Claims c;
  c.disable_renewal = true;
  time_.Advance(hours(1));
  Status st = DefaultAuthorizeRenew(c, "p", cert_.get(), time_.Now());
  EXPECT_EQ(st.code(), Code::kUnauthenticated);
  EXPECT_EQ(st.message(), "authority.authorizeRenew: renew is disabled for provisioner \"p\"");
}

TEST_F(RenewRuleTest, RefusesACertificateNotYetValid) {
  time_.Set(start_ - minutes(1));
  Status st = DefaultAuthorizeRenew(Claims{}, "p", cert_.get(), time_.Now());
  EXPECT_EQ(st.message(), "authority.authorizeRenew: certificate is not yet valid");
}

TEST_F(RenewRuleTest, RefusesAnExpiredCertificateUnlessAllowed) {
  time_.Advance(hours(25));
  Status st = DefaultAuthorizeRenew(Claims{}, "p", cert_.get(), time_.Now());
  EXPECT_EQ(st.message(), "authority.authorizeRenew: certificate expired on 2025-03-02T00:00:00Z");
  Claims allow;
  allow.allow_renewal_after_expiry = true;
  EXPECT_TRUE(DefaultAuthorizeRenew(allow, "p", cert_.get(), time_.Now()).ok());
}

TEST_F(RenewRuleTest, AProvisionerAppliesItsOwnClaims) {
  Claims c;
  c.disable_renewal = true;
  AcmeProvisioner acme("acme", c, JsonPtr(json_object()));
  time_.Advance(hours(1));
  EXPECT_EQ(acme.AuthorizeRenew(cert_.get(), time_.Now()).code(), Code::kUnauthenticated);
  AcmeProvisioner open("acme", Claims{}, JsonPtr(json_object()));
  EXPECT_TRUE(open.AuthorizeRenew(cert_.get(), time_.Now()).ok());
}

TEST(AcmeProvisioner, TakesNoTokens) {
  AcmeProvisioner acme("acme", Claims{}, JsonPtr(json_object()));
  EXPECT_EQ(acme.id(), "acme/acme");
  EXPECT_EQ(acme.type(), ProvisionerType::kAcme);
  Jws jws;
  TokenClaims claims;
  Audiences aud({"ca.example.test"});
  auto sign = acme.AuthorizeSign(jws, claims, aud, Clock::now());
  EXPECT_EQ(sign.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(sign.status().message(),
            "provisioner \"acme\" of type ACME does not accept one-time tokens");
  auto revoke = acme.AuthorizeRevoke(jws, claims, aud, Clock::now());
  EXPECT_EQ(revoke.status().message(),
            "provisioner \"acme\" of type ACME does not accept revoke tokens");
}

TEST(TokenUseKey, NeedsAJtiAndIsPerProvisioner) {
  TokenClaims claims;
  auto none = TokenUseKey("jwk/a", claims, "jwk.authorizeToken");
  EXPECT_EQ(none.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(none.status().message(), "jwk.authorizeToken: token has no jti");
  claims.id = "abc";
  auto a = TokenUseKey("jwk/a", claims, "x");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_EQ(*a, TokenUseKey("jwk/a", claims, "y").value());
  EXPECT_NE(*a, TokenUseKey("jwk/b", claims, "x").value());
}

}  // namespace
}  // namespace stepca
