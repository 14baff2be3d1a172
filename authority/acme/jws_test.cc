#include "authority/acme/jws.h"

#include <gtest/gtest.h>

#include "authority/testing/fixture_pki.h"
#include "shared/base64.h"

namespace stepca {
namespace acme {
namespace {

using testing::MakeKey;

std::string Signed(EVP_PKEY* key, json_t* extra = nullptr, const std::string& payload = "{}") {
  JsonPtr h(json_pack("{s:o,s:s,s:s}", "jwk", JwkToJson(key, false, "", "").value().release(),
                      "nonce", "n", "url", "https://ca.test/x"));
  if (extra) json_object_update(h.get(), extra);
  return SignFlatJws(h.get(), payload, key).value();
}

TEST(AcmeJws, ParsesAndVerifiesEveryAcmeKeyType) {
  for (const char* t : {"P-256", "P-384", "P-521", "RSA-2048", "ED25519"}) {
    EvpPkeyPtr k = MakeKey(t);
    FlatJws j;
    ASSERT_TRUE(ParseFlatJws(Signed(k.get()), KeyMode::kJwk, &j).ok()) << t;
    EXPECT_TRUE(VerifyFlatJws(j, j.jwk->key.get()).ok()) << t;
    EXPECT_EQ(j.payload, "{}");
    EXPECT_EQ(j.url, "https://ca.test/x");
    EXPECT_EQ(j.nonce, "n");
  }
}

TEST(AcmeJws, PostAsGetPayloadIsEmpty) {
  EvpPkeyPtr k = MakeKey("P-256");
  FlatJws j;
  ASSERT_TRUE(ParseFlatJws(Signed(k.get(), nullptr, ""), KeyMode::kJwk, &j).ok());
  EXPECT_TRUE(j.payload.empty());
  EXPECT_TRUE(VerifyFlatJws(j, k.get()).ok());
}

TEST(AcmeJws, RejectsSymmetricAndUnknownAlgorithms) {
  for (const char* alg : {"none", "HS256", "HS512", "ES256K", "RS1", ""}) {
    JsonPtr h(json_pack("{s:s,s:s,s:s}", "alg", alg, "kid", "k", "url", "u"));
    char* t = json_dumps(h.get(), JSON_COMPACT);
    std::string text = FlatJwsText(Base64UrlEncode(t), "", "sig");
    free(t);
    FlatJws j;
    EXPECT_EQ(ParseFlatJws(text, KeyMode::kKid, &j).type, "badSignatureAlgorithm") << alg;
  }
}

TEST(AcmeJws, AlgorithmMustFitTheKey) {
  EvpPkeyPtr p256 = MakeKey("P-256");
  EvpPkeyPtr p384 = MakeKey("P-384");
  FlatJws j;
  ASSERT_TRUE(ParseFlatJws(Signed(p256.get()), KeyMode::kJwk, &j).ok());
  EXPECT_EQ(VerifyFlatJws(j, p384.get()).type, "badSignatureAlgorithm");
  EvpPkeyPtr other = MakeKey("P-256");
  EXPECT_EQ(VerifyFlatJws(j, other.get()).type, "malformed");
}

TEST(AcmeJws, StructureRules) {
  EvpPkeyPtr k = MakeKey("P-256");
  FlatJws j;
  EXPECT_EQ(ParseFlatJws("[]", KeyMode::kJwk, &j).type, "malformed");
  EXPECT_EQ(ParseFlatJws("{\"protected\":\"e30\",\"payload\":\"\"}", KeyMode::kJwk, &j).type, "malformed");
  EXPECT_EQ(ParseFlatJws(std::string(kMaxJwsBody + 1, ' '), KeyMode::kJwk, &j).type, "malformed");
  // Duplicate members in the body.
  EXPECT_EQ(ParseFlatJws("{\"protected\":\"e30\",\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"\"}",
                         KeyMode::kJwk, &j).type, "malformed");
  // crit, missing url, kid+jwk, key mode mismatches.
  JsonPtr crit(json_pack("{s:[s]}", "crit", "b64"));
  EXPECT_EQ(ParseFlatJws(Signed(k.get(), crit.get()), KeyMode::kJwk, &j).type, "malformed");
  JsonPtr kid(json_pack("{s:s}", "kid", "https://ca.test/acct/1"));
  EXPECT_EQ(ParseFlatJws(Signed(k.get(), kid.get()), KeyMode::kEither, &j).type, "malformed");
  FlatJws j2;
  EXPECT_EQ(ParseFlatJws(Signed(k.get()), KeyMode::kKid, &j2).type, "malformed");
  // A private key in the header.
  JsonPtr priv(json_pack("{s:o}", "jwk", JwkToJson(k.get(), true, "", "").value().release()));
  FlatJws j3;
  EXPECT_EQ(ParseFlatJws(Signed(k.get(), priv.get()), KeyMode::kJwk, &j3).type, "malformed");
}

TEST(AcmeJws, HmacForEab) {
  EXPECT_EQ(HmacSign("HS256", "k", "d").size(), 32u);
  EXPECT_EQ(HmacSign("HS512", "k", "d").size(), 64u);
  EXPECT_TRUE(HmacSign("RS256", "k", "d").empty());
}

}  // namespace
}  // namespace acme
}  // namespace stepca
