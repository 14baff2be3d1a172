#include "authority/acme/state.h"

#include <gtest/gtest.h>

#include <thread>

#include "authority/acme/nonce.h"
#include "authority/testing/fixture_pki.h"

namespace stepca {
namespace acme {
namespace {

class AcmeStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = ParseStoreUri(pki_.store_uri());
    ASSERT_TRUE(cfg.ok());
    auto s = MakeStore(*cfg);
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->OpenInProcess().ok());
  }
  testing::FixturePki pki_;
  std::unique_ptr<Store> store_;
};

TEST_F(AcmeStateTest, NonceSpendsOnce) {
  auto n = NewNonce(*store_);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->size(), 43u);
  EXPECT_TRUE(SpendNonce(*store_, *n).value());
  EXPECT_FALSE(SpendNonce(*store_, *n).value());
  EXPECT_FALSE(SpendNonce(*store_, "short").value());
  EXPECT_FALSE(SpendNonce(*store_, std::string(43, '!')).value());
}

TEST_F(AcmeStateTest, ConcurrentAppendsKeepEveryOrder) {
  std::vector<std::thread> ts;
  for (int i = 0; i < 16; ++i)
    ts.emplace_back([&, i] { ASSERT_TRUE(AppendAccountOrder(*store_, "acct", "o" + std::to_string(i)).ok()); });
  for (auto& t : ts) t.join();
  size_t next = 0;
  auto all = ListAccountOrders(*store_, "acct", 0, 100, &next);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 16u);
  EXPECT_EQ(next, 0u);
  // Pages.
  auto page = ListAccountOrders(*store_, "acct", 0, 10, &next);
  EXPECT_EQ(page->size(), 10u);
  EXPECT_EQ(next, 10u);
  page = ListAccountOrders(*store_, "acct", next, 10, &next);
  EXPECT_EQ(page->size(), 6u);
  EXPECT_EQ(next, 0u);
}

TEST_F(AcmeStateTest, RoundTrips) {
  Authz a;
  a.id = "a1";
  a.identifier = {"dns", "x.test"};
  a.token = "t";
  a.challenges.push_back({"c1", "http-01", "pending", "", ""});
  ASSERT_TRUE(Save(*store_, "acme_authz/a1", a, kObjectTtl).ok());
  auto back = Load<Authz>(*store_, "acme_authz/a1");
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->challenges[0].type, "http-01");
  EXPECT_EQ((*back)->identifier.value, "x.test");
  EXPECT_FALSE(Load<Order>(*store_, "acme_order/none")->has_value());
  ASSERT_TRUE(store_->Put("acme_order/bad", "not json", kObjectTtl).ok());
  EXPECT_FALSE(Load<Order>(*store_, "acme_order/bad").ok());
}

}  // namespace
}  // namespace acme
}  // namespace stepca
