#include "authority/policy/token_authorization.h"

#include <gtest/gtest.h>

#include "authority/provisioner/jwk_provisioner.h"
#include "authority/testing/fixture_pki.h"

namespace stepca {
namespace {

constexpr char kHost[] = "ca.example.test";
constexpr char kName[] = "ops@example.test";
constexpr char kKid[] = "token-test-kid";

class AuthorizeTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    EVP_PKEY_up_ref(key_.get());
    ASSERT_TRUE(provisioners_
                    .Add(std::make_unique<JwkProvisioner>(kName, Claims{}, JsonPtr(json_object()),
                                                          EvpPkeyPtr(key_.get()), kKid, ""),
                         "p[0]")
                    .ok());
  }

  std::string Token(const std::string& aud, const std::string& kid = kKid,
                    EVP_PKEY* key = nullptr) {
    JsonPtr c = testing::StepTokenClaims("a.example.test", aud);
    json_object_set_new(c.get(), "iss", json_string(kName));
    return testing::MintToken(key ? key : key_.get(), c.get(), kid);
  }

  EvpPkeyPtr key_;
  ProvisionerCollection provisioners_;
  Audiences audiences_{{kHost}};
};

TEST_F(AuthorizeTokenTest, FindsTheProvisionerByIssuerAndKid) {
  auto t = AuthorizeToken(TokenMethod::kSign, Token("https://ca.example.test/1.0/sign"),
                          provisioners_, audiences_, Clock::now());
  ASSERT_TRUE(t.ok()) << t.status().LogText();
  EXPECT_EQ(t->provisioner->name(), kName);
  EXPECT_EQ(t->grant.subject, "a.example.test");
  EXPECT_FALSE(t->grant.token_key.empty());
}

TEST_F(AuthorizeTokenTest, RefusesGarbageAnUnknownKidAndTheWrongAudience) {
  const TimePoint now = Clock::now();
  auto garbage = AuthorizeToken(TokenMethod::kSign, "x", provisioners_, audiences_, now);
  EXPECT_EQ(garbage.status().message(), "authority.authorizeToken: error parsing token");
  auto kid = AuthorizeToken(TokenMethod::kSign, Token("https://ca.example.test/1.0/sign", "other"),
                            provisioners_, audiences_, now);
  EXPECT_EQ(kid.status().message(),
            "authority.authorizeToken: provisioner not found or invalid audience");
  auto aud = AuthorizeToken(TokenMethod::kRevoke, Token("https://ca.example.test/1.0/sign"),
                            provisioners_, audiences_, now);
  EXPECT_EQ(aud.status().message(),
            "authority.authorizeRevoke: provisioner not found or invalid audience");
}

TEST_F(AuthorizeTokenTest, RefusesATokenSignedByAnotherKey) {
  EvpPkeyPtr other(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  auto t = AuthorizeToken(TokenMethod::kSign,
                          Token("https://ca.example.test/1.0/sign", kKid, other.get()),
                          provisioners_, audiences_, Clock::now());
  EXPECT_EQ(t.status().code(), Code::kUnauthenticated);
}

// A one-time token must name itself: without a jti (or with an empty one)
// it is refused for signing and for revoking, and the log says why.
TEST_F(AuthorizeTokenTest, RefusesATokenWithoutJti) {
  const TimePoint now = Clock::now();
  for (TokenMethod m : {TokenMethod::kSign, TokenMethod::kRevoke}) {
    const std::string aud = m == TokenMethod::kSign ? "https://ca.example.test/1.0/sign"
                                                    : "https://ca.example.test/1.0/revoke";
    for (bool empty : {false, true}) {
      JsonPtr c = testing::StepTokenClaims("a.example.test", aud);
      json_object_set_new(c.get(), "iss", json_string(kName));
      if (empty) json_object_set_new(c.get(), "jti", json_string(""));
      else json_object_del(c.get(), "jti");
      auto t = AuthorizeToken(m, testing::MintToken(key_.get(), c.get(), kKid), provisioners_,
                              audiences_, now);
      EXPECT_EQ(t.status().code(), Code::kUnauthenticated);
      EXPECT_NE(t.status().LogText().find("token has no jti"), std::string::npos)
          << t.status().LogText();
    }
  }
}

}  // namespace
}  // namespace stepca
