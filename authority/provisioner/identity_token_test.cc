#include "authority/provisioner/identity_token.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

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
