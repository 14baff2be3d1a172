#include "authority/provisioner/provisioner_collection.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "authority/jose/jwk.h"
#include "authority/provisioner/parse_provisioner.h"

namespace stepca {
namespace {

std::unique_ptr<Provisioner> Jwk(const std::string& name, const std::string& kid) {
  EvpPkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  JsonPtr key = JwkToJson(k.get(), false, kid, "ES256").value();
  JsonPtr obj(json_pack("{s:s,s:s,s:O}", "type", "JWK", "name", name.c_str(), "key", key.get()));
  std::vector<std::string> warnings;
  auto p = ParseProvisioner(obj.get(), "p", Claims{}, &warnings);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return std::move(p).value();
}

TEST(ProvisionerCollection, ManagedProvisionersFollowCaJsonsAndAreReplacedAtOnce) {
  ProvisionerCollection c;
  ASSERT_TRUE(c.Add(Jwk("config", "k0"), "authority.provisioners[0]").ok());
  std::vector<std::unique_ptr<Provisioner>> managed;
  managed.push_back(Jwk("one", "k1"));
  managed.push_back(Jwk("two", "k2"));
  ASSERT_TRUE(c.ReplaceManaged(std::move(managed)).ok());
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.at(0).name(), "config");
  EXPECT_EQ(c.at(2).name(), "two");
  const Provisioner* one = c.ByName("one");
  ASSERT_NE(one, nullptr);
  EXPECT_TRUE(c.IsFromConfig("config"));
  EXPECT_FALSE(c.IsFromConfig("one"));

  std::vector<std::unique_ptr<Provisioner>> next;
  next.push_back(Jwk("three", "k3"));
  ASSERT_TRUE(c.ReplaceManaged(std::move(next)).ok());
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.ByName("one"), nullptr);
  EXPECT_EQ(c.JwkByKid("k1"), nullptr);
  EXPECT_NE(c.JwkByKid("k3"), nullptr);
  EXPECT_NE(c.ByName("config"), nullptr);
  // A pointer taken before the swap still reads (a request in flight).
  EXPECT_EQ(one->name(), "one");
  std::string cursor;
  EXPECT_EQ(c.Page("", 10, &cursor).size(), 2u);
}

TEST(ProvisionerCollection, ACollidingReplacementChangesNothing) {
  ProvisionerCollection c;
  ASSERT_TRUE(c.Add(Jwk("config", "k0"), "authority.provisioners[0]").ok());
  std::vector<std::unique_ptr<Provisioner>> managed;
  managed.push_back(Jwk("one", "k1"));
  ASSERT_TRUE(c.ReplaceManaged(std::move(managed)).ok());
  std::vector<std::unique_ptr<Provisioner>> bad;
  bad.push_back(Jwk("two", "k2"));
  bad.push_back(Jwk("config", "k9"));
  Status st = c.ReplaceManaged(std::move(bad));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(c.ByName("one"), nullptr);
  EXPECT_EQ(c.ByName("two"), nullptr);
  EXPECT_EQ(c.size(), 2u);
}

TEST(ProvisionerCollection, CaJsonDuplicatesAreRefused) {
  ProvisionerCollection c;
  ASSERT_TRUE(c.Add(Jwk("a", "k0"), "authority.provisioners[0]").ok());
  Status st = c.Add(Jwk("a", "k1"), "authority.provisioners[1]");
  EXPECT_EQ(st.message(), "field \"authority.provisioners[1].name\": duplicate provisioner \"a\"");
}

}  // namespace
}  // namespace stepca
