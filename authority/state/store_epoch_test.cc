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

}  // namespace
}  // namespace stepca
