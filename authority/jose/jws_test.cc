#include "authority/jose/jws.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "authority/jose/jwk.h"
#include "shared/base64.h"

namespace stepca {
namespace {

std::string ReadFixture(const std::string& rel) {
  std::ifstream in(std::string(STEPCA_FIXTURES_DIR) + "/" + rel, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// ParseJwk of the fixture JWK provisioner's "key".
Result<Jwk> ProvisionerKey() {
  std::string text = ReadFixture("pki/config/ca.json");
  json_error_t err;
  JsonPtr ca(json_loadb(text.data(), text.size(), 0, &err));
  if (!ca) return InvalidArgument("ca.json");
  json_t* provs = json_object_get(json_object_get(ca.get(), "authority"), "provisioners");
  size_t i;
  json_t* p;
  json_array_foreach(provs, i, p) {
    if (std::string(json_string_value(json_object_get(p, "type"))) == "JWK") {
      return ParseJwk(json_object_get(p, "key"));
    }
  }
  return NotFound("no JWK provisioner");
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string Dump(const json_t* j) {
  char* t = json_dumps(j, JSON_COMPACT);
  std::string s(t);
  free(t);
  return s;
}

// The token with its header's "alg" replaced; payload and signature kept.
std::string WithAlg(const std::string& token, const char* alg) {
  auto parts = Split(token);
  auto header_text = Base64UrlDecode(parts[0]);
  json_error_t err;
  JsonPtr header(json_loads(header_text->c_str(), 0, &err));
  json_object_set_new(header.get(), "alg", json_string(alg));
  return Base64UrlEncode(Dump(header.get())) + "." + parts[1] + "." + parts[2];
}

Status ParseAndVerify(const std::string& token, EVP_PKEY* key) {
  auto jws = ParseCompactJws(token);
  if (!jws.ok()) return jws.status();
  return VerifyJws(*jws, key);
}

EvpPkeyPtr Generate(const char* type, const char* curve_or_null, size_t rsa_bits = 0) {
  if (rsa_bits) return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", rsa_bits));
  if (curve_or_null) return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve_or_null));
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
}

// Public-only copy of a key, through its JWK.
EvpPkeyPtr PublicOnly(EVP_PKEY* key) {
  auto json = JwkToJson(key, false, "", "");
  if (!json.ok()) return nullptr;
  auto jwk = ParseJwk(json->get());
  if (!jwk.ok()) return nullptr;
  return std::move(jwk->key);
}

JsonPtr SamplePayload() {
  return JsonPtr(json_pack("{s:s,s:s,s:i}", "sub", "svc.example.test", "aud",
                           "https://ca/1.0/sign", "exp", 1795409619));
}

constexpr char kSignOk[] = "wire/sign-ok.token";

TEST(JwsFixtureTest, StepTokenVerifies) {
  auto key = ProvisionerKey();
  ASSERT_TRUE(key.ok()) << key.status().message();
  auto jws = ParseCompactJws(ReadFixture(kSignOk));
  ASSERT_TRUE(jws.ok()) << jws.status().message();
  EXPECT_EQ(jws->alg, "ES256");
  EXPECT_STREQ(json_string_value(json_object_get(jws->header.get(), "kid")),
               "dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg");
  EXPECT_STREQ(json_string_value(json_object_get(jws->payload.get(), "sub")),
               "sign-ok.example.test");
  EXPECT_EQ(jws->signature.size(), 64u);
  EXPECT_TRUE(VerifyJws(*jws, key->key.get()).ok());
}

TEST(JwsFixtureTest, BadSignatureRejected) {
  auto key = ProvisionerKey();
  ASSERT_TRUE(key.ok());
  Status st = ParseAndVerify(ReadFixture("wire/sign-token-bad-signature.token"), key->key.get());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kUnauthenticated);
}

TEST(JwsFixtureTest, OtherFixtureTokensVerifyAndCarryAlg) {
  auto key = ProvisionerKey();
  ASSERT_TRUE(key.ok());
  for (const char* name : {"wire/revoke-token.token", "wire/sign-expired-token.token",
                           "wire/sign-token-wrong-audience.token"}) {
    EXPECT_TRUE(ParseAndVerify(ReadFixture(name), key->key.get()).ok()) << name;
  }
}

TEST(JwsFixtureTest, AlgSubstitutionRejected) {
  auto key = ProvisionerKey();
  ASSERT_TRUE(key.ok());
  std::string token = ReadFixture(kSignOk);
  for (const char* alg : {"none", "None", "HS256", "HS512", "ES384", "ES512", "RS256",
                          "PS256", "EdDSA", "es256", ""}) {
    Status st = ParseAndVerify(WithAlg(token, alg), key->key.get());
    EXPECT_FALSE(st.ok()) << alg;
  }
  // "none" with an empty signature is not even a JWS.
  auto parts = Split(WithAlg(token, "none"));
  auto none = ParseCompactJws(parts[0] + "." + parts[1] + ".");
  EXPECT_FALSE(none.ok());
}

TEST(JwsFixtureTest, HmacWithPublicKeyAsSecretRejected) {
  auto key = ProvisionerKey();
  ASSERT_TRUE(key.ok());
  std::string token = ReadFixture(kSignOk);
  auto parts = Split(WithAlg(token, "HS256"));
  std::string signing_input = parts[0] + "." + parts[1];

  // Secrets an attacker might guess the verifier uses: the JWK text, the raw
  // point, the PEM of the public key.
  std::vector<std::string> secrets;
  auto jwk_json = JwkToJson(key->key.get(), false, "", "");
  ASSERT_TRUE(jwk_json.ok());
  secrets.push_back(Dump(jwk_json->get()));
  uint8_t point[65];
  size_t point_len = 0;
  ASSERT_EQ(EVP_PKEY_get_octet_string_param(key->key.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                            point, sizeof point, &point_len), 1);
  secrets.emplace_back(reinterpret_cast<char*>(point), point_len);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), key->key.get()), 1);
  char* pem = nullptr;
  long pem_len = BIO_get_mem_data(bio.get(), &pem);
  secrets.emplace_back(pem, static_cast<size_t>(pem_len));

  for (const auto& secret : secrets) {
    uint8_t mac[32];
    size_t mac_len = 0;
    ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(),
                        secret.size(), reinterpret_cast<const uint8_t*>(signing_input.data()),
                        signing_input.size(), mac, sizeof mac, &mac_len),
              nullptr);
    std::string forged = signing_input + "." +
                         Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len));
    Status st = ParseAndVerify(forged, key->key.get());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Code::kUnauthenticated);
  }
}

TEST(JwsFixtureTest, WrongSignatureSizesRejected) {
  auto key = ProvisionerKey();
  ASSERT_TRUE(key.ok());
  std::string token = ReadFixture(kSignOk);
  auto parts = Split(token);
  std::string sig = *Base64UrlDecode(parts[2]);
  ASSERT_EQ(sig.size(), 64u);
  std::string prefix = parts[0] + "." + parts[1] + ".";
  const std::string kVariants[] = {
      sig.substr(0, 63),               // 63 bytes
      sig + std::string(1, '\0'),       // 65 bytes
      std::string(1, '\0') + sig,       // 65 bytes, leading zero
      sig.substr(0, 32),                // r only
      sig + sig,                        // 128 bytes
  };
  for (const auto& v : kVariants) {
    Status st = ParseAndVerify(prefix + Base64UrlEncode(v), key->key.get());
    ASSERT_FALSE(st.ok()) << v.size();
    EXPECT_EQ(st.code(), Code::kUnauthenticated);
  }
}

TEST(JwsFixtureTest, DerSignatureRejected) {
  auto key = ProvisionerKey();
  ASSERT_TRUE(key.ok());
  auto parts = Split(ReadFixture(kSignOk));
  std::string sig = *Base64UrlDecode(parts[2]);
  BignumPtr r(BN_bin2bn(reinterpret_cast<const uint8_t*>(sig.data()), 32, nullptr));
  BignumPtr s(BN_bin2bn(reinterpret_cast<const uint8_t*>(sig.data()) + 32, 32, nullptr));
  EcdsaSigPtr es(ECDSA_SIG_new());
  ASSERT_EQ(ECDSA_SIG_set0(es.get(), r.release(), s.release()), 1);
  uint8_t* der = nullptr;
  int len = i2d_ECDSA_SIG(es.get(), &der);
  std::string der_sig(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  EXPECT_FALSE(ParseAndVerify(parts[0] + "." + parts[1] + "." + Base64UrlEncode(der_sig),
                              key->key.get()).ok());
}

// (r, n - s) is also a valid ECDSA signature: the token string changes, the
// canonical id must not.
TEST(JwsFixtureTest, MalleatedSignatureHasSameCanonicalId) {
  auto key = ProvisionerKey();
  ASSERT_TRUE(key.ok());
  std::string token = ReadFixture(kSignOk);
  auto parts = Split(token);
  std::string sig = *Base64UrlDecode(parts[2]);
  BignumPtr n;
  {
    BIGNUM* raw = nullptr;
    ASSERT_EQ(BN_hex2bn(&raw, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"), 64);
    n.reset(raw);
  }
  BignumPtr s(BN_bin2bn(reinterpret_cast<const uint8_t*>(sig.data()) + 32, 32, nullptr));
  BignumPtr neg(BN_new());
  ASSERT_EQ(BN_sub(neg.get(), n.get(), s.get()), 1);
  std::string sig2 = sig.substr(0, 32) + std::string(32, '\0');
  BN_bn2binpad(neg.get(), reinterpret_cast<uint8_t*>(sig2.data()) + 32, 32);
  std::string token2 = parts[0] + "." + parts[1] + "." + Base64UrlEncode(sig2);
  ASSERT_NE(token, token2);

  auto a = ParseCompactJws(token);
  auto b = ParseCompactJws(token2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(VerifyJws(*a, key->key.get()).ok());
  EXPECT_TRUE(VerifyJws(*b, key->key.get()).ok());
  EXPECT_EQ(CanonicalTokenId(*a), CanonicalTokenId(*b));
  EXPECT_EQ(CanonicalTokenId(*a).size(), 64u);

  auto other = ParseCompactJws(ReadFixture("wire/sign-token-bad-signature.token"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(CanonicalTokenId(*a), CanonicalTokenId(*other));
}

TEST(JwsParseTest, RejectsMalformedTokens) {
  std::string token = ReadFixture(kSignOk);
  auto parts = Split(token);
  JsonPtr obj(json_pack("{s:s}", "alg", "ES256"));
  std::string h_ok = parts[0];
  std::string p_ok = parts[1];
  std::string s_ok = parts[2];
  auto b64 = [](const std::string& s) { return Base64UrlEncode(s); };
  const std::string kBad[] = {
      "",
      h_ok,
      h_ok + "." + p_ok,
      h_ok + "." + p_ok + "." + s_ok + ".",
      h_ok + "." + p_ok + "." + s_ok + "." + s_ok,
      "." + p_ok + "." + s_ok,
      h_ok + ".." + s_ok,
      h_ok + "." + p_ok + ".",
      h_ok + "=." + p_ok + "." + s_ok,
      h_ok + "." + p_ok + "." + s_ok + "=",
      h_ok + "." + p_ok + "." + s_ok + "==",
      h_ok + " ." + p_ok + "." + s_ok,
      h_ok + "." + p_ok + "\n." + s_ok,
      // Standard alphabet instead of URL alphabet.
      h_ok + "." + p_ok + "." + Base64Encode(*Base64UrlDecode(s_ok)),
      b64("[\"alg\",\"ES256\"]") + "." + p_ok + "." + s_ok,
      b64("\"ES256\"") + "." + p_ok + "." + s_ok,
      b64("{\"alg\":\"ES256\"") + "." + p_ok + "." + s_ok,
      b64("{\"alg\":\"ES256\"}x") + "." + p_ok + "." + s_ok,
      b64("{\"alg\":\"ES256\"}{}") + "." + p_ok + "." + s_ok,
      b64("{\"alg\":\"ES256\",\"alg\":\"none\"}") + "." + p_ok + "." + s_ok,
      b64("{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"b64\":false}") + "." + p_ok + "." + s_ok,
      b64("{\"alg\":\"ES256\",\"crit\":[]}") + "." + p_ok + "." + s_ok,
      b64("{\"typ\":\"JWT\"}") + "." + p_ok + "." + s_ok,
      b64("{\"alg\":256}") + "." + p_ok + "." + s_ok,
      b64("{\"alg\":null}") + "." + p_ok + "." + s_ok,
      b64("{\"alg\":\"\"}") + "." + p_ok + "." + s_ok,
      b64("{\"alg\":\"ES\\u0000256\"}") + "." + p_ok + "." + s_ok,
      b64(std::string("{\"alg\":\"ES256\xff\"}")) + "." + p_ok + "." + s_ok,
      h_ok + "." + b64("[1,2]") + "." + s_ok,
      h_ok + "." + b64("\"claims\"") + "." + s_ok,
      h_ok + "." + b64("{\"sub\":\"a\",\"sub\":\"b\"}") + "." + s_ok,
      h_ok + "." + b64("{\"sub\":\"a\"") + "." + s_ok,
  };
  for (const auto& t : kBad) {
    auto r = ParseCompactJws(t);
    EXPECT_FALSE(r.ok()) << t;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << t;
    }
  }
}

TEST(JwsParseTest, RejectsNonCanonicalBase64Bits) {
  auto parts = Split(ReadFixture(kSignOk));
  // 64-byte signature: 86 characters, the last one carries 2 unused bits.
  std::string s = parts[2];
  ASSERT_EQ(s.size(), 86u);
  const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t idx = kAlphabet.find(s.back());
  s.back() = kAlphabet[idx ^ 1];
  EXPECT_FALSE(ParseCompactJws(parts[0] + "." + parts[1] + "." + s).ok());
}

TEST(JwsParseTest, RejectsOversizedToken) {
  auto parts = Split(ReadFixture(kSignOk));
  JsonPtr payload(json_object());
  json_object_set_new(payload.get(), "pad", json_string(std::string(70 * 1024, 'a').c_str()));
  std::string big = parts[0] + "." + Base64UrlEncode(Dump(payload.get())) + "." + parts[2];
  auto r = ParseCompactJws(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
}

TEST(JwsParseTest, KeepsSigningInputAndPayloadBytes) {
  std::string token = ReadFixture(kSignOk);
  auto jws = ParseCompactJws(token);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(jws->signing_input, token.substr(0, token.rfind('.')));
  EXPECT_EQ(jws->payload_bytes, *Base64UrlDecode(Split(token)[1]));
}

struct KeyCase {
  const char* name;
  const char* type;
  const char* curve;
  size_t rsa_bits;
  const char* alg;        // requested, "" for default
  const char* want_alg;
  size_t sig_size;
};

class JwsRoundTripTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(JwsRoundTripTest, SignAndVerify) {
  const KeyCase& c = GetParam();
  EvpPkeyPtr key = Generate(c.type, c.curve, c.rsa_bits);
  ASSERT_TRUE(key);
  JsonPtr header(json_pack("{s:s,s:s,s:s}", "alg", "ignored", "kid", "k1", "typ", "JWT"));
  JsonPtr payload = SamplePayload();
  auto token = SignCompactJws(header.get(), payload.get(), key.get(), c.alg);
  ASSERT_TRUE(token.ok()) << token.status().message();

  auto jws = ParseCompactJws(*token);
  ASSERT_TRUE(jws.ok()) << jws.status().message();
  EXPECT_EQ(jws->alg, c.want_alg);
  EXPECT_EQ(jws->signature.size(), c.sig_size);
  EXPECT_STREQ(json_string_value(json_object_get(jws->header.get(), "kid")), "k1");
  EXPECT_STREQ(json_string_value(json_object_get(jws->header.get(), "typ")), "JWT");
  EXPECT_EQ(Base64UrlDecode(Split(*token)[0])->rfind("{\"alg\":", 0), 0u);
  EXPECT_TRUE(json_equal(jws->payload.get(), payload.get()));

  // With the private key and with the public key alone.
  EXPECT_TRUE(VerifyJws(*jws, key.get()).ok());
  EvpPkeyPtr pub = PublicOnly(key.get());
  ASSERT_TRUE(pub);
  EXPECT_TRUE(VerifyJws(*jws, pub.get()).ok());

  // Another key of the same type does not verify it.
  EvpPkeyPtr other = Generate(c.type, c.curve, c.rsa_bits);
  Status st = VerifyJws(*jws, other.get());
  EXPECT_EQ(st.code(), Code::kUnauthenticated);

  // A changed payload does not verify.
  auto parts = Split(*token);
  JsonPtr payload2(json_pack("{s:s}", "sub", "evil.example.test"));
  std::string forged = parts[0] + "." + Base64UrlEncode(Dump(payload2.get())) + "." + parts[2];
  EXPECT_FALSE(ParseAndVerify(forged, key.get()).ok());

  // A flipped signature bit does not verify.
  std::string sig = jws->signature;
  sig[sig.size() / 2] ^= 0x01;
  EXPECT_FALSE(ParseAndVerify(parts[0] + "." + parts[1] + "." + Base64UrlEncode(sig),
                              key.get()).ok());
}

INSTANTIATE_TEST_SUITE_P(
    AllKeyTypes, JwsRoundTripTest,
    ::testing::Values(KeyCase{"P256", "EC", "P-256", 0, "", "ES256", 64},
                      KeyCase{"P384", "EC", "P-384", 0, "", "ES384", 96},
                      KeyCase{"P521", "EC", "P-521", 0, "", "ES512", 132},
                      KeyCase{"Ed25519", "ED25519", nullptr, 0, "", "EdDSA", 64},
                      KeyCase{"RS256", "RSA", nullptr, 2048, "", "RS256", 256},
                      KeyCase{"RS384", "RSA", nullptr, 2048, "RS384", "RS384", 256},
                      KeyCase{"RS512", "RSA", nullptr, 2048, "RS512", "RS512", 256},
                      KeyCase{"PS256", "RSA", nullptr, 2048, "PS256", "PS256", 256},
                      KeyCase{"PS512", "RSA", nullptr, 2048, "PS512", "PS512", 256}),
    [](const ::testing::TestParamInfo<KeyCase>& info) { return info.param.name; });

TEST(JwsTest, AllowedAlgorithmsPerKeyType) {
  using V = std::vector<std::string>;
  EvpPkeyPtr p256 = Generate("EC", "P-256");
  EvpPkeyPtr p384 = Generate("EC", "P-384");
  EvpPkeyPtr p521 = Generate("EC", "P-521");
  EvpPkeyPtr ed = Generate("ED25519", nullptr);
  EvpPkeyPtr rsa = Generate("RSA", nullptr, 2048);
  EvpPkeyPtr ed448 = Generate("ED448", nullptr);
  EvpPkeyPtr k256 = Generate("EC", "secp256k1");
  EvpPkeyPtr rsa1024 = Generate("RSA", nullptr, 1024);
  EXPECT_EQ(AllowedAlgorithms(p256.get()), V{"ES256"});
  EXPECT_EQ(AllowedAlgorithms(p384.get()), V{"ES384"});
  EXPECT_EQ(AllowedAlgorithms(p521.get()), V{"ES512"});
  EXPECT_EQ(AllowedAlgorithms(ed.get()), V{"EdDSA"});
  EXPECT_EQ(AllowedAlgorithms(rsa.get()),
            (V{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}));
  EXPECT_TRUE(AllowedAlgorithms(ed448.get()).empty());
  EXPECT_TRUE(AllowedAlgorithms(k256.get()).empty());
  EXPECT_TRUE(AllowedAlgorithms(rsa1024.get()).empty());
  EXPECT_TRUE(AllowedAlgorithms(nullptr).empty());
}

TEST(JwsTest, SignRejectsDisallowedAlgorithms) {
  EvpPkeyPtr p256 = Generate("EC", "P-256");
  EvpPkeyPtr rsa = Generate("RSA", nullptr, 2048);
  EvpPkeyPtr ed = Generate("ED25519", nullptr);
  JsonPtr payload = SamplePayload();
  for (const char* alg : {"ES384", "ES512", "EdDSA", "RS256", "HS256", "none"}) {
    EXPECT_FALSE(SignCompactJws(nullptr, payload.get(), p256.get(), alg).ok()) << alg;
  }
  for (const char* alg : {"ES256", "EdDSA", "HS256", "none"}) {
    EXPECT_FALSE(SignCompactJws(nullptr, payload.get(), rsa.get(), alg).ok()) << alg;
  }
  EXPECT_FALSE(SignCompactJws(nullptr, payload.get(), ed.get(), "ES256").ok());
  // Payload must be an object.
  JsonPtr arr(json_array());
  EXPECT_FALSE(SignCompactJws(nullptr, arr.get(), p256.get()).ok());
  // A public key cannot sign.
  EvpPkeyPtr pub = PublicOnly(p256.get());
  EXPECT_FALSE(SignCompactJws(nullptr, payload.get(), pub.get()).ok());
}

TEST(JwsTest, CrossKeyTypeRejected) {
  JsonPtr payload = SamplePayload();
  EvpPkeyPtr p256 = Generate("EC", "P-256");
  EvpPkeyPtr p384 = Generate("EC", "P-384");
  EvpPkeyPtr ed = Generate("ED25519", nullptr);
  EvpPkeyPtr rsa = Generate("RSA", nullptr, 2048);
  auto t256 = SignCompactJws(nullptr, payload.get(), p256.get());
  auto ted = SignCompactJws(nullptr, payload.get(), ed.get());
  auto trsa = SignCompactJws(nullptr, payload.get(), rsa.get(), "PS256");
  ASSERT_TRUE(t256.ok() && ted.ok() && trsa.ok());
  EXPECT_FALSE(ParseAndVerify(*t256, p384.get()).ok());
  EXPECT_FALSE(ParseAndVerify(*t256, ed.get()).ok());
  EXPECT_FALSE(ParseAndVerify(*t256, rsa.get()).ok());
  EXPECT_FALSE(ParseAndVerify(*ted, p256.get()).ok());
  EXPECT_FALSE(ParseAndVerify(*trsa, p256.get()).ok());
  // PS256 signature relabelled as RS256 (and the reverse) fails.
  EXPECT_FALSE(ParseAndVerify(WithAlg(*trsa, "RS256"), rsa.get()).ok());
  auto trs = SignCompactJws(nullptr, payload.get(), rsa.get(), "RS256");
  ASSERT_TRUE(trs.ok());
  EXPECT_FALSE(ParseAndVerify(WithAlg(*trs, "PS256"), rsa.get()).ok());
  EXPECT_FALSE(ParseAndVerify(WithAlg(*trs, "RS384"), rsa.get()).ok());
  // An RSA signature one byte short is refused before OpenSSL sees it.
  auto parts = Split(*trs);
  std::string sig = *Base64UrlDecode(parts[2]);
  EXPECT_FALSE(ParseAndVerify(parts[0] + "." + parts[1] + "." +
                                  Base64UrlEncode(sig.substr(1)), rsa.get()).ok());
}

TEST(JwsTest, VerifyWithNullKeyFails) {
  auto jws = ParseCompactJws(ReadFixture(kSignOk));
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(VerifyJws(*jws, nullptr).code(), Code::kUnauthenticated);
}

}  // namespace
}  // namespace stepca
