#include "authority/state/instance_records.h"

#include <gtest/gtest.h>

#include <atomic>

#include "authority/store/memory_store.h"

namespace stepca {
namespace {

using std::chrono::seconds;

TEST(InstanceRecordsTest, AnInstanceIsClaimedOnceAndForGood) {
  auto now_s = std::make_shared<std::atomic<int64_t>>(1700000000);
  auto store = MakeMemoryStore([now_s] { return std::chrono::system_clock::time_point(seconds(now_s->load())); });
  InstanceRecords records(*store);
  const TimePoint now(seconds(now_s->load()));
  ASSERT_TRUE(records.Claim("i-1", "aws/prod", now).ok());
  EXPECT_EQ(records.Claim("i-1", "aws/prod", now).code(), Code::kAlreadyExists);
  EXPECT_TRUE(records.Claim("i-2", "aws/prod", now).ok());
  // Years later the claim still stands.
  now_s->fetch_add(10LL * 365 * 86400);
  EXPECT_EQ(records.Claim("i-1", "aws/prod", now).code(), Code::kAlreadyExists);
  auto v = store->Get("tofu/i-1");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(**v, "aws/prod 1700000000");
  EXPECT_EQ(records.Claim("", "aws/prod", now).code(), Code::kInternal);
}

}  // namespace
}  // namespace stepca
