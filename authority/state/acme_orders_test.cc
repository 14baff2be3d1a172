#include "authority/state/acme_orders.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "authority/store/memory_store.h"

namespace stepca {
namespace {

acme::Order Sample() {
  acme::Order o;
  o.id = "o1";
  o.account = "acct";
  o.provisioner = "acme";
  o.expires = "2026-01-02T03:04:05Z";
  o.identifiers = {{"dns", "a.test"}, {"ip", "192.0.2.1"}};
  o.authzs = {"az1", "az2"};
  return o;
}

TEST(AcmeOrdersTest, RoundTripKeepsTheStoredLayout) {
  acme::Order o = Sample();
  EXPECT_EQ(AcmeOrders::Encode(o),
            R"({"id":"o1","account":"acct","provisioner":"acme","status":"pending",)"
            R"("expires":"2026-01-02T03:04:05Z","identifiers":[{"type":"dns","value":"a.test"},)"
            R"({"type":"ip","value":"192.0.2.1"}],"authzs":["az1","az2"]})");
  o.status = "valid";
  o.certificate = "c1";
  o.not_before = "2026-01-01T00:00:00Z";
  o.processing_since = "2026-01-01T00:00:01Z";
  auto back = AcmeOrders::Decode(AcmeOrders::Encode(o));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->status, "valid");
  EXPECT_EQ(back->certificate, "c1");
  EXPECT_EQ(back->not_before, o.not_before);
  EXPECT_EQ(back->processing_since, o.processing_since);
  ASSERT_EQ(back->identifiers.size(), 2u);
  EXPECT_EQ(back->identifiers[1].value, "192.0.2.1");
  EXPECT_EQ(AcmeOrders::Encode(*back), AcmeOrders::Encode(o));
}

TEST(AcmeOrdersTest, DamagedBytesDoNotDecode) {
  EXPECT_FALSE(AcmeOrders::Decode(""));
  EXPECT_FALSE(AcmeOrders::Decode("not json"));
  EXPECT_FALSE(AcmeOrders::Decode(R"("o1")"));
  EXPECT_FALSE(AcmeOrders::Decode(R"({"status":"valid"})"));
  auto store = MakeMemoryStore();
  ASSERT_TRUE(store->Put(AcmeOrders::Key("bad"), "not json", acme::kObjectTtl).ok());
  AcmeOrders orders(*store);
  EXPECT_EQ(orders.Load("bad").status().code(), Code::kInternal);
  EXPECT_FALSE(orders.Load("none").value().has_value());
}

// Two finalizes read the same ready order; one compare-and-set wins.
TEST(AcmeOrdersTest, ConcurrentTransitionsFromOneReadHaveOneWinner) {
  auto store = MakeMemoryStore();
  AcmeOrders orders(*store);
  ASSERT_TRUE(orders.Insert(Sample()).ok());
  EXPECT_EQ(orders.Insert(Sample()).code(), Code::kAlreadyExists);
  const auto read = orders.Load("o1").value().value();
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 16; ++i)
    ts.emplace_back([&, i] {
      acme::Order next = read.record;
      next.status = "processing";
      next.processing_since = "t" + std::to_string(i);
      Status st = orders.Replace(read, next);
      if (st.ok()) won++;
      else if (st.code() == Code::kAlreadyExists) lost++;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 15);
  EXPECT_EQ(orders.Load("o1").value()->record.status, "processing");
}

TEST(AcmeOrdersTest, ConcurrentAppendsKeepEveryOrder) {
  auto store = MakeMemoryStore();
  AcmeOrders orders(*store);
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i)
    ts.emplace_back([&, i] { ok += orders.AppendToAccount("acct", "o" + std::to_string(i)).ok(); });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 16);
  size_t next = 0;
  auto all = orders.ListForAccount("acct", 0, 100, &next);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 16u);
  EXPECT_EQ(next, 0u);
  auto page = orders.ListForAccount("acct", 0, 10, &next);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->size(), 10u);
  EXPECT_EQ(next, 10u);
  page = orders.ListForAccount("acct", next, 10, &next);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->size(), 6u);
  EXPECT_EQ(next, 0u);
}

}  // namespace
}  // namespace stepca
