#include "authority/provisioner/k8ssa_provisioner.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "authority/jose/jws.h"
#include "shared/base64.h"

namespace stepca {
namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string PublicPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

class K8sSaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string entry = std::string(R"({"type":"K8sSA","name":"k8s","publicKeys":")") +
                              Base64Encode(PublicPem(key_.get())) + "\"}";
    JsonPtr obj(json_loads(entry.c_str(), 0, nullptr));
    auto p = ParseK8sSaProvisioner(obj.get(), "p", "k8s", Claims{}, JsonPtr(json_deep_copy(obj.get())));
    ASSERT_TRUE(p.ok()) << p.status().message();
    prov_ = std::move(p).value();
  }
  json_t* Legacy() {
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "iss", "kubernetes/serviceaccount", "sub",
                     "system:serviceaccount:prod:web", "kubernetes.io/serviceaccount/namespace", "prod",
                     "kubernetes.io/serviceaccount/service-account.name", "web",
                     "kubernetes.io/serviceaccount/service-account.uid", "u-1");
  }
  json_t* Bound(const char* aud) {
    return json_pack("{s:s,s:s,s:[s],s:I,s:I,s:{s:s,s:{s:s,s:s}}}", "iss", "https://kubernetes.default.svc",
                     "sub", "system:serviceaccount:prod:web", "aud", aud, "iat", (json_int_t)Now(), "exp",
                     (json_int_t)(Now() + 600), "kubernetes.io", "namespace", "prod", "serviceaccount",
                     "name", "web", "uid", "u-1");
  }
  Result<SignGrant> Sign(json_t* payload, EVP_PKEY* key = nullptr) {
    JsonPtr p(payload);
    JsonPtr h(json_pack("{s:s}", "kid", "sa-key"));
    auto token = SignCompactJws(h.get(), p.get(), key ? key : key_.get());
    if (!token.ok()) return token.status();
    auto jws = ParseCompactJws(*token);
    auto claims = ReadTokenClaims(jws->payload.get());
    if (!claims.ok()) return claims.status();
    return prov_->AuthorizeSign(*jws, *claims, Audiences({"ca.test"}),
                                TimePoint(std::chrono::seconds(Now())));
  }

  EvpPkeyPtr key_{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", 2048)};
  std::unique_ptr<Provisioner> prov_;
};

TEST_F(K8sSaTest, LegacyTokenGrantsTheRequestedNamesAndIsNotOneTime) {
  EXPECT_EQ(prov_->token_selector(), "k8ssa/k8sSA-default");
  EXPECT_EQ(prov_->id(), "k8ssa/k8s");
  auto g = Sign(Legacy());
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->subject, "web");
  EXPECT_EQ(g->csr_names, CsrNames::kGranted);
  EXPECT_TRUE(g->token_key.empty());
  EXPECT_EQ(g->info.type, ProvisionerType::kK8sSa);
}

TEST_F(K8sSaTest, BoundTokenMustBeMadeForThisCa) {
  auto g = Sign(Bound("https://ca.test/1.0/sign"));
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->subject, "web");
  auto other = Sign(Bound("https://kubernetes.default.svc"));
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("invalid audience"), std::string::npos);
  json_t* expired = Bound("https://ca.test/1.0/sign");
  json_object_set_new(expired, "exp", json_integer(Now() - 300));
  EXPECT_FALSE(Sign(expired).ok());
  json_t* no_exp = Bound("https://ca.test/1.0/sign");
  json_object_del(no_exp, "exp");
  EXPECT_FALSE(Sign(no_exp).ok());
}

TEST_F(K8sSaTest, RefusesBadTokens) {
  EvpPkeyPtr other(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", 2048));
  auto forged = Sign(Legacy(), other.get());
  ASSERT_FALSE(forged.ok());
  EXPECT_NE(forged.status().message().find("error validating k8sSA token"), std::string::npos);
  json_t* issuer = Legacy();
  json_object_set_new(issuer, "iss", json_string("someone/else"));
  EXPECT_FALSE(Sign(issuer).ok());
  json_t* expired = Legacy();
  json_object_set_new(expired, "exp", json_integer(Now() - 300));
  EXPECT_FALSE(Sign(expired).ok());
  json_t* sub = Legacy();
  json_object_set_new(sub, "sub", json_string("system:serviceaccount:kube-system:admin"));
  EXPECT_FALSE(Sign(sub).ok());
  json_t* empty = Legacy();
  json_object_del(empty, "kubernetes.io/serviceaccount/namespace");
  EXPECT_FALSE(Sign(empty).ok());
}

TEST(K8sSaParse, PublicKeysAreRequiredAndParsed) {
  auto parse = [](const std::string& keys) {
    const std::string entry = R"({"publicKeys":")" + keys + "\"}";
    JsonPtr obj(json_loads(entry.c_str(), 0, nullptr));
    return ParseK8sSaProvisioner(obj.get(), "p", "k", Claims{}, JsonPtr(json_object()));
  };
  EXPECT_FALSE(parse("").ok());
  EXPECT_FALSE(parse("%%%").ok());
  EXPECT_FALSE(parse(Base64Encode("no pem here")).ok());
  EXPECT_FALSE(parse(Base64Encode("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")).ok());
}

}  // namespace
}  // namespace stepca
