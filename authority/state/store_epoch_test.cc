#include "authority/state/store_epoch.h"

#include <gtest/gtest.h>

#include "authority/store/memory_store.h"

namespace stepca {
namespace {

TEST(StoreEpochTest, FirstClaimWinsAndEveryoneReadsIt) {
  auto store = MakeMemoryStore();
  StoreEpoch epoch(*store);
  auto first = epoch.ReadOrClaim(1000);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value(), 1000);
  auto second = StoreEpoch(*store).ReadOrClaim(2000);  // a later node
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value(), 1000);
  auto v = store->Get("meta/epoch");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), "1000");
}

TEST(StoreEpochTest, MalformedRecordIsAnError) {
  auto store = MakeMemoryStore();
  ASSERT_TRUE(store->Put("meta/epoch", "12x", std::chrono::seconds(0)).ok());
  EXPECT_EQ(StoreEpoch(*store).ReadOrClaim(5).status().code(), Code::kUnavailable);
}

// The same identity keeps the epoch; a new one (restart, failover) moves it
// past now, once, for everyone; an empty identity (LMDB) never moves it.
TEST(StoreEpochTest, ANewServerIdentityMovesTheEpochPastNow) {
  auto store = MakeMemoryStore();
  StoreEpoch epoch(*store);
  EXPECT_EQ(epoch.Current("run-a/repl-a", 1000, 1005).value(), 1000);
  EXPECT_EQ(store->Get("meta/epoch").value(), "1000 run-a/repl-a");
  EXPECT_EQ(StoreEpoch(*store).Current("run-a/repl-a", 3000, 3000).value(), 1000);
  // Redis restarted (or a replica took over) at 2000.
  EXPECT_EQ(StoreEpoch(*store).Current("run-b/repl-b", 2000, 2000).value(), 2001);
  // Every later reader of the new identity gets the moved epoch.
  EXPECT_EQ(StoreEpoch(*store).Current("run-b/repl-b", 9000, 2500).value(), 2001);
  // A node still talking to the old server (it cannot: but if it did) moves
  // it again rather than back.
  EXPECT_EQ(StoreEpoch(*store).Current("run-a/repl-a", 9000, 2400).value(), 2401);
  // Never backwards.
  EXPECT_EQ(StoreEpoch(*store).Current("run-c/x", 0, 100).value(), 2401);
  // No identity: the stored value whatever it says.
  EXPECT_EQ(StoreEpoch(*store).Current("", 0, 99999).value(), 2401);
}

TEST(StoreEpochTest, AnOldRecordWithoutIdentityIsMovedOnceAndAnEmptyStoreIsClaimed) {
  auto store = MakeMemoryStore();
  ASSERT_TRUE(store->Put("meta/epoch", "500", std::chrono::seconds(0)).ok());
  EXPECT_EQ(StoreEpoch(*store).Current("", 0, 600).value(), 500);
  EXPECT_EQ(StoreEpoch(*store).Current("r/1", 0, 600).value(), 601);
  EXPECT_EQ(StoreEpoch(*store).Current("r/1", 0, 700).value(), 601);
  // The store came back empty: whoever asks first claims its candidate.
  ASSERT_TRUE(store->Delete("meta/epoch").ok());
  EXPECT_EQ(StoreEpoch(*store).Current("r/2", 801, 800).value(), 801);
  EXPECT_EQ(StoreEpoch(*store).ReadOrClaim(5).value(), 801);
  ASSERT_TRUE(store->Put("meta/epoch", "x y", std::chrono::seconds(0)).ok());
  EXPECT_EQ(StoreEpoch(*store).Current("r/2", 0, 0).status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace stepca
