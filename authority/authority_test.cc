#include "authority/api/router.h"
#include "authority/authority.h"
#include "authority/state/certificate_records.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "authority/testing/fixture_pki.h"

namespace stepca {
namespace {

using testing::FixturePki;
using testing::MakeCsrPem;
using testing::MintToken;
using testing::StepTokenClaims;

class AuthorityTest : public ::testing::Test {
 protected:
  void SetUp() override { Reload(); }

  void Reload() {
    authority_.reset();
    auto a = Authority::Load({pki_.ca_json(), pki_.password_file(), pki_.store_uri(), "test"});
    ASSERT_TRUE(a.ok()) << a.status().message();
    authority_ = std::move(a).value();
    ASSERT_TRUE(authority_->InitProcess().ok());
    key_ = pki_.ProvisionerKey();
  }

  Result<SignResult> Sign(const std::string& csr, const std::string& ott,
                          const std::string& not_after = "") {
    SignRequest r;
    r.csr_pem = csr;
    r.ott = ott;
    r.not_after = *ParseTimeDuration(not_after);
    return authority_->policy().Sign(r, Clock::now());
  }

  std::string Token(const std::string& sub) {
    auto c = StepTokenClaims(sub);
    return MintToken(key_.get(), c.get());
  }

  HttpResponse Get(const std::string& path, const std::string& query = "") {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.query = query;
    return HandleHttp(*authority_, r);
  }

  HttpResponse Post(const std::string& path, const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.path = path;
    r.body = body;
    return HandleHttp(*authority_, r);
  }

  static std::string SignBody(const std::string& csr, const std::string& ott) {
    JsonPtr b(json_pack("{s:s,s:s}", "csr", csr.c_str(), "ott", ott.c_str()));
    return JsonBody(b.get());
  }

  FixturePki pki_;
  std::unique_ptr<Authority> authority_;
  EvpPkeyPtr key_;
};

TEST_F(AuthorityTest, IssuesWithStepDefaults) {
  auto res = Sign(MakeCsrPem("svc.example.test", {"svc.example.test"}), Token("svc.example.test"));
  ASSERT_TRUE(res.ok()) << res.status().LogText();
  X509* cert = res->leaf.cert.get();
  // Issued by the fixture intermediate, chains to the fixture root.
  X509StorePtr store(X509_STORE_new());
  for (auto& r : authority_->config().roots) X509_STORE_add_cert(store.get(), r.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  sk_X509_push(untrusted, authority_->config().intermediates[0].get());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert, untrusted);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1);
  sk_X509_free(untrusted);
  // 24h default, backdated by one minute.
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert));
  EXPECT_EQ(days * 86400 + secs, 24 * 3600 + 60);
  // The certificate is recorded under its serial, complete with its DER.
  auto rec = CertificateRecords(authority_->store()).Find(res->leaf.serial);
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(rec->has_value());
  EXPECT_EQ(rec->value().state, CertificateState::kIssued);
  EXPECT_EQ(rec->value().der, res->leaf.der);
  ASSERT_TRUE(rec->value().provisioner.has_value());
  EXPECT_EQ(rec->value().provisioner->name, "fixture@example.test");
  EXPECT_EQ(rec->value().names, std::vector<std::string>({"svc.example.test"}));
}

TEST_F(AuthorityTest, ReplayedTokenIsRefused) {
  const std::string ott = Token("a.example.test");
  ASSERT_TRUE(Sign(MakeCsrPem("a.example.test", {"a.example.test"}), ott).ok());
  auto again = Sign(MakeCsrPem("a.example.test", {"a.example.test"}), ott);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kUnauthenticated);
  EXPECT_NE(again.status().message().find("token already used"), std::string::npos);
}

TEST_F(AuthorityTest, SpentTokenSurvivesReload) {
  const std::string ott = Token("a.example.test");
  ASSERT_TRUE(Sign(MakeCsrPem("a.example.test", {"a.example.test"}), ott).ok());
  authority_->ExitProcess();
  Reload();
  auto again = Sign(MakeCsrPem("a.example.test", {"a.example.test"}), ott);
  EXPECT_EQ(again.status().code(), Code::kUnauthenticated);
}

TEST_F(AuthorityTest, ClientMistakeDoesNotSpendTheToken) {
  const std::string ott = Token("b.example.test");
  auto wrong = Sign(MakeCsrPem("other.example.test", {"other.example.test"}), ott);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(wrong.status().message(),
            "certificate request does not contain the valid common name - got "
            "other.example.test, want b.example.test");
  EXPECT_TRUE(Sign(MakeCsrPem("b.example.test", {"b.example.test"}), ott).ok());
}

TEST_F(AuthorityTest, RejectsBadCsrAndMissingFields) {
  auto r = Sign("", Token("x"));
  EXPECT_EQ(r.status().message(), "missing csr");
  r = Sign("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", Token("x"));
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "invalid csr");
  r = Sign(MakeCsrPem("x", {"x"}), "");
  EXPECT_EQ(r.status().message(), "missing ott");
}

TEST_F(AuthorityTest, NotAfterBeyondMaximumIsForbidden) {
  auto r = Sign(MakeCsrPem("c.example.test", {"c.example.test"}), Token("c.example.test"), "1000h");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(r.status().message(),
            "requested duration of 1000h1m0s is more than the authorized maximum certificate "
            "duration of 24h1m0s");
}

TEST_F(AuthorityTest, WeakRsaKeyIsForbidden) {
  auto r = Sign(MakeCsrPem("d.example.test", {"d.example.test"}, "RSA-1024"), Token("d.example.test"));
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
}

TEST_F(AuthorityTest, TokenRulesRejectBadTokens) {
  const std::string csr = MakeCsrPem("e.example.test", {"e.example.test"});
  struct Case {
    const char* name;
    std::function<std::string()> token;
  };
  auto with = [&](std::function<void(json_t*)> edit) {
    auto c = StepTokenClaims("e.example.test");
    edit(c.get());
    return MintToken(key_.get(), c.get());
  };
  auto other_key = testing::MakeKey("P-256");
  std::vector<Case> cases = {
      {"wrong audience", [&] { return with([](json_t* c) { json_object_set_new(c, "aud", json_string("https://ca.example.invalid/1.0/sign")); }); }},
      {"revoke audience", [&] { return with([](json_t* c) { json_object_set_new(c, "aud", json_string("https://127.0.0.1/1.0/revoke")); }); }},
      {"wrong issuer", [&] { return with([](json_t* c) { json_object_set_new(c, "iss", json_string("someone-else")); }); }},
      {"expired", [&] { return with([](json_t* c) { json_object_set_new(c, "exp", json_integer(testing::Now() - 61)); }); }},
      {"no exp", [&] { return with([](json_t* c) { json_object_del(c, "exp"); }); }},
      {"not yet valid", [&] { return with([](json_t* c) { json_object_set_new(c, "nbf", json_integer(testing::Now() + 120)); }); }},
      {"empty subject", [&] { return with([](json_t* c) { json_object_set_new(c, "sub", json_string("")); }); }},
      {"issued before the store epoch", [&] { return with([](json_t* c) { json_object_set_new(c, "iat", json_integer(testing::Now() - 3000)); }); }},
      {"unknown kid", [&] { auto c = StepTokenClaims("e.example.test"); return MintToken(key_.get(), c.get(), "nope"); }},
      {"signed by another key", [&] { auto c = StepTokenClaims("e.example.test"); return MintToken(other_key.get(), c.get()); }},
      {"garbage", [&] { return std::string("not.a.token"); }},
      {"alg none", [&] {
         auto c = StepTokenClaims("e.example.test");
         std::string t = MintToken(key_.get(), c.get());
         JsonPtr h(json_pack("{s:s,s:s,s:s}", "alg", "none", "kid", testing::kProvisionerKid, "typ", "JWT"));
         char* hs = json_dumps(h.get(), JSON_COMPACT);
         std::string out = Base64UrlEncode(hs) + t.substr(t.find('.')) ;
         free(hs);
         return out.substr(0, out.rfind('.') + 1);
       }},
  };
  for (auto& c : cases) {
    auto r = Sign(csr, c.token());
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << c.name << ": " << r.status().LogText();
  }
  // None of them spent anything: a good token still works.
  EXPECT_TRUE(Sign(csr, Token("e.example.test")).ok());
}

TEST_F(AuthorityTest, DisableIssuedAtCheckIsHonoured) {
  pki_.EditCaJson([](json_t* r) {
    json_object_set_new(json_object_get(r, "authority"), "disableIssuedAtCheck", json_true());
  });
  Reload();
  auto c = StepTokenClaims("f.example.test");
  json_object_set_new(c.get(), "iat", json_integer(testing::Now() - 3000));
  auto r = Sign(MakeCsrPem("f.example.test", {"f.example.test"}), MintToken(key_.get(), c.get()));
  EXPECT_TRUE(r.ok()) << r.status().LogText();
}

TEST_F(AuthorityTest, AcmeProvisionerRefusesTokens) {
  // An audience fragment naming the ACME provisioner routes nowhere.
  auto c = StepTokenClaims("g.example.test", "https://127.0.0.1/1.0/sign#acme/acme");
  auto r = Sign(MakeCsrPem("g.example.test", {"g.example.test"}), MintToken(key_.get(), c.get()));
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
}

TEST_F(AuthorityTest, RoutesAnswerWithStepCaShapes) {
  auto h = Get("/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "{\"status\":\"ok\"}\n");
  EXPECT_EQ(Get("/1.0/health").status, 200);
  EXPECT_EQ(Get("/version").body, "{\"version\":\"test\"}\n");
  const std::string fixtures = testing::FixturesDir() + "/wire/";
  auto roots = Get("/roots");
  EXPECT_EQ(roots.status, 201);
  std::string want = testing::ReadFile(fixtures + "roots.response");
  EXPECT_EQ(roots.body, want.substr(want.find("\r\n\r\n") + 4));
  EXPECT_EQ(Get("/federation").status, 201);
  EXPECT_EQ(Get("/intermediates").status, 201);
  auto pem = Get("/roots.pem");
  EXPECT_EQ(pem.content_type, "application/x-pem-file");
  auto nf = Get("/nope");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.body, "404 page not found\n");
  auto na = Get("/1.0/sign");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.body, "");
  EXPECT_EQ(na.content_type, "");
}

TEST_F(AuthorityTest, ProvisionerPagesMatchStepCa) {
  const std::string fixtures = testing::FixturesDir() + "/wire/";
  auto body_of = [&](const std::string& name) {
    std::string s = testing::ReadFile(fixtures + name + ".response");
    return s.substr(s.find("\r\n\r\n") + 4);
  };
  EXPECT_EQ(Get("/provisioners").body, body_of("provisioners"));
  EXPECT_EQ(Get("/provisioners", "limit=1").body, body_of("provisioners-limit-1"));
  EXPECT_EQ(Get("/provisioners", "cursor=1c93e2d7735e86ef1a90b781c6db2fa1f&limit=1").body,
            body_of("provisioners-limit-1-page2"));
  EXPECT_EQ(Get("/provisioners", "cursor=2eff99c6a20b1a52b0e3222e023bd6cd6&limit=1").body,
            body_of("provisioners-limit-1-page3"));
  EXPECT_EQ(Get("/provisioners", "limit=abc").status, 400);
}

TEST_F(AuthorityTest, EncryptedKeyAndRootBySha) {
  const std::string fixtures = testing::FixturesDir() + "/wire/";
  std::string want = testing::ReadFile(fixtures + "encrypted-key.response");
  auto ek = Get(std::string("/provisioners/") + testing::kProvisionerKid + "/encrypted-key");
  EXPECT_EQ(ek.status, 200);
  EXPECT_EQ(ek.body, want.substr(want.find("\r\n\r\n") + 4));
  EXPECT_EQ(Get("/provisioners/no-such-kid/encrypted-key").status, 404);
  want = testing::ReadFile(fixtures + "root-by-sha.response");
  auto root = Get("/root/d84b9c67692510df7ab84b74c092e9e6b0d0ab1223fdcbefe0bf552705853206");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.body, want.substr(want.find("\r\n\r\n") + 4));
  EXPECT_EQ(Get("/root/D84B9C67-692510df7ab84b74c092e9e6b0d0ab1223fdcbefe0bf552705853206").status, 200);
  EXPECT_EQ(Get("/root/d5cc523c20e00b9adae1fcffb008e6da86cf22c5c41c1dc2ca9ee18f75eedce0").status, 404);
}

TEST_F(AuthorityTest, SignRouteErrorsHaveStepCaBodies) {
  auto missing = Post("/1.0/sign", "{\"csr\":\"" + std::string("x") + "\"}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body, "{\"status\":400,\"message\":\"The request could not be completed: invalid csr.\"}\n");
  auto bad_json = Post("/sign", "{nope");
  EXPECT_EQ(bad_json.status, 400);
  auto number = Post("/sign", "{\"csr\":\"x\",\"notAfter\":5}");
  EXPECT_EQ(number.status, 400);
  auto replay_ott = Token("h.example.test");
  const std::string csr = MakeCsrPem("h.example.test", {"h.example.test"});
  auto ok = Post("/1.0/sign", SignBody(csr, replay_ott));
  EXPECT_EQ(ok.status, 201);
  EXPECT_NE(ok.body.find("\"certChain\""), std::string::npos);
  EXPECT_NE(ok.body.find("\"tlsOptions\":{\"cipherSuites\""), std::string::npos);
  EXPECT_NE(ok.body.find("\"minVersion\":1.2,"), std::string::npos) << ok.body;
  auto replay = Post("/1.0/sign", SignBody(csr, replay_ott));
  EXPECT_EQ(replay.status, 401);
  const std::string fixtures = testing::FixturesDir() + "/wire/";
  std::string want = testing::ReadFile(fixtures + "sign-replay.response");
  EXPECT_EQ(replay.body, want.substr(want.find("\r\n\r\n") + 4));
  EXPECT_EQ(replay.log_level, LogLevel::kInfo);
  EXPECT_EQ(replay.log_message.find(replay_ott), std::string::npos) << "no token in logs";
}

TEST_F(AuthorityTest, RequestIdIsEchoedOrGenerated) {
  HttpRequest r;
  r.method = "GET";
  r.path = "/health";
  r.request_id = "abc-123";
  auto with = HandleHttp(*authority_, r);
  ASSERT_FALSE(with.headers.empty());
  EXPECT_EQ(with.headers.back().second, "abc-123");
  r.request_id = "";
  auto without = HandleHttp(*authority_, r);
  EXPECT_EQ(without.headers.back().second.size(), 36u);
  EXPECT_EQ(without.headers.back().second[14], '4');
}

}  // namespace
}  // namespace stepca
