#include "authority/state/acme_authorizations.h"

#include <gtest/gtest.h>

#include "authority/state/acme_orders.h"
#include "authority/store/memory_store.h"

namespace stepca {
namespace {

TEST(AcmeAuthorizationsTest, RoundTripKeepsTheStoredLayout) {
  acme::Authz a;
  a.id = "a1";
  a.account = "acct";
  a.identifier = {"dns", "x.test"};
  a.wildcard = true;
  a.token = "t";
  a.challenges.push_back({"c1", "http-01", "pending", "", "", ""});
  a.challenges.push_back({"c2", "dns-01", "invalid", "", R"({"type":"x"})", ""});
  const std::string bytes = AcmeAuthorizations::Encode(a);
  EXPECT_EQ(bytes,
            R"({"id":"a1","account":"acct","identifier":{"type":"dns","value":"x.test"},)"
            R"("wildcard":true,"status":"pending","token":"t","challenges":[)"
            R"({"id":"c1","type":"http-01","status":"pending"},)"
            R"({"id":"c2","type":"dns-01","status":"invalid","error":"{\"type\":\"x\"}"}]})");
  auto back = AcmeAuthorizations::Decode(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->wildcard);
  EXPECT_EQ(back->identifier.value, "x.test");
  ASSERT_EQ(back->challenges.size(), 2u);
  EXPECT_EQ(back->challenges[1].error, R"({"type":"x"})");
  EXPECT_EQ(AcmeAuthorizations::Encode(*back), bytes);
}

TEST(AcmeAuthorizationsTest, DamagedBytesDoNotDecode) {
  EXPECT_FALSE(AcmeAuthorizations::Decode("{"));
  EXPECT_FALSE(AcmeAuthorizations::Decode("null"));
  EXPECT_FALSE(AcmeAuthorizations::Decode(R"({"challenges":[]})"));
  auto store = MakeMemoryStore();
  ASSERT_TRUE(store->Put(AcmeAuthorizations::Key("bad"), "[]", acme::kObjectTtl).ok());
  EXPECT_EQ(AcmeAuthorizations(*store).Load("bad").status().code(), Code::kInternal);
}

TEST(AcmeAuthorizationsTest, ReplaceIsACompareAndSet) {
  auto store = MakeMemoryStore();
  AcmeAuthorizations authzs(*store);
  acme::Authz a;
  a.id = "a1";
  a.challenges.push_back({"c1", "http-01", "pending", "", "", ""});
  ASSERT_TRUE(authzs.Insert(a).ok());
  auto read = authzs.Load("a1").value().value();
  acme::Authz next = read.record;
  next.challenges[0].status = "processing";
  ASSERT_TRUE(authzs.Replace(read, next).ok());
  EXPECT_EQ(authzs.Replace(read, next).code(), Code::kAlreadyExists);
  EXPECT_EQ(authzs.Load("a1").value()->record.challenges[0].status, "processing");
}

}  // namespace
}  // namespace stepca
