#include "authority/state/revocation_index.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "authority/state/crl_state.h"
#include "authority/state/revocations.h"
#include "authority/store/memory_store.h"

namespace stepca {
namespace {

TEST(RevocationIndex, SlotsFillInOrderWithoutHoles) {
  auto store = MakeMemoryStore();
  RevocationIndex index(*store);
  EXPECT_EQ(index.Append("10").value(), 0u);
  EXPECT_EQ(index.Append("11").value(), 1u);
  // A stale hint (a slower writer's) only costs probes.
  ASSERT_TRUE(store->Put("revoked_index_next", "0", std::chrono::seconds(0)).ok());
  EXPECT_EQ(index.Append("12").value(), 2u);
  EXPECT_EQ(index.ReadFrom(0, 100).value(), (std::vector<std::string>{"10", "11", "12"}));
  EXPECT_EQ(index.ReadFrom(1, 1).value(), std::vector<std::string>{"11"});
  EXPECT_TRUE(index.ReadFrom(3, 100).value().empty());
  EXPECT_EQ(index.Append("").status().code(), Code::kInternal);
}

TEST(RevocationIndex, ConcurrentWritersGetDistinctSlots) {
  auto store = MakeMemoryStore();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(RevocationIndex(*store).Append(std::to_string(t * 100 + i)).ok());
    });
  for (auto& th : threads) th.join();
  auto all = RevocationIndex(*store).ReadFrom(0, 1000).value();
  EXPECT_EQ(all.size(), 200u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 200u);
}

TEST(RevocationIndex, RevokeListsTheSerialOnceAndRefusesASecondRevoke) {
  auto store = MakeMemoryStore();
  RevocationRecord r;
  r.serial = "42";
  ASSERT_TRUE(Revocations(*store).Revoke(r).ok());
  EXPECT_EQ(Revocations(*store).Revoke(r).code(), Code::kAlreadyExists);
  EXPECT_EQ(RevocationIndex(*store).ReadFrom(0, 10).value(), std::vector<std::string>{"42"});
}

TEST(CrlState, RecordRoundTripAndCompareAndSet) {
  auto store = MakeMemoryStore();
  CrlState state(*store);
  EXPECT_FALSE(state.Current().value().has_value());
  CrlRecord r;
  r.number = 3;
  r.this_update = TimePoint(std::chrono::seconds(1800000000));
  r.next_update = r.this_update + std::chrono::hours(24);
  r.index_count = 9;
  r.der = std::string("\x30\x82\x00\x01", 4);
  ASSERT_TRUE(state.Replace(std::nullopt, r).ok());
  EXPECT_EQ(state.Replace(std::nullopt, r).code(), Code::kAlreadyExists);
  auto got = state.Current().value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->record.number, 3);
  EXPECT_EQ(got->record.index_count, 9u);
  EXPECT_EQ(got->record.der, r.der);
  EXPECT_EQ(got->record.next_update, r.next_update);
  EXPECT_FALSE(CrlState::Decode("{}").has_value());
  EXPECT_FALSE(CrlState::Decode("not json").has_value());
}

TEST(CrlState, OneLeaseHolderAtATime) {
  auto store = MakeMemoryStore();
  CrlState state(*store);
  EXPECT_TRUE(state.HoldLease("a", std::chrono::seconds(5)).value());
  EXPECT_TRUE(state.HoldLease("a", std::chrono::seconds(5)).value());  // renewal
  EXPECT_FALSE(state.HoldLease("b", std::chrono::seconds(5)).value());
  ASSERT_TRUE(state.ReleaseLease("b").ok());  // not b's: nothing happens
  EXPECT_EQ(state.LeaseHolder().value().value(), "a");
  ASSERT_TRUE(state.ReleaseLease("a").ok());
  EXPECT_TRUE(state.HoldLease("b", std::chrono::seconds(5)).value());
}

}  // namespace
}  // namespace stepca
