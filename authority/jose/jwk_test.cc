#include "authority/testing/fixture_pki.h"
#include "authority/jose/jwk.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "authority/jose/jws.h"
#include "shared/base64.h"

namespace stepca {
namespace {

using testing::ReadFixture;

JsonPtr ProvisionerKeyJson() {
  JsonPtr p = testing::FixtureJwkProvisioner();
  return p ? JsonPtr(json_deep_copy(json_object_get(p.get(), "key"))) : nullptr;
}

std::string Dump(const json_t* j) {
  char* t = json_dumps(j, JSON_COMPACT);
  std::string s(t);
  free(t);
  return s;
}

// A copy of obj with member name set to the string value (or removed).
JsonPtr With(const json_t* obj, const char* name, const char* value) {
  JsonPtr copy(json_deep_copy(obj));
  if (value) {
    json_object_set_new(copy.get(), name, json_string(value));
  } else {
    json_object_del(copy.get(), name);
  }
  return copy;
}

EvpPkeyPtr Generate(const char* type, const char* curve, size_t rsa_bits = 0) {
  if (rsa_bits) return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", rsa_bits));
  if (curve) return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
}

// RSA keys are slow to make; share one across tests.
EVP_PKEY* SharedRsa2048() {
  static EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  return key;
}

constexpr char kKid[] = "dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg";

TEST(JwkFixtureTest, ProvisionerKeyParsesAndThumbprintIsKid) {
  JsonPtr obj = ProvisionerKeyJson();
  ASSERT_TRUE(obj);
  auto jwk = ParseJwk(obj.get());
  ASSERT_TRUE(jwk.ok()) << jwk.status().message();
  EXPECT_EQ(jwk->kty, "EC");
  EXPECT_EQ(jwk->crv, "P-256");
  EXPECT_EQ(jwk->alg, "ES256");
  EXPECT_EQ(jwk->kid, kKid);
  EXPECT_FALSE(jwk->has_private);
  auto thumb = JwkThumbprint(jwk->key.get());
  ASSERT_TRUE(thumb.ok());
  EXPECT_EQ(*thumb, kKid);
}

TEST(JwkFixtureTest, ToJsonReproducesStepKey) {
  JsonPtr obj = ProvisionerKeyJson();
  auto jwk = ParseJwk(obj.get());
  ASSERT_TRUE(jwk.ok());
  auto out = JwkToJson(jwk->key.get(), false, kKid, "ES256");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(json_equal(out->get(), obj.get())) << Dump(out->get());
  // Same member order as step writes.
  EXPECT_EQ(Dump(out->get()).rfind("{\"use\":\"sig\",\"kty\":\"EC\",\"kid\":", 0), 0u);
  // include_private on a public key fails.
  EXPECT_FALSE(JwkToJson(jwk->key.get(), true, "", "").ok());
}

TEST(JwkTest, Rfc7638RsaThumbprint) {
  // RFC 7638 section 3.1.
  auto jwk = ParseJwkText(
      "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFx"
      "uhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGj"
      "QR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQ"
      "Fh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\","
      "\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}");
  ASSERT_TRUE(jwk.ok()) << jwk.status().message();
  EXPECT_EQ(jwk->kty, "RSA");
  EXPECT_EQ(JwkThumbprint(jwk->key.get()).value(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(JwkTest, Rfc8037Ed25519) {
  // RFC 8037 appendix A.1-A.3.
  auto jwk = ParseJwkText(
      "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
      "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\","
      "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}");
  ASSERT_TRUE(jwk.ok()) << jwk.status().message();
  EXPECT_TRUE(jwk->has_private);
  EXPECT_EQ(jwk->kty, "OKP");
  EXPECT_EQ(jwk->crv, "Ed25519");
  EXPECT_EQ(JwkThumbprint(jwk->key.get()).value(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  auto pub = ParseJwkText(
      "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}");
  ASSERT_TRUE(pub.ok());
  EXPECT_FALSE(pub->has_private);
  // d that does not belong to x.
  auto bad = ParseJwkText(
      "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
      "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2B\","
      "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}");
  EXPECT_FALSE(bad.ok());
}

struct KeyCase {
  const char* name;
  const char* type;
  const char* curve;
  size_t rsa_bits;
  const char* kty;
  const char* crv;
};

class JwkRoundTripTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(JwkRoundTripTest, PrivateAndPublicRoundTrip) {
  const KeyCase& c = GetParam();
  EvpPkeyPtr owned;
  EVP_PKEY* key;
  if (c.rsa_bits) {
    key = SharedRsa2048();
  } else {
    owned = Generate(c.type, c.curve);
    key = owned.get();
  }
  ASSERT_NE(key, nullptr);
  auto thumb = JwkThumbprint(key);
  ASSERT_TRUE(thumb.ok()) << thumb.status().message();

  auto priv_json = JwkToJson(key, true, *thumb, "");
  ASSERT_TRUE(priv_json.ok()) << priv_json.status().message();
  EXPECT_NE(json_object_get(priv_json->get(), "d"), nullptr);
  EXPECT_EQ(json_object_get(priv_json->get(), "use"), nullptr);
  auto priv = ParseJwk(priv_json->get());
  ASSERT_TRUE(priv.ok()) << priv.status().message();
  EXPECT_TRUE(priv->has_private);
  EXPECT_EQ(priv->kty, c.kty);
  EXPECT_EQ(priv->crv, c.crv);
  EXPECT_EQ(priv->kid, *thumb);
  EXPECT_EQ(EVP_PKEY_eq(priv->key.get(), key), 1);

  auto pub_json = JwkToJson(key, false, "", "");
  ASSERT_TRUE(pub_json.ok());
  EXPECT_EQ(json_object_get(pub_json->get(), "d"), nullptr);
  auto pub = ParseJwk(pub_json->get());
  ASSERT_TRUE(pub.ok());
  EXPECT_FALSE(pub->has_private);
  EXPECT_EQ(JwkThumbprint(pub->key.get()).value(), *thumb);

  // The parsed private key signs; the parsed public key verifies.
  JsonPtr payload(json_pack("{s:s}", "sub", "x"));
  auto token = SignCompactJws(nullptr, payload.get(), priv->key.get());
  ASSERT_TRUE(token.ok()) << token.status().message();
  auto jws = ParseCompactJws(*token);
  ASSERT_TRUE(jws.ok());
  EXPECT_TRUE(VerifyJws(*jws, pub->key.get()).ok());
}

INSTANTIATE_TEST_SUITE_P(
    AllKeyTypes, JwkRoundTripTest,
    ::testing::Values(KeyCase{"P256", "EC", "P-256", 0, "EC", "P-256"},
                      KeyCase{"P384", "EC", "P-384", 0, "EC", "P-384"},
                      KeyCase{"P521", "EC", "P-521", 0, "EC", "P-521"},
                      KeyCase{"Ed25519", "ED25519", nullptr, 0, "OKP", "Ed25519"},
                      KeyCase{"RSA2048", "RSA", nullptr, 2048, "RSA", ""}),
    [](const ::testing::TestParamInfo<KeyCase>& info) { return info.param.name; });

TEST(JwkTest, EcCoordinatesArePaddedToCurveSize) {
  // Over enough keys some coordinate has a leading zero byte.
  for (int i = 0; i < 64; ++i) {
    EvpPkeyPtr key = Generate("EC", "P-521");
    auto json = JwkToJson(key.get(), true, "", "");
    ASSERT_TRUE(json.ok());
    for (const char* m : {"x", "y", "d"}) {
      auto bytes = Base64UrlDecode(json_string_value(json_object_get(json->get(), m)));
      ASSERT_TRUE(bytes.has_value());
      EXPECT_EQ(bytes->size(), 66u) << m;
    }
  }
}

TEST(JwkTest, RsaPrivateWithoutCrtValues) {
  EVP_PKEY* key = SharedRsa2048();
  auto json = JwkToJson(key, true, "", "");
  ASSERT_TRUE(json.ok());
  JsonPtr minimal = With(json->get(), "dp", nullptr);
  json_object_del(minimal.get(), "dq");
  json_object_del(minimal.get(), "qi");
  auto jwk = ParseJwk(minimal.get());
  ASSERT_TRUE(jwk.ok()) << jwk.status().message();
  EXPECT_TRUE(jwk->has_private);
  EXPECT_EQ(EVP_PKEY_eq(jwk->key.get(), key), 1);
  // Only some CRT values: refused.
  JsonPtr partial = With(json->get(), "dq", nullptr);
  EXPECT_FALSE(ParseJwk(partial.get()).ok());
  // d without p and q: refused.
  JsonPtr no_primes = With(json->get(), "p", nullptr);
  EXPECT_FALSE(ParseJwk(no_primes.get()).ok());
}

TEST(JwkTest, RsaPrivateMismatchRejected) {
  EVP_PKEY* key = SharedRsa2048();
  auto json = JwkToJson(key, true, "", "");
  ASSERT_TRUE(json.ok());
  auto d = Base64UrlDecode(json_string_value(json_object_get(json->get(), "d")));
  (*d)[d->size() - 1] ^= 0x02;
  JsonPtr bad = With(json->get(), "d", Base64UrlEncode(*d).c_str());
  EXPECT_FALSE(ParseJwk(bad.get()).ok());
}

TEST(JwkTest, RejectsSmallAndOddRsaKeys) {
  EvpPkeyPtr small = Generate("RSA", nullptr, 1024);
  auto json = JwkToJson(small.get(), false, "", "");
  EXPECT_FALSE(json.ok());  // DescribeJoseKey refuses it too.
  // Build the JWK by hand from a 2048-bit one with a shortened n.
  auto big = JwkToJson(SharedRsa2048(), false, "", "");
  ASSERT_TRUE(big.ok());
  auto n = Base64UrlDecode(json_string_value(json_object_get(big->get(), "n")));
  std::string n1024 = n->substr(0, 128);
  JsonPtr short_n = With(big->get(), "n", Base64UrlEncode(n1024).c_str());
  auto r = ParseJwk(short_n.get());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  // Exponents: even, 1, too large.
  for (const char* e : {"AQAA", "AQ", "AQAAAAAB", "", "AQAB="}) {
    JsonPtr bad_e = With(big->get(), "e", e);
    EXPECT_FALSE(ParseJwk(bad_e.get()).ok()) << e;
  }
  JsonPtr with_crv = With(big->get(), "crv", "P-256");
  EXPECT_FALSE(ParseJwk(with_crv.get()).ok());
}

TEST(JwkTest, RejectsBadEcKeys) {
  JsonPtr good = ProvisionerKeyJson();
  ASSERT_TRUE(good);
  const std::string x = json_string_value(json_object_get(good.get(), "x"));
  const std::string y = json_string_value(json_object_get(good.get(), "y"));
  auto ybytes = *Base64UrlDecode(y);
  std::string y_off = ybytes;
  y_off[31] ^= 0x01;  // (x, y') is not on the curve
  auto xbytes = *Base64UrlDecode(x);

  struct Case {
    const char* what;
    const char* name;
    std::string value;
    bool remove;
  };
  const Case kCases[] = {
      {"off curve", "y", Base64UrlEncode(y_off), false},
      {"short x", "x", Base64UrlEncode(xbytes.substr(1)), false},
      {"long x", "x", Base64UrlEncode(std::string(1, '\0') + xbytes), false},
      {"padded x", "x", x + "=", false},
      {"std alphabet", "x", Base64Encode(xbytes), false},
      {"missing y", "y", "", true},
      {"missing x", "x", "", true},
      {"missing crv", "crv", "", true},
      {"P-192", "crv", "P-192", false},
      {"secp256k1", "crv", "secp256k1", false},
      {"wrong curve", "crv", "P-384", false},
      {"Ed25519 crv", "crv", "Ed25519", false},
      {"missing kty", "kty", "", true},
      {"kty oct", "kty", "oct", false},
      {"kty lower", "kty", "ec", false},
      {"kty unknown", "kty", "DSA", false},
      {"short d", "d", Base64UrlEncode(std::string(31, '\x01')), false},
      {"wrong d", "d", Base64UrlEncode(std::string(32, '\x01')), false},
      {"zero d", "d", Base64UrlEncode(std::string(32, '\0')), false},
  };
  for (const auto& c : kCases) {
    JsonPtr obj = With(good.get(), c.name, c.remove ? nullptr : c.value.c_str());
    auto r = ParseJwk(obj.get());
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.what;
  }
  // The point at infinity / identity-like encodings.
  JsonPtr zero = With(good.get(), "x", Base64UrlEncode(std::string(32, '\0')).c_str());
  json_object_set_new(zero.get(), "y", json_string(Base64UrlEncode(std::string(32, '\0')).c_str()));
  EXPECT_FALSE(ParseJwk(zero.get()).ok());
}

TEST(JwkTest, RejectsWrongMemberTypes) {
  JsonPtr good = ProvisionerKeyJson();
  for (const char* name : {"kty", "crv", "x", "y", "kid", "alg"}) {
    JsonPtr obj(json_deep_copy(good.get()));
    json_object_set_new(obj.get(), name, json_integer(1));
    EXPECT_FALSE(ParseJwk(obj.get()).ok()) << name;
  }
  JsonPtr arr(json_array());
  EXPECT_FALSE(ParseJwk(arr.get()).ok());
  EXPECT_FALSE(ParseJwk(nullptr).ok());
}

TEST(JwkTest, RejectsSymmetricKeys) {
  auto r = ParseJwkText("{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
}

TEST(JwkTest, ParseJwkTextRejectsBadJson) {
  EXPECT_FALSE(ParseJwkText("").ok());
  EXPECT_FALSE(ParseJwkText("{").ok());
  EXPECT_FALSE(ParseJwkText("[]").ok());
  JsonPtr good = ProvisionerKeyJson();
  std::string text = Dump(good.get());
  EXPECT_TRUE(ParseJwkText(text).ok());
  EXPECT_FALSE(ParseJwkText(text + "x").ok());
  // Duplicate member: which x would win is ambiguous, so refuse.
  std::string dup = text.substr(0, text.size() - 1) + ",\"x\":\"AAAA\"}";
  EXPECT_FALSE(ParseJwkText(dup).ok());
}

TEST(JwkTest, Ed25519BadLengths) {
  const char* kBad[] = {
      "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\"}",
      "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
      "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
      "{\"kty\":\"OKP\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
      "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}",
      "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"}",
  };
  for (const char* t : kBad) EXPECT_FALSE(ParseJwkText(t).ok()) << t;
}

TEST(JwkTest, DescribeJoseKey) {
  EvpPkeyPtr p384 = Generate("EC", "P-384");
  auto info = DescribeJoseKey(p384.get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kty, "EC");
  EXPECT_EQ(info->crv, "P-384");
  EXPECT_EQ(info->coord_size, 48u);
  EvpPkeyPtr x25519 = Generate("X25519", nullptr);
  EXPECT_FALSE(DescribeJoseKey(x25519.get()).ok());
  EXPECT_FALSE(JwkThumbprint(x25519.get()).ok());
  EXPECT_FALSE(DescribeJoseKey(nullptr).ok());
}

}  // namespace
}  // namespace stepca
