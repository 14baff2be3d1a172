#include "cli/token.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"
#include "cli/commands.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "cli/init.h"
#include "cli/sign_flow.h"
#include "cli/testing_util.h"

namespace stepca {
namespace cli {
namespace {

using testing::FixtureFile;
using testing::FixturePath;
using testing::ScratchDir;

constexpr char kFixtureKid[] = "dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg";
constexpr char kFixtureFingerprint[] =
    "d84b9c67692510df7ab84b74c092e9e6b0d0ab1223fdcbefe0bf552705853206";

JsonPtr ParseJson(const std::string& text) {
  json_error_t err;
  return JsonPtr(json_loadb(text.data(), text.size(), 0, &err));
}

std::vector<std::string> Keys(const json_t* obj) {
  std::vector<std::string> keys;
  const char* k;
  json_t* v;
  json_object_foreach(const_cast<json_t*>(obj), k, v) keys.push_back(k);
  return keys;
}

std::string Str(const json_t* obj, const char* key) {
  const char* s = json_string_value(json_object_get(obj, key));
  return s ? s : "<missing>";
}

// The fixture's provisioner list with the fixture's CA config.
JsonPtr FixtureProvisioners() {
  JsonPtr ca = ParseJson(FixtureFile("pki/config/ca.json"));
  return JsonPtr(json_incref(json_object_get(json_object_get(ca.get(), "authority"), "provisioners")));
}

TEST(CliToken, ClaimsHaveStepsShape) {
  TokenClaimsRequest req;
  req.subject = "svc.example.test";
  req.ca_url = "https://127.0.0.1:9643/";
  req.root_fingerprint = kFixtureFingerprint;
  req.issuer = "fixture@example.test";
  req.now = TimePoint(std::chrono::seconds(1795409319));
  auto claims = BuildTokenClaims(req);
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  const json_t* c = claims->get();
  JsonPtr fixture = ParseJson(FixtureFile("wire/sign-ok.token.json"));
  EXPECT_EQ(Keys(c), Keys(json_object_get(fixture.get(), "payload")));
  EXPECT_EQ(Str(c, "aud"), "https://127.0.0.1:9643/1.0/sign");
  EXPECT_EQ(json_integer_value(json_object_get(c, "iat")), 1795409319);
  EXPECT_EQ(json_integer_value(json_object_get(c, "nbf")), 1795409319);
  EXPECT_EQ(json_integer_value(json_object_get(c, "exp")), 1795409319 + 300);
  EXPECT_EQ(Str(c, "iss"), "fixture@example.test");
  EXPECT_EQ(Str(c, "sub"), "svc.example.test");
  EXPECT_EQ(Str(c, "sha"), kFixtureFingerprint);
  EXPECT_TRUE(std::regex_match(Str(c, "jti"), std::regex("[0-9a-f]{64}")));
  const json_t* sans = json_object_get(c, "sans");
  ASSERT_EQ(json_array_size(sans), 1u);
  EXPECT_STREQ(json_string_value(json_array_get(sans, 0)), "svc.example.test");

  // jti is fresh every time.
  auto again = BuildTokenClaims(req);
  EXPECT_NE(Str(again->get(), "jti"), Str(c, "jti"));

  req.sans = {"a.example.test", "127.0.0.1"};
  auto with_sans = BuildTokenClaims(req);
  const json_t* s2 = json_object_get(with_sans->get(), "sans");
  ASSERT_EQ(json_array_size(s2), 2u);
  EXPECT_STREQ(json_string_value(json_array_get(s2, 0)), "a.example.test");
  EXPECT_STREQ(json_string_value(json_array_get(s2, 1)), "127.0.0.1");
}

TEST(CliToken, RevokeTokenClaims) {
  TokenClaimsRequest req;
  req.subject = "164704587795228910488264403392029268546";
  req.revoke = true;
  req.ca_url = "https://127.0.0.1:9643";
  req.root_fingerprint = kFixtureFingerprint;
  req.issuer = "fixture@example.test";
  auto claims = BuildTokenClaims(req);
  ASSERT_TRUE(claims.ok());
  JsonPtr fixture = ParseJson(FixtureFile("wire/revoke-token.token.json"));
  EXPECT_EQ(Keys(claims->get()), Keys(json_object_get(fixture.get(), "payload")));
  EXPECT_EQ(Str(claims->get(), "aud"), "https://127.0.0.1:9643/1.0/revoke");
  EXPECT_EQ(json_object_get(claims->get(), "sans"), nullptr);
}

TEST(CliToken, ClaimsNeedSubjectUrlAndIssuer) {
  TokenClaimsRequest req;
  req.ca_url = "https://x";
  req.issuer = "p";
  EXPECT_FALSE(BuildTokenClaims(req).ok());
  req.subject = "s";
  req.ca_url = "";
  EXPECT_FALSE(BuildTokenClaims(req).ok());
}

TEST(CliToken, FindsTheJwkProvisionerByName) {
  JsonPtr provs = FixtureProvisioners();
  auto p = FindJwkProvisioner(provs.get(), "fixture@example.test");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->kid, kFixtureKid);
  EXPECT_FALSE(p->encrypted_key.empty());
  auto only = FindJwkProvisioner(provs.get(), "");
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->name, "fixture@example.test");
  EXPECT_EQ(FindJwkProvisioner(provs.get(), "acme").status().code(), Code::kNotFound);
  EXPECT_EQ(FindJwkProvisioner(provs.get(), "nobody").status().code(), Code::kNotFound);
}

TEST(CliToken, DecryptsTheFixtureProvisionerKey) {
  JsonPtr provs = FixtureProvisioners();
  auto p = FindJwkProvisioner(provs.get(), "fixture@example.test");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(DecryptProvisionerKey(p.value(), "wrong").ok());
  auto jwk = DecryptProvisionerKey(p.value(), "fixture-provisioner-password");
  ASSERT_TRUE(jwk.ok()) << jwk.status().message();
  EXPECT_EQ(JwkThumbprint(jwk->key.get()).value(), kFixtureKid);
}

TEST(CliToken, RootFingerprintOfTheFixtureRoot) {
  auto fp = RootFingerprintFromFile(FixturePath("pki/certs/root_ca.crt"));
  ASSERT_TRUE(fp.ok()) << fp.status().message();
  EXPECT_EQ(fp.value(), kFixtureFingerprint);
  EXPECT_FALSE(RootFingerprintFromFile(FixturePath("nope.crt")).ok());
}

// A PKI made by init, and tokens minted offline from its ca.json.
class CliTokenFlow : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir();
    InitOptions o;
    o.name = "Token CA";
    o.dns = {"localhost"};
    o.address = ":9443";
    o.provisioner = "jwk@token.test";
    o.password = "ca";
    o.provisioner_password = "prov-pass";
    o.steppath = dir_->File("step");
    o.p2c = 1000;
    auto r = InitPki(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    result_ = new InitResult(r.value());
    ASSERT_TRUE(WriteFile(dir_->File("ppw"), "prov-pass\n", 0600).ok());
  }
  static void TearDownTestSuite() {
    delete result_;
    delete dir_;
  }

  TokenFlowOptions Options() const {
    TokenFlowOptions o;
    o.subject = "svc.token.test";
    o.provisioner = "jwk@token.test";
    o.password = "prov-pass";
    o.ca_url = result_->ca_url;
    o.root = result_->root_cert;
    o.ca_config = result_->ca_config;
    o.offline = true;
    return o;
  }

  // The provisioner's public key from ca.json.
  Jwk PublicKey() const {
    JsonPtr ca = ParseJson(ReadFile(result_->ca_config).value());
    const json_t* p = json_array_get(
        json_object_get(json_object_get(ca.get(), "authority"), "provisioners"), 0);
    auto jwk = ParseJwk(json_object_get(p, "key"));
    EXPECT_TRUE(jwk.ok());
    return std::move(jwk).value();
  }

  static ScratchDir* dir_;
  static InitResult* result_;
};

ScratchDir* CliTokenFlow::dir_ = nullptr;
InitResult* CliTokenFlow::result_ = nullptr;

TEST_F(CliTokenFlow, OfflineTokenVerifiesWithTheProvisionerKey) {
  TokenFlowOptions o = Options();
  o.sans = {"svc.token.test", "10.0.0.1"};
  auto token = GenerateToken(o);
  ASSERT_TRUE(token.ok()) << token.status().message();
  auto jws = ParseCompactJws(token.value());
  ASSERT_TRUE(jws.ok()) << jws.status().message();
  Jwk pub = PublicKey();
  EXPECT_TRUE(VerifyJws(jws.value(), pub.key.get()).ok());

  const json_t* h = jws->header.get();
  JsonPtr fixture = ParseJson(FixtureFile("wire/sign-ok.token.json"));
  EXPECT_EQ(Keys(h).size(), 3u);
  EXPECT_EQ(Str(h, "alg"), "ES256");
  EXPECT_EQ(Str(h, "typ"), "JWT");
  EXPECT_EQ(Str(h, "kid"), pub.kid);
  EXPECT_EQ(Str(h, "kid"), JwkThumbprint(pub.key.get()).value());

  const json_t* c = jws->payload.get();
  std::vector<std::string> keys = Keys(c);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, Keys(json_object_get(fixture.get(), "payload")));
  EXPECT_EQ(Str(c, "aud"), "https://localhost:9443/1.0/sign");
  EXPECT_EQ(Str(c, "iss"), "jwk@token.test");
  EXPECT_EQ(Str(c, "sub"), "svc.token.test");
  EXPECT_EQ(Str(c, "sha"), result_->fingerprint);
  EXPECT_TRUE(std::regex_match(Str(c, "jti"), std::regex("[0-9a-f]{64}")));
  int64_t iat = json_integer_value(json_object_get(c, "iat"));
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    Clock::now().time_since_epoch()).count();
  EXPECT_LE(std::llabs(now - iat), 5);
  EXPECT_EQ(json_integer_value(json_object_get(c, "nbf")), iat);
  EXPECT_EQ(json_integer_value(json_object_get(c, "exp")), iat + 300);
  const json_t* sans = json_object_get(c, "sans");
  ASSERT_EQ(json_array_size(sans), 2u);
  EXPECT_STREQ(json_string_value(json_array_get(sans, 1)), "10.0.0.1");
}

TEST_F(CliTokenFlow, WrongPasswordAndUnknownProvisionerFail) {
  TokenFlowOptions o = Options();
  o.password = "nope";
  EXPECT_FALSE(GenerateToken(o).ok());
  o = Options();
  o.provisioner = "other";
  EXPECT_EQ(GenerateToken(o).status().code(), Code::kNotFound);
  o = Options();
  o.offline = false;
  o.root = "";
  EXPECT_FALSE(GenerateToken(o).ok()) << "online needs --root";
}

TEST_F(CliTokenFlow, CommandPrintsOnlyTheTokenUsingDefaultsJson) {
  std::vector<std::string> argv = {"stepca", "token", "svc.token.test", "--offline",
                                   "--steppath", result_->steppath,
                                   "--provisioner", "jwk@token.test",
                                   "--provisioner-password-file", dir_->File("ppw"),
                                   "--san", "svc.token.test", "--san", "alt.token.test"};
  std::vector<const char*> cargv;
  for (auto& a : argv) cargv.push_back(a.c_str());
  std::ostringstream out, err;
  int rc = RunCli(static_cast<int>(cargv.size()), cargv.data(), out, err);
  ASSERT_EQ(rc, 0) << err.str();
  EXPECT_EQ(err.str(), "");
  std::string token = out.str();
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(token.back(), '\n');
  token.pop_back();
  EXPECT_EQ(token.find('\n'), std::string::npos);
  auto jws = ParseCompactJws(token);
  ASSERT_TRUE(jws.ok());
  EXPECT_TRUE(VerifyJws(jws.value(), PublicKey().key.get()).ok());
  EXPECT_EQ(Str(jws->payload.get(), "aud"), "https://localhost:9443/1.0/sign");
  EXPECT_EQ(json_array_size(json_object_get(jws->payload.get(), "sans")), 2u);
  auto names = TokenNamesOf(token);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->subject, "svc.token.test");
  EXPECT_EQ(names->sans, (std::vector<std::string>{"svc.token.test", "alt.token.test"}));
}

TEST_F(CliTokenFlow, RevokeCommand) {
  std::vector<std::string> argv = {"stepca", "token", "1234567890", "--revoke", "--offline",
                                   "--steppath", result_->steppath,
                                   "--provisioner-password-file", dir_->File("ppw")};
  std::vector<const char*> cargv;
  for (auto& a : argv) cargv.push_back(a.c_str());
  std::ostringstream out, err;
  ASSERT_EQ(RunCli(static_cast<int>(cargv.size()), cargv.data(), out, err), 0) << err.str();
  std::string token = out.str();
  token.pop_back();
  auto jws = ParseCompactJws(token);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(Str(jws->payload.get(), "aud"), "https://localhost:9443/1.0/revoke");
  EXPECT_EQ(Str(jws->payload.get(), "sub"), "1234567890");
  EXPECT_EQ(json_object_get(jws->payload.get(), "sans"), nullptr);
}

TEST_F(CliTokenFlow, CommandErrorsGoToStderrWithExitCode1) {
  std::vector<std::string> argv = {"stepca", "token", "x", "--offline",
                                   "--steppath", result_->steppath,
                                   "--provisioner-password-file", dir_->File("missing")};
  std::vector<const char*> cargv;
  for (auto& a : argv) cargv.push_back(a.c_str());
  std::ostringstream out, err;
  EXPECT_EQ(RunCli(static_cast<int>(cargv.size()), cargv.data(), out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(err.str().find("missing"), std::string::npos) << err.str();
}

TEST(CliToken, DefaultsMissingFileIsEmpty) {
  ScratchDir dir;
  auto d = LoadClientDefaults(dir.path());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->ca_url, "");
}

}  // namespace
}  // namespace cli
}  // namespace stepca
