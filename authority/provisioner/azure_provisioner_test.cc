#include "authority/provisioner/azure_provisioner.h"

#include <gtest/gtest.h>

#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"

namespace stepca {
namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr char kMirId[] =
    "/subscriptions/sub-1/resourcegroups/rg-1/providers/Microsoft.Compute/virtualMachines/vm-1";

class AzureTest : public ::testing::Test {
 protected:
  void Load(const std::string& extra = "") {
    const std::string entry =
        R"({"type":"Azure","name":"az","tenantID":"t-1","configurationEndpoint":"https://login.test/t-1")" + extra + "}";
    JsonPtr obj(json_loads(entry.c_str(), 0, nullptr));
    ASSERT_TRUE(obj);
    auto get = [this](const std::string& url) -> Result<HttpDocument> {
      if (url == "https://login.test/t-1")
        return HttpDocument{R"({"issuer":"https://sts.test/{tenantid}/","jwks_uri":"https://login.test/keys"})", ""};
      if (url != "https://login.test/keys") return Unavailable("no");
      JsonPtr jwk = JwkToJson(key_.get(), false, "a1", "RS256").value();
      JsonPtr set(json_pack("{s:[O]}", "keys", jwk.get()));
      char* s = json_dumps(set.get(), JSON_COMPACT);
      HttpDocument d{s, ""};
      free(s);
      return d;
    };
    std::vector<std::string> w;
    auto p = ParseAzureProvisioner(obj.get(), "p", "az", Claims{}, JsonPtr(json_deep_copy(obj.get())), &w, get);
    ASSERT_TRUE(p.ok()) << p.status().message();
    ASSERT_TRUE(w.empty()) << w[0];
    prov_ = std::move(p).value();
  }
  json_t* Payload() {
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s}", "iss", "https://sts.test/t-1/", "sub", "oid-1", "aud",
                     "https://management.azure.com/", "iat", (json_int_t)Now(), "exp", (json_int_t)(Now() + 600),
                     "tid", "t-1", "oid", "oid-1", "xms_mirid", kMirId);
  }
  Result<SignGrant> Sign(json_t* payload) {
    JsonPtr p(payload);
    JsonPtr h(json_pack("{s:s}", "kid", "a1"));
    auto token = SignCompactJws(h.get(), p.get(), key_.get());
    auto jws = ParseCompactJws(*token);
    auto claims = ReadTokenClaims(jws->payload.get());
    if (!claims.ok()) return claims.status();
    return prov_->AuthorizeSign(*jws, *claims, Audiences({"ca.test"}), TimePoint(std::chrono::seconds(Now())));
  }
  EvpPkeyPtr key_{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", 2048)};
  std::unique_ptr<Provisioner> prov_;
};

TEST_F(AzureTest, ManagedIdentityTokenOfAVm) {
  Load(R"(,"resourceGroups":["rg-1"],"subscriptionIDs":["sub-1"],"objectIDs":["oid-1"])");
  EXPECT_EQ(prov_->id(), "t-1");
  auto g = Sign(Payload());
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->subject, "vm-1");
  EXPECT_FALSE(g->instance_key.empty());
  EXPECT_EQ(g->csr_names, CsrNames::kGranted);
  Load(R"(,"disableCustomSANs":true,"disableTrustOnFirstUse":true)");
  g = Sign(Payload());
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->sans, std::vector<std::string>{"vm-1"});
  // Azure caches its token for a day: without TOFU it may be reused.
  EXPECT_TRUE(g->instance_key.empty());
  EXPECT_TRUE(g->token_key.empty());
}

TEST_F(AzureTest, RefusesBadTokens) {
  Load(R"(,"resourceGroups":["rg-2"])");
  EXPECT_NE(Sign(Payload()).status().message().find("invalid resource group"), std::string::npos);
  Load();
  json_t* tid = Payload();
  json_object_set_new(tid, "tid", json_string("t-2"));
  EXPECT_NE(Sign(tid).status().message().find("tenant id"), std::string::npos);
  json_t* aud = Payload();
  json_object_set_new(aud, "aud", json_string("https://vault.azure.net"));
  EXPECT_FALSE(Sign(aud).ok());
  json_t* iss = Payload();
  json_object_set_new(iss, "iss", json_string("https://sts.test/{tenantid}/"));
  EXPECT_FALSE(Sign(iss).ok());
  json_t* mirid = Payload();
  json_object_set_new(mirid, "xms_mirid", json_string("/subscriptions/s/resourceGroups/g"));
  EXPECT_FALSE(Sign(mirid).ok());
}

TEST(AzureParse, XmsMirId) {
  auto r = ParseXmsMirId(kMirId);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->subscription, "sub-1");
  EXPECT_EQ(r->group, "rg-1");
  EXPECT_EQ(r->name, "vm-1");
  EXPECT_TRUE(ParseXmsMirId("/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u").ok());
  EXPECT_FALSE(ParseXmsMirId("/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/accounts/x").ok());
  EXPECT_FALSE(ParseXmsMirId("").ok());
}

}  // namespace
}  // namespace stepca
