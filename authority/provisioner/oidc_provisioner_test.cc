#include "authority/provisioner/oidc_provisioner.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"
#include "shared/base64.h"

namespace stepca {
namespace {

int64_t Seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

constexpr const char* kIssuer = "https://issuer.test";
constexpr const char* kClient = "client-1";

// An OpenID issuer in memory: discovery, a JWKS of public keys, and
// signing with its private keys.
struct FakeIssuer {
  std::map<std::string, EvpPkeyPtr> keys;  // kid -> private key
  int jwks_hits = 0;
  std::mutex mu;

  void AddKey(const std::string& kid) {
    std::lock_guard<std::mutex> lock(mu);
    keys[kid].reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  }
  HttpGetter Getter() {
    return [this](const std::string& url) -> Result<HttpDocument> {
      std::lock_guard<std::mutex> lock(mu);
      if (url == std::string(kIssuer) + "/.well-known/openid-configuration")
        return HttpDocument{std::string("{\"issuer\":\"") + kIssuer + "\",\"jwks_uri\":\"" + kIssuer + "/jwks\"}", ""};
      if (url == std::string(kIssuer) + "/jwks") {
        ++jwks_hits;
        JsonPtr set(json_pack("{s:[]}", "keys"));
        for (auto& [kid, k] : keys) {
          auto j = JwkToJson(k.get(), false, kid, "ES256");
          json_array_append_new(json_object_get(set.get(), "keys"), j->release());
        }
        char* s = json_dumps(set.get(), JSON_COMPACT);
        HttpDocument d{s, "max-age=3600"};
        free(s);
        return d;
      }
      return Unavailable("not found: " + url);
    };
  }
  std::string Sign(const std::string& kid, json_t* payload, const std::string& alg = "") {
    std::lock_guard<std::mutex> lock(mu);
    JsonPtr h(json_pack("{s:s,s:s}", "kid", kid.c_str(), "typ", "JWT"));
    auto t = SignCompactJws(h.get(), payload, keys.at(kid).get(), alg);
    json_decref(payload);
    return t.ok() ? *t : "";
  }
};

class OidcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    issuer_.AddKey("k1");
    Load(R"({"type":"OIDC","name":"sso","clientID":"client-1","clientSecret":"s3cret",
             "configurationEndpoint":"https://issuer.test","admins":["Boss@Example.COM"],
             "domains":["example.com"]})");
  }
  void Load(const char* text) {
    JsonPtr obj(json_loads(text, 0, nullptr));
    ASSERT_TRUE(obj);
    warnings_.clear();
    auto p = ParseOidcProvisioner(obj.get(), "p", "sso", Claims{}, JsonPtr(json_deep_copy(obj.get())),
                                  &warnings_, issuer_.Getter());
    ASSERT_TRUE(p.ok()) << p.status().message();
    prov_.reset(static_cast<OidcProvisioner*>(p->release()));
  }
  json_t* Payload(const char* email, int64_t exp_in = 300) {
    const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now_.time_since_epoch()).count();
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "iss", kIssuer, "sub", "1234", "aud", kClient,
                     "iat", (json_int_t)t, "exp", (json_int_t)(t + exp_in), "email", email,
                     "nonce", "n-1");
  }
  Result<SignGrant> Sign(const std::string& token) {
    auto jws = ParseCompactJws(token);
    if (!jws.ok()) return jws.status();
    auto claims = ReadTokenClaims(jws->payload.get());
    if (!claims.ok()) return claims.status();
    return prov_->AuthorizeSign(*jws, *claims, Audiences({"ca.test"}), now_);
  }

  FakeIssuer issuer_;
  std::vector<std::string> warnings_;
  std::unique_ptr<OidcProvisioner> prov_;
  TimePoint now_ = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
};

TEST_F(OidcTest, UserGetsTheirOwnIdentity) {
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(prov_->id(), "client-1");
  auto g = Sign(issuer_.Sign("k1", Payload("alice@example.com")));
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->subject, "1234");
  EXPECT_EQ(g->csr_names, CsrNames::kReplaced);
  EXPECT_EQ(g->sans, (std::vector<std::string>{"alice@example.com", "https://issuer.test#1234"}));
  EXPECT_EQ(g->info.type, ProvisionerType::kOidc);
  EXPECT_EQ(g->info.credential_id, "client-1");
  EXPECT_FALSE(g->token_key.empty());
}

TEST_F(OidcTest, AdminMayAskForAnyName) {
  auto g = Sign(issuer_.Sign("k1", Payload("Boss@example.com")));
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->csr_names, CsrNames::kGranted);
}

TEST_F(OidcTest, AdminByGroup) {
  Load(R"({"type":"OIDC","name":"sso","clientID":"client-1","configurationEndpoint":"https://issuer.test",
           "admins":["ops"],"groups":["ops","dev"]})");
  json_t* p = Payload("x@y.z");
  json_object_set_new(p, "groups", json_pack("[s]", "ops"));
  auto g = Sign(issuer_.Sign("k1", p));
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->csr_names, CsrNames::kGranted);
  // Not in any allowed group.
  json_t* q = Payload("x@y.z");
  json_object_set_new(q, "groups", json_pack("[s]", "sales"));
  auto r = Sign(issuer_.Sign("k1", q));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("invalid group"), std::string::npos);
}

TEST_F(OidcTest, RefusesBadTokens) {
  struct Case {
    const char* what;
    std::function<void(json_t*)> edit;
    const char* want;
  } cases[] = {
      {"wrong issuer", [](json_t* p) { json_object_set_new(p, "iss", json_string("https://evil.test")); }, "invalid issuer"},
      {"wrong audience", [](json_t* p) { json_object_set_new(p, "aud", json_string("other")); }, "invalid audience"},
      {"wrong azp", [](json_t* p) { json_object_set_new(p, "azp", json_string("other")); }, "invalid azp"},
      {"expired", [this](json_t* p) { json_object_set_new(p, "exp", json_integer(Seconds(now_) - 120)); }, "expired"},
      {"no exp", [](json_t* p) { json_object_del(p, "exp"); }, "no expiry"},
      {"not yet valid", [this](json_t* p) { json_object_set_new(p, "nbf", json_integer(Seconds(now_) + 120)); }, "not valid yet"},
      {"other domain", [](json_t* p) { json_object_set_new(p, "email", json_string("eve@evil.com")); }, "email is not allowed"},
      {"groups not strings", [](json_t* p) { json_object_set_new(p, "groups", json_pack("[i]", 1)); }, "groups"},
      {"no subject", [](json_t* p) { json_object_del(p, "sub"); }, "subject is empty"},
  };
  for (const auto& c : cases) {
    json_t* p = Payload("alice@example.com");
    c.edit(p);
    auto g = Sign(issuer_.Sign("k1", p));
    ASSERT_FALSE(g.ok()) << c.what;
    EXPECT_EQ(g.status().code(), Code::kUnauthenticated) << c.what;
    EXPECT_NE(g.status().message().find(c.want), std::string::npos) << c.what << ": " << g.status().message();
  }
}

TEST_F(OidcTest, RefusesAlgorithmConfusion) {
  const std::string good = issuer_.Sign("k1", Payload("alice@example.com"));
  const std::string signing_input = good.substr(0, good.rfind('.'));
  const std::string payload_b64 = signing_input.substr(signing_input.find('.') + 1);
  // alg none, no signature.
  const std::string none = Base64UrlEncode(R"({"alg":"none","kid":"k1"})") + "." + payload_b64 + ".";
  EXPECT_FALSE(Sign(none).ok());
  // HS256 keyed with the public key's JWK text.
  const std::string hs = Base64UrlEncode(R"({"alg":"HS256","kid":"k1"})") + "." + payload_b64 + "." +
                         Base64UrlEncode(std::string(32, 'x'));
  auto r = Sign(hs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot validate oidc token"), std::string::npos);
  // A signature by a key that is not the issuer's, under the issuer's kid.
  FakeIssuer other;
  other.AddKey("k1");
  EXPECT_FALSE(Sign(other.Sign("k1", Payload("alice@example.com"))).ok());
}

TEST_F(OidcTest, UnknownKidRefreshesKeysInTheBackgroundRateLimited) {
  issuer_.AddKey("k2");  // rotation: the issuer publishes a new key
  const int before = issuer_.jwks_hits;
  auto first = Sign(issuer_.Sign("k2", Payload("alice@example.com")));
  ASSERT_FALSE(first.ok());  // the request does not wait for the fetch
  Result<SignGrant> later = Internal("not yet");
  for (int i = 0; i < 100 && !later.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    later = Sign(issuer_.Sign("k2", Payload("alice@example.com")));
  }
  ASSERT_TRUE(later.ok()) << later.status().message();
  EXPECT_EQ(issuer_.jwks_hits, before + 1);
  // A made-up kid right after: no second fetch within the interval.
  issuer_.AddKey("k3");
  EXPECT_FALSE(Sign(issuer_.Sign("k3", Payload("alice@example.com"))).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(issuer_.jwks_hits, before + 1);
}

TEST_F(OidcTest, RevokeIsForAdminsOnly) {
  auto user = ParseCompactJws(issuer_.Sign("k1", Payload("alice@example.com")));
  // The local part of an admin e-mail is compared as written.
  auto lower = ParseCompactJws(issuer_.Sign("k1", Payload("boss@example.com")));
  auto admin = ParseCompactJws(issuer_.Sign("k1", Payload("Boss@EXAMPLE.com")));
  ASSERT_TRUE(lower.ok());
  auto lower_claims = ReadTokenClaims(lower->payload.get());
  ASSERT_TRUE(lower_claims.ok());
  EXPECT_FALSE(prov_->AuthorizeRevoke(*lower, *lower_claims, Audiences({"ca.test"}), now_).ok());
  ASSERT_TRUE(user.ok() && admin.ok());
  Audiences aud({"ca.test"});
  auto user_claims = ReadTokenClaims(user->payload.get());
  auto admin_claims = ReadTokenClaims(admin->payload.get());
  ASSERT_TRUE(user_claims.ok() && admin_claims.ok());
  EXPECT_FALSE(prov_->AuthorizeRevoke(*user, *user_claims, aud, now_).ok());
  EXPECT_TRUE(prov_->AuthorizeRevoke(*admin, *admin_claims, aud, now_).ok());
}

TEST(OidcParse, RequiredFieldsAndUnreachableIssuer) {
  std::vector<std::string> w;
  auto get = [](const std::string&) -> Result<HttpDocument> { return Unavailable("down"); };
  auto parse = [&](const char* text) {
    JsonPtr obj(json_loads(text, 0, nullptr));
    return ParseOidcProvisioner(obj.get(), "authority.provisioners[0]", "o", Claims{},
                                JsonPtr(json_deep_copy(obj.get())), &w, get);
  };
  auto no_client = parse(R"({"configurationEndpoint":"https://x"})");
  ASSERT_FALSE(no_client.ok());
  EXPECT_NE(no_client.status().message().find("clientID"), std::string::npos);
  EXPECT_FALSE(parse(R"({"clientID":"c"})").ok());
  EXPECT_FALSE(parse(R"({"clientID":"c","configurationEndpoint":"ftp://x"})").ok());
  EXPECT_FALSE(parse(R"({"clientID":"c","configurationEndpoint":"https://x","listenAddress":"nope"})").ok());
  EXPECT_FALSE(parse(R"({"clientID":"c","configurationEndpoint":"https://x","admins":"a"})").ok());
  auto down = parse(R"({"clientID":"c","configurationEndpoint":"https://x","listenAddress":":10000"})");
  ASSERT_TRUE(down.ok()) << down.status().message();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("OIDC provisioner \"o\""), std::string::npos);
  EXPECT_EQ(w[0].find("s3cret"), std::string::npos);
}

TEST(OidcParse, SshPrincipalsAsStepCaDerivesThem) {
  auto p = OidcSshPrincipals("John.Doe+ops@Example.com");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(*p, (std::vector<std::string>{"johndoe_ops", "John.Doe+ops", "John.Doe+ops@Example.com"}));
  auto same = OidcSshPrincipals("alice@example.com");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, (std::vector<std::string>{"alice", "alice@example.com"}));
  EXPECT_FALSE(OidcSshPrincipals("1root@example.com").ok());  // not a user name
  EXPECT_FALSE(OidcSshPrincipals("@example.com").ok());
}

TEST(OidcParse, Helpers) {
  EXPECT_EQ(DiscoveryUrl("https://a.test/"), "https://a.test/.well-known/openid-configuration");
  EXPECT_EQ(DiscoveryUrl("https://a.test/.well-known/openid-configuration"),
            "https://a.test/.well-known/openid-configuration");
  EXPECT_EQ(SanitizeEmail("Bob@EXAMPLE.com"), "Bob@example.com");
}

}  // namespace
}  // namespace stepca
