#include "authority/admin/admin_service.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "authority/jose/jwk.h"
#include "authority/provisioner/parse_provisioner.h"
#include "authority/state/managed_config.h"
#include "authority/store/memory_store.h"
#include "authority/testing/fake_time_source.h"
#include "shared/base64.h"

namespace stepca::admin {
namespace {

EvpPkeyPtr P256() { return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

JsonPtr PublicJwk(const std::string& kid) {
  EvpPkeyPtr k = P256();
  auto j = JwkToJson(k.get(), false, kid, "ES256");
  return std::move(j).value();
}

// A linkedca JWK provisioner as step's admin client sends it.
JsonPtr LinkedcaJwk(const std::string& name, const std::string& kid) {
  JsonPtr pub = PublicJwk(kid);
  char* text = json_dumps(pub.get(), JSON_COMPACT);
  const std::string s = text;
  free(text);
  return JsonPtr(json_pack("{s:s,s:s,s:{s:{s:s}}}", "name", name.c_str(), "type", "JWK",
                           "details", "JWK", "publicKey", Base64Encode(s).c_str()));
}

// One node: ca.json with one JWK provisioner "admin", over a shared store.
struct Node {
  ProvisionerCollection provisioners;
  std::unique_ptr<AdminService> service;

  Node(Store& store, const TimeSource& clock, const json_t* config_jwk) {
    std::vector<std::string> warnings;
    auto p = ParseProvisioner(config_jwk, "authority.provisioners[0]", Claims{}, &warnings);
    EXPECT_TRUE(p.ok()) << p.status().message();
    AdminSettings s;
    s.config_provisioners.emplace_back((*p)->id(), (*p)->name());
    s.first_jwk_id = (*p)->id();
    EXPECT_TRUE(provisioners.Add(std::move(p).value(), "authority.provisioners[0]").ok());
    service = std::make_unique<AdminService>(std::move(s), store, provisioners, clock);
  }
};

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_jwk_.reset(json_pack("{s:s,s:s,s:O}", "type", "JWK", "name", "admin", "key",
                                PublicJwk("config-kid").get()));
    a_ = std::make_unique<Node>(*store_, clock_, config_jwk_.get());
    b_ = std::make_unique<Node>(*store_, clock_, config_jwk_.get());
    ASSERT_TRUE(a_->service->Refresh().ok());
    ASSERT_TRUE(b_->service->Refresh().ok());
  }

  std::string Stored() {
    auto v = store_->Get(ManagedConfigRecords::ConfigKey());
    return v.ok() && v.value() ? *v.value() : "";
  }

  std::unique_ptr<Store> store_ = MakeMemoryStore();
  testing::FakeTimeSource clock_{TimePoint(std::chrono::seconds(1800000000))};
  JsonPtr config_jwk_;
  std::unique_ptr<Node> a_, b_;
};

TEST_F(AdminServiceTest, FirstSuperAdminIsStepOnTheFirstJwkProvisionerOnce) {
  std::string next;
  auto list = b_->service->ListAdmins("", 20, &next);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);  // two nodes bootstrapped, one admin
  EXPECT_EQ((*list)[0].subject, "step");
  EXPECT_EQ((*list)[0].type, AdminType::kSuperAdmin);
  EXPECT_EQ((*list)[0].provisioner_id, a_->provisioners.ByName("admin")->id());
  auto found = a_->service->FindAdmin({"nobody", "step"}, "admin");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, (*list)[0].id);
  auto missing = a_->service->FindAdmin({"step"}, "other");
  EXPECT_EQ(missing.status().code(), Code::kUnauthenticated);
}

TEST_F(AdminServiceTest, AProvisionerAddedOnOneNodeIsLiveOnTheOtherAfterRefresh) {
  auto created = a_->service->CreateProvisioner(LinkedcaJwk("ops", "ops-kid").get());
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(json_string_length(json_object_get(created->get(), "id")), 36u);
  EXPECT_NE(a_->provisioners.ByName("ops"), nullptr);
  EXPECT_NE(a_->provisioners.JwkByKid("ops-kid"), nullptr);
  EXPECT_EQ(b_->provisioners.ByName("ops"), nullptr);
  ASSERT_TRUE(b_->service->Refresh().ok());
  const Provisioner* ops = b_->provisioners.ByName("ops");
  ASSERT_NE(ops, nullptr);
  EXPECT_FALSE(b_->provisioners.IsFromConfig("ops"));
  EXPECT_TRUE(b_->provisioners.IsFromConfig("admin"));

  ASSERT_TRUE(b_->service->RemoveProvisioner("ops", "").ok());
  EXPECT_EQ(b_->provisioners.ByName("ops"), nullptr);
  EXPECT_EQ(ops->name(), "ops");  // still readable by a request that held it
  ASSERT_TRUE(a_->service->Refresh().ok());
  EXPECT_EQ(a_->provisioners.ByName("ops"), nullptr);
  EXPECT_EQ(a_->provisioners.JwkByKid("ops-kid"), nullptr);
  EXPECT_NE(a_->provisioners.ByName("admin"), nullptr);
}

TEST_F(AdminServiceTest, BadProvisionersAreRefusedAndNothingChanges) {
  auto dup = a_->service->CreateProvisioner(LinkedcaJwk("admin", "x").get());
  EXPECT_EQ(dup.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(dup.status().message(), "provisioner with name admin already exists");
  auto first = a_->service->CreateProvisioner(LinkedcaJwk("k1", "same-kid").get());
  ASSERT_TRUE(first.ok());
  const std::string with_one = Stored();
  auto same_kid = a_->service->CreateProvisioner(LinkedcaJwk("k2", "same-kid").get());
  EXPECT_EQ(same_kid.status().message(), "provisioner with key id same-kid already exists");
  EXPECT_EQ(Stored(), with_one);
  ASSERT_TRUE(a_->service->RemoveProvisioner("k1", "").ok());
  const std::string before = Stored();
  JsonPtr oidc(json_pack("{s:s,s:s}", "name", "o", "type", "OIDC"));
  EXPECT_EQ(a_->service->CreateProvisioner(oidc.get()).status().code(), Code::kInvalidArgument);
  JsonPtr badkey(json_pack("{s:s,s:s,s:{s:{s:s}}}", "name", "k", "type", "JWK", "details", "JWK",
                           "publicKey", Base64Encode("{\"kty\":\"oct\",\"k\":\"AA\"}").c_str()));
  EXPECT_EQ(a_->service->CreateProvisioner(badkey.get()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(a_->service->RemoveProvisioner("admin", "").code(), Code::kInvalidArgument);
  EXPECT_EQ(a_->service->UpdateProvisioner("admin", LinkedcaJwk("admin", "y").get()).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(a_->service->RemoveProvisioner("nope", "").code(), Code::kNotFound);
  EXPECT_EQ(Stored(), before);
}

TEST_F(AdminServiceTest, TheLastSuperAdminStays) {
  std::string next;
  const std::string id = a_->service->ListAdmins("", 20, &next)->at(0).id;
  const std::string before = Stored();
  Status removed = a_->service->RemoveAdmin(id);
  EXPECT_EQ(removed.code(), Code::kInvalidArgument);
  EXPECT_EQ(removed.message(), "error deleting admin " + id + ": cannot remove the last super admin");
  EXPECT_EQ(a_->service->UpdateAdmin(id, AdminType::kAdmin).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Stored(), before);

  // With a second super admin, the first may go.
  auto second = a_->service->CreateAdmin("alice@example.test", "admin", AdminType::kSuperAdmin);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(a_->service->CreateAdmin("alice@example.test", "admin", AdminType::kAdmin).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(a_->service->CreateAdmin("bob", "nope", AdminType::kAdmin).status().code(),
            Code::kNotFound);
  ASSERT_TRUE(a_->service->RemoveAdmin(id).ok());
  EXPECT_EQ(a_->service->GetAdmin(id).status().code(), Code::kNotFound);
  EXPECT_EQ(a_->service->RemoveAdmin(second->id).code(), Code::kInvalidArgument);
}

TEST_F(AdminServiceTest, RemovingAProvisionerTakesItsAdminsButNotTheLastSuperAdmins) {
  ASSERT_TRUE(a_->service->CreateProvisioner(LinkedcaJwk("ops", "ops-kid").get()).ok());
  auto adm = a_->service->CreateAdmin("carol", "ops", AdminType::kAdmin);
  ASSERT_TRUE(adm.ok()) << adm.status().message();
  ASSERT_TRUE(a_->service->RemoveProvisioner("ops", "").ok());
  EXPECT_EQ(a_->service->GetAdmin(adm->id).status().code(), Code::kNotFound);

  // A provisioner that holds every super admin cannot go.
  ASSERT_TRUE(a_->service->CreateProvisioner(LinkedcaJwk("ops2", "ops2-kid").get()).ok());
  auto super2 = a_->service->CreateAdmin("dave", "ops2", AdminType::kSuperAdmin);
  ASSERT_TRUE(super2.ok());
  std::string next;
  auto admins = a_->service->ListAdmins("", 20, &next);
  for (const auto& r : *admins) {
    if (r.subject == "step") ASSERT_TRUE(a_->service->RemoveAdmin(r.id).ok());
  }
  Status st = a_->service->RemoveProvisioner("ops2", "");
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "cannot remove provisioner ops2 because no super admins will remain");
  EXPECT_NE(a_->provisioners.ByName("ops2"), nullptr);
}

TEST_F(AdminServiceTest, UpdateKeepsIdentityAndRefusesTypeChanges) {
  auto created = a_->service->CreateProvisioner(LinkedcaJwk("ops", "ops-kid").get());
  ASSERT_TRUE(created.ok());
  JsonPtr changed(json_deep_copy(created->get()));
  json_object_set_new(changed.get(), "name", json_string("ops-renamed"));
  auto updated = a_->service->UpdateProvisioner("ops", changed.get());
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ(a_->provisioners.ByName("ops"), nullptr);
  EXPECT_NE(a_->provisioners.ByName("ops-renamed"), nullptr);

  JsonPtr other_id(json_deep_copy(updated->get()));
  json_object_set_new(other_id.get(), "id", json_string("x"));
  EXPECT_EQ(a_->service->UpdateProvisioner("ops-renamed", other_id.get()).status().message(),
            "cannot change provisioner ID");
}

TEST_F(AdminServiceTest, AdminListPagesById) {
  for (const char* s : {"u1", "u2", "u3"})
    ASSERT_TRUE(a_->service->CreateAdmin(s, "admin", AdminType::kAdmin).ok());
  std::string next;
  auto first = a_->service->ListAdmins("", 3, &next);
  ASSERT_EQ(first->size(), 3u);
  ASSERT_FALSE(next.empty());
  std::string end;
  auto rest = a_->service->ListAdmins(next, 3, &end);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_TRUE(end.empty());
  EXPECT_GT(rest->at(0).id, first->at(2).id);
}

TEST(AdminJson, ShapesAsStepCaWritesThem) {
  AdminRecord r{"id1", "step", "p1", AdminType::kSuperAdmin, "2027-01-15T08:00:00Z"};
  JsonPtr proto = AdminService::AdminProtoJson(r);
  EXPECT_STREQ(json_string_value(json_object_get(proto.get(), "provisionerId")), "p1");
  EXPECT_STREQ(json_string_value(json_object_get(proto.get(), "type")), "SUPER_ADMIN");
  EXPECT_STREQ(json_string_value(json_object_get(proto.get(), "authorityId")), kDefaultAuthorityId);
  JsonPtr go = AdminService::AdminGoJson(r);
  EXPECT_STREQ(json_string_value(json_object_get(go.get(), "provisioner_id")), "p1");
  EXPECT_EQ(json_integer_value(json_object_get(go.get(), "type")), 2);
  const int64_t secs = ParseRfc3339("2027-01-15T08:00:00Z")->time_since_epoch() / std::chrono::seconds(1);
  EXPECT_EQ(json_integer_value(json_object_get(json_object_get(go.get(), "created_at"), "seconds")),
            secs);
}

}  // namespace
}  // namespace stepca::admin
