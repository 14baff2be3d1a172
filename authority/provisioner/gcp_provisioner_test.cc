#include "authority/provisioner/gcp_provisioner.h"

#include <gtest/gtest.h>

#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"

namespace stepca {
namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class GcpTest : public ::testing::Test {
 protected:
  void Load(const std::string& extra = "") {
    const std::string entry = R"({"type":"GCP","name":"gcp","certsURL":"https://certs.test")" + extra + "}";
    JsonPtr obj(json_loads(entry.c_str(), 0, nullptr));
    ASSERT_TRUE(obj);
    auto get = [this](const std::string& url) -> Result<HttpDocument> {
      if (url != "https://certs.test") return Unavailable("no");
      JsonPtr jwk = JwkToJson(key_.get(), false, "g1", "RS256").value();
      JsonPtr set(json_pack("{s:[O]}", "keys", jwk.get()));
      char* s = json_dumps(set.get(), JSON_COMPACT);
      HttpDocument d{s, ""};
      free(s);
      return d;
    };
    std::vector<std::string> w;
    auto p = ParseGcpProvisioner(obj.get(), "p", "gcp", Claims{}, JsonPtr(json_deep_copy(obj.get())), &w, get);
    ASSERT_TRUE(p.ok()) << p.status().message();
    ASSERT_TRUE(w.empty());
    prov_ = std::move(p).value();
  }
  json_t* Payload() {
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:{s:{s:s,s:s,s:s,s:s,s:I}}}", "iss", "https://accounts.google.com",
                     "sub", "1111", "email", "sa@proj.iam.gserviceaccount.com", "aud",
                     "https://ca.test/1.0/sign#gcp/gcp", "iat", (json_int_t)Now(), "exp", (json_int_t)(Now() + 600),
                     "google", "compute_engine", "instance_id", "42", "instance_name", "vm1", "project_id", "proj",
                     "zone", "us-central1-a", "instance_creation_timestamp", (json_int_t)(Now() - 60));
  }
  Result<SignGrant> Sign(json_t* payload, EVP_PKEY* key = nullptr) {
    JsonPtr p(payload);
    JsonPtr h(json_pack("{s:s}", "kid", "g1"));
    auto token = SignCompactJws(h.get(), p.get(), key ? key : key_.get());
    auto jws = ParseCompactJws(*token);
    auto claims = ReadTokenClaims(jws->payload.get());
    if (!claims.ok()) return claims.status();
    return prov_->AuthorizeSign(*jws, *claims, Audiences({"ca.test"}), TimePoint(std::chrono::seconds(Now())));
  }
  EvpPkeyPtr key_{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", 2048)};
  std::unique_ptr<Provisioner> prov_;
};

TEST_F(GcpTest, InstanceIdentityIsTrustedOnFirstUse) {
  Load(R"(,"projectIDs":["proj"],"serviceAccounts":["sa@proj.iam.gserviceaccount.com"],"instanceAge":"1h")");
  auto g = Sign(Payload());
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->subject, "vm1");
  EXPECT_EQ(g->csr_names, CsrNames::kGranted);
  EXPECT_FALSE(g->instance_key.empty());
  EXPECT_EQ(g->info.credential_id, "1111");
}

TEST_F(GcpTest, DisableCustomSansGivesTheInternalNames) {
  Load(R"(,"disableCustomSANs":true,"disableTrustOnFirstUse":true)");
  auto g = Sign(Payload());
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->sans, (std::vector<std::string>{"vm1.c.proj.internal", "vm1.us-central1-a.c.proj.internal"}));
  EXPECT_FALSE(g->token_key.empty());
  EXPECT_TRUE(g->instance_key.empty());
}

TEST_F(GcpTest, RefusesBadTokens) {
  Load(R"(,"projectIDs":["other"])");
  EXPECT_NE(Sign(Payload()).status().message().find("invalid project id"), std::string::npos);
  Load(R"(,"serviceAccounts":["x@y"])");
  EXPECT_NE(Sign(Payload()).status().message().find("invalid subject"), std::string::npos);
  Load(R"(,"instanceAge":"10s")");
  EXPECT_NE(Sign(Payload()).status().message().find("too old"), std::string::npos);
  Load();
  json_t* iss = Payload();
  json_object_set_new(iss, "iss", json_string("https://evil.test"));
  EXPECT_FALSE(Sign(iss).ok());
  json_t* aud = Payload();
  json_object_set_new(aud, "aud", json_string("https://ca.test/1.0/sign#gcp/other"));
  EXPECT_FALSE(Sign(aud).ok());
  json_t* ce = Payload();
  json_object_del(json_object_get(json_object_get(ce, "google"), "compute_engine"), "zone");
  EXPECT_FALSE(Sign(ce).ok());
  EvpPkeyPtr other(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", 2048));
  EXPECT_FALSE(Sign(Payload(), other.get()).ok());
}

}  // namespace
}  // namespace stepca
