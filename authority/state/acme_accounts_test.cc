#include "authority/state/acme_accounts.h"

#include <gtest/gtest.h>

#include "authority/store/memory_store.h"

namespace stepca {
namespace {

acme::Account Sample() {
  acme::Account a;
  a.id = "acct1";
  a.provisioner = "acme";
  a.contact = {"mailto:a@example.test"};
  a.key = R"({"kty":"EC"})";
  a.thumbprint = "thumb";
  a.created_at = "2026-01-02T03:04:05Z";
  a.eab_kid = "kid1";
  return a;
}

TEST(AcmeAccountsTest, RoundTripKeepsTheStoredLayout) {
  const acme::Account a = Sample();
  const std::string bytes = AcmeAccounts::Encode(a);
  EXPECT_EQ(bytes,
            R"({"id":"acct1","provisioner":"acme","status":"valid","contact":["mailto:a@example.test"],)"
            R"("key":"{\"kty\":\"EC\"}","thumbprint":"thumb","createdAt":"2026-01-02T03:04:05Z","eabKid":"kid1"})");
  auto back = AcmeAccounts::Decode(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->contact, a.contact);
  EXPECT_EQ(back->key, a.key);
  EXPECT_EQ(back->eab_kid, "kid1");
  EXPECT_EQ(AcmeAccounts::Encode(*back), bytes);
}

TEST(AcmeAccountsTest, DamagedBytesDoNotDecode) {
  EXPECT_FALSE(AcmeAccounts::Decode("not json"));
  EXPECT_FALSE(AcmeAccounts::Decode("[1]"));
  EXPECT_FALSE(AcmeAccounts::Decode(R"({"id":"x"})"));        // no key
  EXPECT_FALSE(AcmeAccounts::Decode(R"({"key":"{}"})"));      // no id
  EXPECT_FALSE(AcmeAccounts::Decode(R"({"id":7,"key":"k"})"));
  auto store = MakeMemoryStore();
  ASSERT_TRUE(store->Put(AcmeAccounts::Key("bad"), "{", std::chrono::seconds(0)).ok());
  auto r = AcmeAccounts(*store).Load("bad");
  EXPECT_EQ(r.status().code(), Code::kInternal);
}

TEST(AcmeAccountsTest, KeyBindsOnceAndStaleIndexReadsAsNone) {
  auto store = MakeMemoryStore();
  AcmeAccounts accounts(*store);
  acme::Account a = Sample();
  ASSERT_TRUE(accounts.Insert(a).ok());
  EXPECT_EQ(accounts.Insert(a).code(), Code::kAlreadyExists);
  ASSERT_TRUE(accounts.BindKey("acme", "thumb", a.id).ok());
  EXPECT_EQ(accounts.BindKey("acme", "thumb", "other").code(), Code::kAlreadyExists);
  auto found = accounts.FindByKey("acme", "thumb");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->record.id, "acct1");
  EXPECT_FALSE(accounts.FindByKey("other-prov", "thumb").value().has_value());
  // After a key change the old index (if left) no longer matches.
  acme::Account changed = (*found)->record;
  changed.thumbprint = "thumb2";
  ASSERT_TRUE(accounts.Replace(**found, changed).ok());
  EXPECT_FALSE(accounts.FindByKey("acme", "thumb").value().has_value());
  ASSERT_TRUE(accounts.BindEab("acme", "kid1", a.id).ok());
  EXPECT_EQ(accounts.BindEab("acme", "kid1", "x").code(), Code::kAlreadyExists);
  ASSERT_TRUE(accounts.UnbindEab("acme", "kid1").ok());
  EXPECT_TRUE(accounts.BindEab("acme", "kid1", "x").ok());
}

TEST(AcmeAccountsTest, ReplaceFromStaleBytesLoses) {
  auto store = MakeMemoryStore();
  AcmeAccounts accounts(*store);
  ASSERT_TRUE(accounts.Insert(Sample()).ok());
  auto first = accounts.Load("acct1").value().value();
  acme::Account next = first.record;
  next.status = "deactivated";
  ASSERT_TRUE(accounts.Replace(first, next).ok());
  next.contact.clear();
  EXPECT_EQ(accounts.Replace(first, next).code(), Code::kAlreadyExists);
  EXPECT_EQ(accounts.Load("acct1").value()->record.contact.size(), 1u);
  ASSERT_TRUE(accounts.Withdraw("acct1").ok());
  EXPECT_FALSE(accounts.Load("acct1").value().has_value());
}

}  // namespace
}  // namespace stepca
