#include "authority/testing/fixture_pki.h"
#include "authority/jose/jwe.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"
#include "shared/base64.h"

namespace stepca {
namespace {

using testing::FixtureJwkProvisioner;
using testing::ReadFixture;

std::string FixturePassword() {
  std::string pw = ReadFixture("pki/provisioner-password.txt");
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  return pw;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, '.')) out.push_back(part);
  return out;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += ".";
    out += parts[i];
  }
  return out;
}

constexpr char kKid[] = "dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg";

TEST(JweFixtureTest, DecryptsStepProvisionerKey) {
  JsonPtr prov = FixtureJwkProvisioner();
  ASSERT_TRUE(prov);
  const char* jwe = json_string_value(json_object_get(prov.get(), "encryptedKey"));
  ASSERT_NE(jwe, nullptr);
  ASSERT_EQ(FixturePassword(), "fixture-provisioner-password");

  auto plain = DecryptPbes2Jwe(jwe, FixturePassword());
  ASSERT_TRUE(plain.ok()) << plain.status().message();

  auto priv = ParseJwkText(*plain);
  ASSERT_TRUE(priv.ok()) << priv.status().message();
  EXPECT_TRUE(priv->has_private);
  EXPECT_EQ(priv->kty, "EC");
  EXPECT_EQ(priv->crv, "P-256");
  EXPECT_EQ(priv->kid, kKid);

  auto thumb = JwkThumbprint(priv->key.get());
  ASSERT_TRUE(thumb.ok());
  EXPECT_EQ(*thumb, kKid);

  // Its public part is the provisioner "key".
  const json_t* pub = json_object_get(prov.get(), "key");
  auto pub_json = JwkToJson(priv->key.get(), false, "", "");
  ASSERT_TRUE(pub_json.ok());
  for (const char* m : {"kty", "crv", "x", "y"}) {
    EXPECT_STREQ(json_string_value(json_object_get(pub_json->get(), m)),
                 json_string_value(json_object_get(pub, m)))
        << m;
  }
  EXPECT_EQ(json_object_get(pub_json->get(), "d"), nullptr);

  // And a token signed with it verifies with the provisioner key.
  auto pub_jwk = ParseJwk(pub);
  ASSERT_TRUE(pub_jwk.ok());
  JsonPtr payload(json_pack("{s:s}", "sub", "x"));
  auto token = SignCompactJws(nullptr, payload.get(), priv->key.get());
  ASSERT_TRUE(token.ok()) << token.status().message();
  auto jws = ParseCompactJws(*token);
  ASSERT_TRUE(jws.ok());
  EXPECT_TRUE(VerifyJws(*jws, pub_jwk->key.get()).ok());
}

TEST(JweFixtureTest, WrongPasswordRejected) {
  JsonPtr prov = FixtureJwkProvisioner();
  ASSERT_TRUE(prov);
  const char* jwe = json_string_value(json_object_get(prov.get(), "encryptedKey"));
  for (const char* pw : {"fixture-provisioner-passwore", "", "fixture-provisioner-password\n"}) {
    auto plain = DecryptPbes2Jwe(jwe, pw);
    ASSERT_FALSE(plain.ok()) << pw;
    EXPECT_EQ(plain.status().code(), Code::kUnauthenticated);
    EXPECT_EQ(plain.status().message(), "decryption failed");
  }
}

TEST(JweTest, RoundTrip) {
  std::string secret = "{\"kty\":\"oct\",\"k\":\"secret\"}";
  auto jwe = EncryptPbes2Jwe(secret, "pass word", "jwk+json", 1000);
  ASSERT_TRUE(jwe.ok()) << jwe.status().message();
  auto parts = Split(*jwe);
  ASSERT_EQ(parts.size(), 5u);
  EXPECT_EQ(Base64UrlDecode(parts[1])->size(), 40u);
  EXPECT_EQ(Base64UrlDecode(parts[2])->size(), 12u);
  EXPECT_EQ(Base64UrlDecode(parts[4])->size(), 16u);

  auto header_text = Base64UrlDecode(parts[0]);
  ASSERT_TRUE(header_text.has_value());
  json_error_t err;
  JsonPtr header(json_loads(header_text->c_str(), 0, &err));
  ASSERT_TRUE(header);
  EXPECT_EQ(json_object_size(header.get()), 5u);
  EXPECT_STREQ(json_string_value(json_object_get(header.get(), "alg")), "PBES2-HS256+A128KW");
  EXPECT_STREQ(json_string_value(json_object_get(header.get(), "enc")), "A256GCM");
  EXPECT_STREQ(json_string_value(json_object_get(header.get(), "cty")), "jwk+json");
  EXPECT_EQ(json_integer_value(json_object_get(header.get(), "p2c")), 1000);
  auto p2s = Base64UrlDecode(json_string_value(json_object_get(header.get(), "p2s")));
  ASSERT_TRUE(p2s.has_value());
  EXPECT_EQ(p2s->size(), 16u);
  EXPECT_EQ(header_text->rfind("{\"alg\":", 0), 0u);

  auto plain = DecryptPbes2Jwe(*jwe, "pass word");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, secret);

  auto wrong = DecryptPbes2Jwe(*jwe, "pass worD");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kUnauthenticated);
}

TEST(JweTest, EncryptionIsRandomised) {
  auto a = EncryptPbes2Jwe("same", "pw", "jwk+json", 1000);
  auto b = EncryptPbes2Jwe("same", "pw", "jwk+json", 1000);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(JweTest, EmptyPlaintextAndNoCty) {
  auto jwe = EncryptPbes2Jwe("", "pw", "", 1000);
  ASSERT_TRUE(jwe.ok());
  auto header_text = Base64UrlDecode(Split(*jwe)[0]);
  EXPECT_EQ(header_text->find("cty"), std::string::npos);
  auto plain = DecryptPbes2Jwe(*jwe, "pw");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, "");
}

TEST(JweTest, TamperingIsDetected) {
  auto jwe = EncryptPbes2Jwe("hello world, a secret", "pw", "jwk+json", 1000);
  ASSERT_TRUE(jwe.ok());
  auto parts = Split(*jwe);
  for (size_t i = 1; i < 5; ++i) {
    auto bytes = Base64UrlDecode(parts[i]);
    ASSERT_TRUE(bytes.has_value());
    (*bytes)[0] ^= 1;
    auto copy = parts;
    copy[i] = Base64UrlEncode(*bytes);
    auto r = DecryptPbes2Jwe(Join(copy), "pw");
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << i;
  }
  // Same header members, different bytes: the AAD no longer matches.
  auto header_text = Base64UrlDecode(parts[0]);
  auto copy = parts;
  copy[0] = Base64UrlEncode(*header_text + " ");
  auto r = DecryptPbes2Jwe(Join(copy), "pw");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
}

// Re-encodes the header of jwe with one member replaced.
std::string WithHeaderMember(const std::string& jwe, const char* name, json_t* value) {
  auto parts = Split(jwe);
  auto header_text = Base64UrlDecode(parts[0]);
  json_error_t err;
  JsonPtr header(json_loads(header_text->c_str(), 0, &err));
  if (value) {
    json_object_set_new(header.get(), name, value);
  } else {
    json_object_del(header.get(), name);
  }
  char* text = json_dumps(header.get(), JSON_COMPACT);
  parts[0] = Base64UrlEncode(text);
  free(text);
  return Join(parts);
}

TEST(JweTest, RejectsBadHeaders) {
  auto jwe = EncryptPbes2Jwe("x", "pw", "jwk+json", 1000);
  ASSERT_TRUE(jwe.ok());
  struct Case {
    const char* name;
    json_t* value;
  };
  const Case kCases[] = {
      {"p2c", json_integer(999)},
      {"p2c", json_integer(10000001)},
      {"p2c", json_string("1000")},
      {"p2c", nullptr},
      {"p2s", nullptr},
      {"p2s", json_string("AAAA")},        // 3 bytes: too short
      {"p2s", json_string("AAAAAAAAAAA=")}, // padded
      {"alg", json_string("PBES2-HS512+A256KW")},
      {"alg", json_string("dir")},
      {"enc", json_string("A128GCM")},
      {"enc", nullptr},
      {"zip", json_string("DEF")},
      {"crit", json_pack("[s]", "exp")},
  };
  for (const auto& c : kCases) {
    auto r = DecryptPbes2Jwe(WithHeaderMember(*jwe, c.name, c.value), "pw");
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.name;
  }
}

TEST(JweTest, RejectsMalformedCompactForm) {
  auto jwe = EncryptPbes2Jwe("x", "pw", "jwk+json", 1000);
  ASSERT_TRUE(jwe.ok());
  auto parts = Split(*jwe);
  EXPECT_FALSE(DecryptPbes2Jwe(Join({parts[0], parts[1], parts[2], parts[3]}), "pw").ok());
  EXPECT_FALSE(DecryptPbes2Jwe(*jwe + ".", "pw").ok());
  EXPECT_FALSE(DecryptPbes2Jwe(*jwe + ".AAAA", "pw").ok());
  EXPECT_FALSE(DecryptPbes2Jwe("", "pw").ok());
  EXPECT_FALSE(DecryptPbes2Jwe("....", "pw").ok());
  auto padded = parts;
  padded[4] += "==";
  EXPECT_FALSE(DecryptPbes2Jwe(Join(padded), "pw").ok());
  auto short_iv = parts;
  short_iv[2] = Base64UrlEncode(std::string(11, 'a'));
  EXPECT_EQ(DecryptPbes2Jwe(Join(short_iv), "pw").status().code(), Code::kInvalidArgument);
  auto short_tag = parts;
  short_tag[4] = Base64UrlEncode(std::string(15, 'a'));
  EXPECT_EQ(DecryptPbes2Jwe(Join(short_tag), "pw").status().code(), Code::kInvalidArgument);
  auto short_key = parts;
  short_key[1] = Base64UrlEncode(std::string(24, 'a'));
  EXPECT_EQ(DecryptPbes2Jwe(Join(short_key), "pw").status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(DecryptPbes2Jwe(std::string(300 * 1024, 'A'), "pw").ok());
}

TEST(JweTest, EncryptRejectsBadParameters) {
  EXPECT_FALSE(EncryptPbes2Jwe("x", "pw", "jwk+json", 999).ok());
  EXPECT_FALSE(EncryptPbes2Jwe("x", "pw", "jwk+json", 10000001).ok());
  EXPECT_FALSE(EncryptPbes2Jwe("x", "", "jwk+json", 1000).ok());
}

}  // namespace
}  // namespace stepca
