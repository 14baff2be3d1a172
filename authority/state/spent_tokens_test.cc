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
  ASSERT_TRUE(v.value().has_value());
  EXPECT_EQ(v.value()->substr(0, 7), "prov-a ");
  EXPECT_EQ(v.value()->size(), 7u + 24u);
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

// A store whose PutIfAbsent fails by script: each step says whether the
// write lands in the inner store and what the caller is told.
class ScriptedStore final : public Store {
 public:
  enum class Step { kPass, kDownNotSent, kLandThenTimeout, kTimeoutNotLanded };
  explicit ScriptedStore(Store& inner) : inner_(inner) {}
  std::vector<Step> script;
  Status OpenInProcess() override { return Status::Ok(); }
  void CloseInProcess() override {}
  Status PutIfAbsent(std::string_view k, std::string_view v, std::chrono::seconds t) override {
    Step s = Step::kPass;
    if (!script.empty()) {
      s = script.front();
      script.erase(script.begin());
    }
    switch (s) {
      case Step::kPass: return inner_.PutIfAbsent(k, v, t);
      case Step::kDownNotSent: return Unavailable("store unavailable: test connect");
      case Step::kLandThenTimeout:
        (void)inner_.PutIfAbsent(k, v, t);
        return Unavailable("store unavailable: test timeout").MaybeApplied();
      case Step::kTimeoutNotLanded: return Unavailable("store unavailable: test timeout").MaybeApplied();
    }
    return Internal("unreachable");
  }
  Status PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) override {
    return inner_.PutIfAllAbsent(entries, taken);
  }
  Status Put(std::string_view k, std::string_view v, std::chrono::seconds t) override { return inner_.Put(k, v, t); }
  Result<std::optional<std::string>> Get(std::string_view k) override { return inner_.Get(k); }
  Result<std::optional<std::string>> Take(std::string_view k) override { return inner_.Take(k); }
  Status CompareAndSwap(std::string_view k, const std::optional<std::string>& e, std::string_view d,
                        std::chrono::seconds t) override {
    return inner_.CompareAndSwap(k, e, d, t);
  }
  Status Delete(std::string_view k) override { return inner_.Delete(k); }
  std::string Kind() const override { return "scripted"; }
  Result<std::string> ServerIdentity() override { return std::string(); }

 private:
  Store& inner_;
};

bool EndsWith(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

// The 503 says exactly whether the token was spent.
TEST(SpentTokensTest, AStoreFailureSaysWhetherTheTokenWasSpent) {
  using Step = ScriptedStore::Step;
  FakeClock clock;
  auto inner = MakeMemoryStore(clock.fn());
  ScriptedStore store(*inner);
  SpentTokens tokens(store);
  const TimePoint exp = clock.now() + std::chrono::minutes(5);

  // Never sent: not spent, and a retry of the same token works.
  store.script = {Step::kDownNotSent};
  Status st = tokens.Spend("a", "p", exp, clock.now());
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_TRUE(EndsWith(st.message(), kTokenNotSpent)) << st.message();
  EXPECT_FALSE(inner->Get("used_ott/a").value().has_value());
  EXPECT_TRUE(tokens.Spend("a", "p", exp, clock.now()).ok());

  // Landed, then the answer was lost: the second look finds our own write,
  // so the spend is ours and the request goes on.
  store.script = {Step::kLandThenTimeout};
  EXPECT_TRUE(tokens.Spend("b", "p", exp, clock.now()).ok());
  EXPECT_EQ(tokens.Spend("b", "p", exp, clock.now()).code(), Code::kAlreadyExists);

  // Did not land, and the second look writes it: ours too.
  store.script = {Step::kTimeoutNotLanded};
  EXPECT_TRUE(tokens.Spend("c", "p", exp, clock.now()).ok());

  // Another request spent it (a replay racing a timeout): the second look
  // finds another marker and calls it a replay.
  ASSERT_TRUE(tokens.Spend("d", "p", exp, clock.now()).ok());
  store.script = {Step::kTimeoutNotLanded};
  EXPECT_EQ(tokens.Spend("d", "p", exp, clock.now()).code(), Code::kAlreadyExists);

  // Neither look answered: the client is told it may have been spent.
  store.script = {Step::kLandThenTimeout, Step::kTimeoutNotLanded};
  st = tokens.Spend("e", "p", exp, clock.now());
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_TRUE(EndsWith(st.message(), kTokenMaybeSpent)) << st.message();

  // After a spend, a later store failure says the token is gone.
  Status after = AfterSpend(Unavailable("store unavailable: x").WithDetail("d"));
  EXPECT_TRUE(EndsWith(after.message(), kTokenSpent)) << after.message();
  EXPECT_EQ(after.detail(), "d");
  EXPECT_EQ(AfterSpend(InvalidArgument("bad")).message(), "bad");
  // Before the spend (the epoch check, the record lookups): untouched.
  Status before = BeforeSpend(Unavailable("store unavailable: y"));
  EXPECT_TRUE(EndsWith(before.message(), kTokenNotSpent)) << before.message();
  EXPECT_EQ(BeforeSpend(NotFound("n")).code(), Code::kNotFound);
}

}  // namespace
}  // namespace stepca
