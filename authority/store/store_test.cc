// One suite, run against every backend: whatever the authority relies on
// must hold for LMDB, for Redis and for the unit tests' memory store alike.
#include "authority/store/store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "authority/store/memory_store.h"
#include "authority/store/redis_test_server.h"

namespace stepca {
namespace {

using std::chrono::seconds;

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    redis_ = new testing_redis::RedisServer();
    ASSERT_TRUE(redis_->Start()) << "cannot start " << testing_redis::kRedisServer;
  }
  static void TearDownTestSuite() {
    delete redis_;
    redis_ = nullptr;
  }

  void SetUp() override {
    if (GetParam() == "memory") {
      auto now = fake_now_;
      store_ = MakeMemoryStore([now] {
        return std::chrono::system_clock::time_point(std::chrono::milliseconds(now->load()));
      });
      return;
    }
    if (GetParam() == "lmdb") {
      char tmpl[] = "/tmp/stepca-store-test-XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
      config_.kind = StoreConfig::Kind::kLmdb;
      config_.lmdb_dir = dir_;
      config_.lmdb_map_size = size_t{64} << 20;
    } else {
      ASSERT_NE(redis_, nullptr);
      ASSERT_TRUE(redis_->running());
      config_.kind = StoreConfig::Kind::kRedis;
      config_.redis_host = "127.0.0.1";
      config_.redis_port = redis_->port();
      config_.redis_timeout = std::chrono::milliseconds(2000);
      // A fresh namespace per test instead of FLUSHDB.
      static int n = 0;
      config_.redis_prefix = "test" + std::to_string(getpid()) + "-" +
                             std::to_string(++n) + ":";
    }
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Store> Open() {
    auto s = MakeStore(config_);
    EXPECT_TRUE(s.ok()) << s.status().message();
    if (!s.ok()) return nullptr;
    Status st = (*s)->OpenInProcess();
    EXPECT_TRUE(st.ok()) << st.message();
    if (!st.ok()) return nullptr;
    return std::move(s).value();
  }

  // Lets time pass: the memory store's clock moves, the others sleep.
  void Advance(std::chrono::milliseconds d) {
    if (GetParam() == "memory") {
      fake_now_->fetch_add(d.count());
    } else {
      std::this_thread::sleep_for(d);
    }
  }

  bool SharedAcrossProcesses() const { return GetParam() != "memory"; }

  std::optional<std::string> MustGet(std::string_view key) {
    auto r = store_->Get(key);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r.value() : std::nullopt;
  }

  static testing_redis::RedisServer* redis_;
  StoreConfig config_;
  std::shared_ptr<std::atomic<int64_t>> fake_now_ =
      std::make_shared<std::atomic<int64_t>>(int64_t{1700000000000});
  std::string dir_;
  std::unique_ptr<Store> store_;
};

testing_redis::RedisServer* StoreTest::redis_ = nullptr;

TEST_P(StoreTest, Kind) { EXPECT_EQ(store_->Kind(), GetParam()); }

TEST_P(StoreTest, PutGetDelete) {
  EXPECT_EQ(MustGet("t/a"), std::nullopt);
  ASSERT_TRUE(store_->Put("t/a", "one", seconds(0)).ok());
  EXPECT_EQ(MustGet("t/a"), "one");
  ASSERT_TRUE(store_->Put("t/a", "two", seconds(60)).ok());  // replaces
  EXPECT_EQ(MustGet("t/a"), "two");

  const std::string binary("a\0b\xff\n", 5);
  ASSERT_TRUE(store_->Put("t/bin", binary, seconds(0)).ok());
  EXPECT_EQ(MustGet("t/bin"), binary);
  ASSERT_TRUE(store_->Put("t/empty", "", seconds(0)).ok());
  EXPECT_EQ(MustGet("t/empty"), std::string());

  ASSERT_TRUE(store_->Delete("t/a").ok());
  EXPECT_EQ(MustGet("t/a"), std::nullopt);
  EXPECT_TRUE(store_->Delete("t/a").ok());        // absent is fine
  EXPECT_TRUE(store_->Delete("t/never").ok());
  EXPECT_EQ(MustGet("t/bin"), binary);            // others untouched
}

TEST_P(StoreTest, PutIfAbsent) {
  ASSERT_TRUE(store_->PutIfAbsent("contract/j1", "v1", seconds(60)).ok());
  Status again = store_->PutIfAbsent("contract/j1", "v2", seconds(60));
  EXPECT_EQ(again.code(), Code::kAlreadyExists);
  EXPECT_EQ(MustGet("contract/j1"), "v1");  // the loser did not overwrite
  // A permanent entry blocks too.
  ASSERT_TRUE(store_->PutIfAbsent("contract/j2", "p", seconds(0)).ok());
  EXPECT_EQ(store_->PutIfAbsent("contract/j2", "q", seconds(0)).code(),
            Code::kAlreadyExists);
  // After a delete the key is free again.
  ASSERT_TRUE(store_->Delete("contract/j1").ok());
  EXPECT_TRUE(store_->PutIfAbsent("contract/j1", "v3", seconds(60)).ok());
  EXPECT_EQ(MustGet("contract/j1"), "v3");
}

TEST_P(StoreTest, PutIfAllAbsentWritesAllOrNothing) {
  const std::vector<StoreEntry> both = {{"all/token", "spent", seconds(60)},
                                        {"all/record", "reserved", seconds(0)}};
  size_t taken = 99;
  ASSERT_TRUE(store_->PutIfAllAbsent(both, &taken).ok());
  EXPECT_EQ(taken, 99u);  // untouched on success
  EXPECT_EQ(MustGet("all/token"), "spent");
  EXPECT_EQ(MustGet("all/record"), "reserved");

  // The second key live: nothing of the write is stored, and the index says
  // which key was in the way.
  const std::vector<StoreEntry> blocked = {{"all/fresh", "x", seconds(60)},
                                           {"all/record", "other", seconds(0)}};
  Status st = store_->PutIfAllAbsent(blocked, &taken);
  EXPECT_EQ(st.code(), Code::kAlreadyExists);
  EXPECT_EQ(taken, 1u);
  EXPECT_EQ(MustGet("all/fresh"), std::nullopt);
  EXPECT_EQ(MustGet("all/record"), "reserved");
  // The first key live.
  st = store_->PutIfAllAbsent({{"all/token", "again", seconds(60)}, {"all/new", "n", seconds(0)}},
                              &taken);
  EXPECT_EQ(st.code(), Code::kAlreadyExists);
  EXPECT_EQ(taken, 0u);
  EXPECT_EQ(MustGet("all/token"), "spent");
  EXPECT_EQ(MustGet("all/new"), std::nullopt);
  // Without an index to report, the refusal is the same.
  EXPECT_EQ(store_->PutIfAllAbsent(both, nullptr).code(), Code::kAlreadyExists);
  // Keys are checked like PutIfAbsent's.
  EXPECT_EQ(store_->PutIfAllAbsent({{"", "v", seconds(0)}}, nullptr).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store_->PutIfAllAbsent({{"all/neg", "v", seconds(-1)}}, nullptr).code(),
            Code::kInvalidArgument);
}

TEST_P(StoreTest, PutIfAllAbsentKeepsEachTtlAndIgnoresExpiredEntries) {
  ASSERT_TRUE(store_->PutIfAllAbsent({{"allttl/short", "s", seconds(1)},
                                      {"allttl/forever", "f", seconds(0)}},
                                     nullptr)
                  .ok());
  ASSERT_TRUE(store_->Put("allttl/old", "o", seconds(1)).ok());
  Advance(std::chrono::milliseconds(2050));
  EXPECT_EQ(MustGet("allttl/short"), std::nullopt);
  EXPECT_EQ(MustGet("allttl/forever"), "f");
  // an expired entry does not block, and is overwritten
  ASSERT_TRUE(store_->PutIfAllAbsent({{"allttl/old", "n", seconds(60)},
                                      {"allttl/short", "n2", seconds(60)}},
                                     nullptr)
                  .ok());
  EXPECT_EQ(MustGet("allttl/old"), "n");
  EXPECT_EQ(MustGet("allttl/short"), "n2");
}

TEST_P(StoreTest, TakeReturnsValueOnce) {
  ASSERT_TRUE(store_->Put("nonce/n1", "x", seconds(60)).ok());
  auto first = store_->Take("nonce/n1");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first.value(), "x");
  auto second = store_->Take("nonce/n1");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value(), std::nullopt);
  EXPECT_EQ(MustGet("nonce/n1"), std::nullopt);
  auto absent = store_->Take("nonce/never");
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent.value(), std::nullopt);
}

TEST_P(StoreTest, InvalidArguments) {
  EXPECT_EQ(store_->Put("k", "v", seconds(-1)).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->PutIfAbsent("k", "v", seconds(-5)).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store_->Put("", "v", seconds(0)).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->Get("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->CompareAndSwap("k", std::nullopt, "v", seconds(-1)).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store_->CompareAndSwap("", std::string("a"), "v", seconds(0)).code(),
            Code::kInvalidArgument);
}

TEST_P(StoreTest, CompareAndSwapReplacesOnlyTheExpectedValue) {
  ASSERT_TRUE(store_->Put("cas/a", "v1", seconds(0)).ok());
  EXPECT_TRUE(store_->CompareAndSwap("cas/a", std::string("v1"), "v2", seconds(0)).ok());
  EXPECT_EQ(MustGet("cas/a"), "v2");
  // A stale expectation loses and changes nothing.
  EXPECT_EQ(store_->CompareAndSwap("cas/a", std::string("v1"), "v3", seconds(0)).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(MustGet("cas/a"), "v2");
  // A prefix or an extension of the stored bytes is not a match.
  EXPECT_EQ(store_->CompareAndSwap("cas/a", std::string("v"), "v3", seconds(0)).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(store_->CompareAndSwap("cas/a", std::string("v22"), "v3", seconds(0)).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(MustGet("cas/a"), "v2");
  // Binary values compare as bytes.
  const std::string bin1("x\0y", 3), bin2("x\0z", 3);
  ASSERT_TRUE(store_->Put("cas/bin", bin1, seconds(0)).ok());
  EXPECT_EQ(store_->CompareAndSwap("cas/bin", bin2, "no", seconds(0)).code(),
            Code::kAlreadyExists);
  EXPECT_TRUE(store_->CompareAndSwap("cas/bin", bin1, bin2, seconds(0)).ok());
  EXPECT_EQ(MustGet("cas/bin"), bin2);
}

TEST_P(StoreTest, CompareAndSwapOnAbsentKeys) {
  // nullopt: only if absent, like PutIfAbsent.
  EXPECT_TRUE(store_->CompareAndSwap("cas/new", std::nullopt, "first", seconds(0)).ok());
  EXPECT_EQ(store_->CompareAndSwap("cas/new", std::nullopt, "second", seconds(0)).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(MustGet("cas/new"), "first");
  // Expecting a value, even the empty one, on an absent key is a mismatch
  // and writes nothing.
  EXPECT_EQ(store_->CompareAndSwap("cas/none", std::string("x"), "y", seconds(0)).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(store_->CompareAndSwap("cas/none", std::string(), "y", seconds(0)).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(MustGet("cas/none"), std::nullopt);
  // The empty value is a value.
  ASSERT_TRUE(store_->Put("cas/empty", "", seconds(0)).ok());
  EXPECT_EQ(store_->CompareAndSwap("cas/empty", std::nullopt, "y", seconds(0)).code(),
            Code::kAlreadyExists);
  EXPECT_TRUE(store_->CompareAndSwap("cas/empty", std::string(), "y", seconds(0)).ok());
  EXPECT_EQ(MustGet("cas/empty"), "y");
  // After a delete the key is absent again.
  ASSERT_TRUE(store_->Delete("cas/new").ok());
  EXPECT_EQ(store_->CompareAndSwap("cas/new", std::string("first"), "z", seconds(0)).code(),
            Code::kAlreadyExists);
  EXPECT_TRUE(store_->CompareAndSwap("cas/new", std::nullopt, "again", seconds(0)).ok());
}

// All expiry cases share one sleep to keep the suite fast. LMDB keeps
// whole seconds and rounds up, so a 1 s entry lives 1-2 s; Redis exactly 1 s.
TEST_P(StoreTest, TtlExpiry) {
  ASSERT_TRUE(store_->Put("t/get", "a", seconds(1)).ok());
  ASSERT_TRUE(store_->PutIfAbsent("t/pia", "old", seconds(1)).ok());
  ASSERT_TRUE(store_->Put("t/take", "c", seconds(1)).ok());
  ASSERT_TRUE(store_->Put("t/forever", "f", seconds(0)).ok());
  ASSERT_TRUE(store_->PutIfAbsent("t/long", "l", seconds(300)).ok());
  ASSERT_TRUE(store_->CompareAndSwap("t/cas", std::nullopt, "c1", seconds(1)).ok());
  ASSERT_TRUE(store_->Put("t/cas-old", "o", seconds(1)).ok());
  ASSERT_TRUE(store_->Put("t/cas-keep", "k1", seconds(1)).ok());
  ASSERT_TRUE(store_->Put("t/cas-forever", "f1", seconds(1)).ok());
  // A compare-and-set sets the new entry's ttl: longer, or none at all.
  ASSERT_TRUE(store_->CompareAndSwap("t/cas-keep", std::string("k1"), "k2", seconds(300)).ok());
  ASSERT_TRUE(store_->CompareAndSwap("t/cas-forever", std::string("f1"), "f2", seconds(0)).ok());

  EXPECT_EQ(MustGet("t/get"), "a");
  EXPECT_EQ(MustGet("t/cas"), "c1");
  EXPECT_EQ(store_->PutIfAbsent("t/pia", "new", seconds(1)).code(),
            Code::kAlreadyExists);

  Advance(std::chrono::milliseconds(2050));

  EXPECT_EQ(MustGet("t/get"), std::nullopt);
  // An expired entry does not block PutIfAbsent, and is overwritten.
  EXPECT_TRUE(store_->PutIfAbsent("t/pia", "new", seconds(60)).ok());
  EXPECT_EQ(MustGet("t/pia"), "new");
  auto taken = store_->Take("t/take");
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken.value(), std::nullopt);
  EXPECT_EQ(MustGet("t/forever"), "f");
  EXPECT_EQ(MustGet("t/long"), "l");
  EXPECT_EQ(store_->PutIfAbsent("t/long", "x", seconds(1)).code(),
            Code::kAlreadyExists);
  // An expired entry is absent for compare-and-set too.
  EXPECT_EQ(MustGet("t/cas"), std::nullopt);
  EXPECT_EQ(store_->CompareAndSwap("t/cas-old", std::string("o"), "n", seconds(0)).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(MustGet("t/cas-old"), std::nullopt);
  EXPECT_TRUE(store_->CompareAndSwap("t/cas-old", std::nullopt, "n", seconds(0)).ok());
  EXPECT_EQ(MustGet("t/cas-old"), "n");
  EXPECT_EQ(MustGet("t/cas-keep"), "k2");
  EXPECT_EQ(MustGet("t/cas-forever"), "f2");
}

// Starts n threads that spin until all exist, so the calls really overlap.
template <typename F>
double RunRace(int n, F body) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      body(t);
    });
  }
  while (ready.load() < n) std::this_thread::yield();
  auto start = std::chrono::steady_clock::now();
  go.store(true);
  for (auto& th : threads) th.join();
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

// Writers that share one key and each bring a key of their own: one wins,
// and no loser leaves its own key behind.
TEST_P(StoreTest, PutIfAllAbsentRacedByThreads) {
  constexpr int kThreads = 16;
  std::atomic<int> wins{0}, errors{0};
  RunRace(kThreads, [&](int t) {
    Status st = store_->PutIfAllAbsent({{"allrace/own" + std::to_string(t), "o", seconds(60)},
                                        {"allrace/shared", std::to_string(t), seconds(60)}},
                                       nullptr);
    if (st.ok()) wins.fetch_add(1);
    else if (st.code() != Code::kAlreadyExists) errors.fetch_add(1);
  });
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(errors.load(), 0);
  auto winner = MustGet("allrace/shared");
  ASSERT_TRUE(winner.has_value());
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(MustGet("allrace/own" + std::to_string(t)).has_value(),
              std::to_string(t) == *winner)
        << t;
}

TEST_P(StoreTest, PutIfAbsentRacedByThreads) {
  constexpr int kThreads = 32;
  constexpr int kKeys = 50;
  std::atomic<int> wins[kKeys] = {};
  std::atomic<int> errors{0};
  std::atomic<int> winner[kKeys];
  double ms = RunRace(kThreads, [&](int t) {
    for (int k = 0; k < kKeys; ++k) {
      Status st = store_->PutIfAbsent("race/" + std::to_string(k),
                                      std::to_string(t), seconds(60));
      if (st.ok()) {
        wins[k].fetch_add(1);
        winner[k].store(t);
      } else if (st.code() != Code::kAlreadyExists) {
        errors.fetch_add(1);
        ADD_FAILURE() << st.message();
      }
    }
  });
  EXPECT_EQ(errors.load(), 0);
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_EQ(wins[k].load(), 1) << "key " << k;
    EXPECT_EQ(MustGet("race/" + std::to_string(k)),
              std::to_string(winner[k].load()));
  }
  std::printf("[ timing ] %s: %d threads x %d keys PutIfAbsent: %.1f ms\n",
              GetParam().c_str(), kThreads, kKeys, ms);
}

// 50 writers that all read the same version and try to move it on: exactly
// one wins, the others are told so, and the winner's value is what stays.
TEST_P(StoreTest, CompareAndSwapRacedByThreadsOnOneKey) {
  constexpr int kThreads = 50;
  for (const bool from_absent : {true, false}) {
    const std::string key = from_absent ? "cas-race/absent" : "cas-race/v0";
    std::optional<std::string> expected;
    if (!from_absent) {
      expected = "v0";
      ASSERT_TRUE(store_->Put(key, *expected, seconds(0)).ok());
    }
    std::atomic<int> wins{0}, errors{0}, winner{-1};
    RunRace(kThreads, [&](int t) {
      Status st = store_->CompareAndSwap(key, expected, "t" + std::to_string(t), seconds(60));
      if (st.ok()) {
        wins.fetch_add(1);
        winner.store(t);
      } else if (st.code() != Code::kAlreadyExists) {
        errors.fetch_add(1);
        ADD_FAILURE() << st.message();
      }
    });
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(wins.load(), 1) << key;
    EXPECT_EQ(MustGet(key), "t" + std::to_string(winner.load()));
  }
}

TEST_P(StoreTest, TakeRacedByThreads) {
  constexpr int kThreads = 32;
  constexpr int kKeys = 50;
  for (int k = 0; k < kKeys; ++k) {
    ASSERT_TRUE(store_->Put("nonce/" + std::to_string(k), "v" + std::to_string(k),
                            seconds(60)).ok());
  }
  std::atomic<int> got[kKeys] = {};
  std::atomic<int> errors{0};
  double ms = RunRace(kThreads, [&](int t) {
    for (int k = 0; k < kKeys; ++k) {
      auto r = store_->Take("nonce/" + std::to_string(k));
      if (!r.ok()) {
        errors.fetch_add(1);
        ADD_FAILURE() << r.status().message();
      } else if (r.value().has_value()) {
        EXPECT_EQ(*r.value(), "v" + std::to_string(k));
        got[k].fetch_add(1);
      }
    }
  });
  EXPECT_EQ(errors.load(), 0);
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(got[k].load(), 1) << "key " << k;
  std::printf("[ timing ] %s: %d threads x %d keys Take: %.1f ms\n",
              GetParam().c_str(), kThreads, kKeys, ms);
}

// As nginx workers do: each process opens the store after fork, then all
// race on the same keys. Each child reports one byte per key on a pipe.
TEST_P(StoreTest, PutIfAbsentRacedByProcesses) {
  if (!SharedAcrossProcesses()) GTEST_SKIP() << "one process only";
  constexpr int kProcs = 8;
  constexpr int kKeys = 100;
  // Like nginx's master: no open environment across fork.
  store_->CloseInProcess();

  int go[2];
  ASSERT_EQ(pipe(go), 0);
  std::vector<pid_t> pids;
  std::vector<int> result_fds;
  for (int p = 0; p < kProcs; ++p) {
    int res[2];
    ASSERT_EQ(pipe(res), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(go[1]);
      close(res[0]);
      std::string out(kKeys, 'E');
      auto made = MakeStore(config_);
      if (made.ok() && (*made)->OpenInProcess().ok()) {
        char c;
        (void)!read(go[0], &c, 1);  // EOF when the parent says go
        for (int k = 0; k < kKeys; ++k) {
          Status st = (*made)->PutIfAbsent("proc/" + std::to_string(k),
                                           std::to_string(p), seconds(60));
          out[k] = st.ok() ? 'W' : st.code() == Code::kAlreadyExists ? 'L' : 'E';
        }
        (*made)->CloseInProcess();
      }
      (void)!write(res[1], out.data(), out.size());
      _exit(0);
    }
    close(res[1]);
    pids.push_back(pid);
    result_fds.push_back(res[0]);
  }
  close(go[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let all open
  auto start = std::chrono::steady_clock::now();
  close(go[1]);

  std::vector<int> wins(kKeys, 0);
  int errors = 0;
  for (int p = 0; p < kProcs; ++p) {
    std::string buf(kKeys, '\0');
    size_t got = 0;
    while (got < buf.size()) {
      ssize_t n = read(result_fds[p], &buf[got], buf.size() - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    close(result_fds[p]);
    ASSERT_EQ(got, buf.size()) << "child " << p << " reported short";
    for (int k = 0; k < kKeys; ++k) {
      if (buf[k] == 'W') ++wins[k];
      if (buf[k] == 'E') ++errors;
    }
  }
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(errors, 0);
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(wins[k], 1) << "key " << k;

  ASSERT_TRUE(store_->OpenInProcess().ok());
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_NE(MustGet("proc/" + std::to_string(k)), std::nullopt);
  }
  std::printf("[ timing ] %s: %d processes x %d keys PutIfAbsent: %.1f ms\n",
              GetParam().c_str(), kProcs, kKeys, ms);
}

// 50 worker processes, each with its own store opened after fork, move one
// key from the same version: exactly one wins.
TEST_P(StoreTest, CompareAndSwapRacedByProcessesOnOneKey) {
  if (!SharedAcrossProcesses()) GTEST_SKIP() << "one process only";
  constexpr int kProcs = 50;
  ASSERT_TRUE(store_->Put("cas-proc/k", "v0", seconds(0)).ok());
  store_->CloseInProcess();

  int go[2];
  ASSERT_EQ(pipe(go), 0);
  std::vector<pid_t> pids;
  std::vector<int> result_fds;
  for (int p = 0; p < kProcs; ++p) {
    int res[2];
    ASSERT_EQ(pipe(res), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(go[1]);
      close(res[0]);
      char out = 'E';
      auto made = MakeStore(config_);
      if (made.ok() && (*made)->OpenInProcess().ok()) {
        char c;
        (void)!read(go[0], &c, 1);  // EOF when the parent says go
        Status st = (*made)->CompareAndSwap("cas-proc/k", std::string("v0"),
                                            "p" + std::to_string(p), seconds(0));
        out = st.ok() ? 'W' : st.code() == Code::kAlreadyExists ? 'L' : 'E';
        (*made)->CloseInProcess();
      }
      (void)!write(res[1], &out, 1);
      _exit(0);
    }
    close(res[1]);
    pids.push_back(pid);
    result_fds.push_back(res[0]);
  }
  close(go[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let all open
  close(go[1]);

  int wins = 0, errors = 0, winner = -1;
  for (int p = 0; p < kProcs; ++p) {
    char c = 0;
    ASSERT_EQ(read(result_fds[p], &c, 1), 1) << "child " << p << " reported nothing";
    close(result_fds[p]);
    if (c == 'W') ++wins, winner = p;
    if (c == 'E') ++errors;
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(wins, 1);
  ASSERT_TRUE(store_->OpenInProcess().ok());
  EXPECT_EQ(MustGet("cas-proc/k"), "p" + std::to_string(winner));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values("lmdb", "redis", "memory"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stepca
