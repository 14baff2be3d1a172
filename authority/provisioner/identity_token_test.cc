#include "authority/provisioner/identity_token.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

TEST(IdentityToken, TimeClaims) {
  const TimePoint now(std::chrono::seconds(1700000000));
  TokenClaims c;
  EXPECT_FALSE(CheckIdentityTimeClaims(c, now).ok());  // exp required
  c.expiry = 1700000000 + 86400;                       // a day: the issuer's choice
  EXPECT_TRUE(CheckIdentityTimeClaims(c, now).ok());
  c.expiry = 1700000000 - 59;  // within the leeway
  EXPECT_TRUE(CheckIdentityTimeClaims(c, now).ok());
  c.expiry = 1700000000 - 61;
  EXPECT_FALSE(CheckIdentityTimeClaims(c, now).ok());
  c.expiry = 1700000000 + 60;
  c.not_before = 1700000000 + 61;
  EXPECT_FALSE(CheckIdentityTimeClaims(c, now).ok());
  c.not_before.reset();
  c.issued_at = 1700000000 + 61;
  EXPECT_FALSE(CheckIdentityTimeClaims(c, now).ok());
}

TEST(IdentityToken, TheKeysAlgIsTheOnlyOneAccepted) {
  EvpPkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", 2048));
  JsonPtr h(json_object()), p(json_pack("{s:s}", "sub", "x"));
  auto rs = ParseCompactJws(SignCompactJws(h.get(), p.get(), rsa.get(), "RS256").value());
  auto ps = ParseCompactJws(SignCompactJws(h.get(), p.get(), rsa.get(), "PS256").value());
  ASSERT_TRUE(rs.ok() && ps.ok());
  auto jwk = std::make_shared<Jwk>();
  jwk->key.reset(EVP_PKEY_dup(rsa.get()));
  jwk->alg = "RS256";
  std::vector<std::shared_ptr<const Jwk>> keys{jwk};
  EXPECT_TRUE(VerifiedByOneOf(*rs, keys));
  EXPECT_FALSE(VerifiedByOneOf(*ps, keys));  // the JWK says RS256
  jwk->alg.clear();
  EXPECT_TRUE(VerifiedByOneOf(*ps, keys));  // no alg: any the key allows
  EXPECT_FALSE(VerifiedByOneOf(*rs, std::vector<std::shared_ptr<const Jwk>>{}));
  EXPECT_NE(IdentityTokenUseKey("a", "b"), IdentityTokenUseKey("a", "c"));
}

}  // namespace
}  // namespace stepca
