#include "authority/state/spent_tokens.h"

#include <gtest/gtest.h>

#include <atomic>

#include "authority/store/memory_store.h"

namespace stepca {
namespace {

using std::chrono::seconds;

struct FakeClock {
  std::shared_ptr<std::atomic<int64_t>> now_s = std::make_shared<std::atomic<int64_t>>(1700000000);
  StoreClock fn() const {
    auto n = now_s;
    return [n] { return std::chrono::system_clock::time_point(seconds(n->load())); };
  }
  TimePoint now() const { return TimePoint(seconds(now_s->load())); }
};

TEST(SpentTokensTest, SpendsOnceAndReplayIsAlreadyExists) {
  FakeClock clock;
  auto store = MakeMemoryStore(clock.fn());
  SpentTokens tokens(*store);
  const TimePoint exp = clock.now() + std::chrono::minutes(5);
  ASSERT_TRUE(tokens.Spend("k1", "prov-a", exp, clock.now()).ok());
  EXPECT_EQ(tokens.Spend("k1", "prov-b", exp, clock.now()).code(), Code::kAlreadyExists);
  EXPECT_TRUE(tokens.Spend("k2", "prov-a", exp, clock.now()).ok());
  // The layout other nodes read: used_ott/<key> holding who spent it.
  auto v = store->Get("used_ott/k1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), "prov-a");
  EXPECT_EQ(tokens.Spend("", "p", exp, clock.now()).code(), Code::kInternal);
}

TEST(SpentTokensTest, RecordOutlivesTheTokenThenGoes) {
  FakeClock clock;
  auto store = MakeMemoryStore(clock.fn());
  SpentTokens tokens(*store);
  const TimePoint exp = clock.now() + std::chrono::minutes(5);
  ASSERT_TRUE(tokens.Spend("k", "p", exp, clock.now()).ok());
  // Past the token's expiry plus the leeway, a replay is still refused...
  clock.now_s->fetch_add(5 * 60 + 60 + 30);
  EXPECT_EQ(tokens.Spend("k", "p", exp, clock.now()).code(), Code::kAlreadyExists);
  // ...and once the retention is over the record is gone.
  clock.now_s->fetch_add(60);
  auto v = store->Get("used_ott/k");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), std::nullopt);
}

TEST(SpentTokensTest, RetentionIsAtLeastAMinute) {
  const TimePoint now(seconds(1000));
  EXPECT_EQ(SpentTokens::RetentionFor(now - std::chrono::hours(1), now), seconds(60));
  EXPECT_EQ(SpentTokens::RetentionFor(now + seconds(300), now), seconds(300 + 60 + 60));
}

}  // namespace
}  // namespace stepca
