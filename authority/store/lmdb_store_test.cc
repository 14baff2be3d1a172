// LMDB-only behaviour: sweeping, a full map, directory preparation, opening
// rules. The shared semantics are in store_test.cc.
#include "authority/store/lmdb_store.h"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace stepca {
namespace {

using std::chrono::seconds;

class LmdbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stepca-lmdb-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    config_.kind = StoreConfig::Kind::kLmdb;
    config_.lmdb_dir = root_ + "/db";
    config_.lmdb_map_size = size_t{16} << 20;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<LmdbStore> Open() {
    EXPECT_TRUE(PrepareStore(config_, -1, -1).ok());
    auto s = std::make_unique<LmdbStore>(config_);
    Status st = s->OpenInProcess();
    EXPECT_TRUE(st.ok()) << st.message();
    return s;
  }

  std::string root_;
  StoreConfig config_;
};

TEST_F(LmdbStoreTest, PrepareCreatesPrivateDirectory) {
  config_.lmdb_dir = root_ + "/a/b/c";
  ASSERT_TRUE(PrepareStore(config_, -1, -1).ok());
  struct stat st;
  ASSERT_EQ(stat(config_.lmdb_dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Idempotent, and chown to our own ids works on the dir and the files.
  auto s = std::make_unique<LmdbStore>(config_);
  ASSERT_TRUE(s->OpenInProcess().ok());
  ASSERT_TRUE(s->Put("k", "v", seconds(0)).ok());
  Status again = PrepareStore(config_, static_cast<long>(getuid()),
                              static_cast<long>(getgid()));
  EXPECT_TRUE(again.ok()) << again.message();
  ASSERT_EQ(stat((config_.lmdb_dir + "/data.mdb").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, getuid());
}

TEST_F(LmdbStoreTest, PrepareRejectsAFile) {
  config_.lmdb_dir = root_ + "/file";
  FILE* f = fopen(config_.lmdb_dir.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  Status st = PrepareStore(config_, -1, -1);
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_NE(st.message().find("not a directory"), std::string::npos);
}

TEST_F(LmdbStoreTest, PrepareIsNoOpForRedis) {
  StoreConfig c;
  c.kind = StoreConfig::Kind::kRedis;
  EXPECT_TRUE(PrepareStore(c, 0, 0).ok());
}

TEST_F(LmdbStoreTest, NotOpenedIsUnavailable) {
  LmdbStore s(config_);
  EXPECT_EQ(s.Put("k", "v", seconds(0)).code(), Code::kUnavailable);
  EXPECT_EQ(s.Get("k").status().code(), Code::kUnavailable);
}

TEST_F(LmdbStoreTest, MissingDirectoryIsUnavailable) {
  LmdbStore s(config_);  // PrepareStore not run: no directory
  Status st = s.OpenInProcess();
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(st.message().rfind("store unavailable: lmdb open " + config_.lmdb_dir, 0),
            0u)
      << st.message();
}

TEST_F(LmdbStoreTest, KeyTooLong) {
  auto s = Open();
  EXPECT_EQ(s->Put(std::string(600, 'k'), "v", seconds(0)).code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(s->Put(std::string(500, 'k'), "v", seconds(0)).ok());
}

TEST_F(LmdbStoreTest, FullMapIsUnavailableNotACrash) {
  config_.lmdb_map_size = size_t{1} << 20;
  auto s = Open();
  const std::string value(16 << 10, 'x');
  Status st;
  int i = 0;
  for (; i < 1000; ++i) {
    st = s->Put("big/" + std::to_string(i), value, seconds(0));
    if (!st.ok()) break;
  }
  ASSERT_FALSE(st.ok()) << "1 MiB map never filled";
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_NE(st.message().find("full"), std::string::npos) << st.message();
  // The store still reads, and frees space.
  EXPECT_EQ(s->Get("big/0").value(), value);
  EXPECT_TRUE(s->Delete("big/0").ok());
  EXPECT_TRUE(s->Delete("big/1").ok());
  EXPECT_TRUE(s->Put("small", "v", seconds(0)).ok());
}

// Commits are fsynced (several ms each on a real disk), so the entries that
// must outlive the sleep are written first and the 1 s ones last.
TEST_F(LmdbStoreTest, SweepRemovesOnlyExpiredEntries) {
  auto s = Open();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(s->Put("keep/" + std::to_string(i), "v", seconds(0)).ok());
    ASSERT_TRUE(s->Put("later/" + std::to_string(i), "v", seconds(600)).ok());
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(s->Put("tmp/" + std::to_string(i), "v", seconds(1)).ok());
  }
  auto written = std::chrono::steady_clock::now();
  ASSERT_TRUE(s->SweepExpired(1000).ok());
  EXPECT_EQ(s->CountEntries().value(), 60u);  // nothing expired yet

  std::this_thread::sleep_until(written + std::chrono::milliseconds(2050));
  // Bounded: a sweep of 20 examines 20 entries at most.
  ASSERT_TRUE(s->SweepExpired(20).ok());
  size_t after_one = s->CountEntries().value();
  EXPECT_LT(after_one, 60u);
  EXPECT_GE(after_one, 40u);
  // Sweeps continue where the last one stopped, wrapping around.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(s->SweepExpired(20).ok());
  EXPECT_EQ(s->CountEntries().value(), 10u);
  EXPECT_EQ(s->Get("keep/3").value(), "v");
  EXPECT_EQ(s->Get("later/4").value(), "v");
}

TEST_F(LmdbStoreTest, WritesSweepOpportunistically) {
  auto s = Open();
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(s->PutIfAbsent("ott/" + std::to_string(i), "v", seconds(1)).ok());
  }
  auto written = std::chrono::steady_clock::now();
  std::this_thread::sleep_until(written + std::chrono::milliseconds(2050));
  // Enough writes to reach the next multiple of kSweepEvery.
  for (uint64_t i = 40; i < LmdbStore::kSweepEvery; ++i) {
    ASSERT_TRUE(s->Put("perm/" + std::to_string(i), "v", seconds(0)).ok());
  }
  EXPECT_EQ(s->CountEntries().value(), LmdbStore::kSweepEvery - 40);
}

// Two environments of the same directory in two processes see each other's
// commits (the per-node sharing between nginx workers).
TEST_F(LmdbStoreTest, ProcessesShareTheDatabase) {
  auto s = Open();
  s->CloseInProcess();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    LmdbStore child(config_);
    bool ok = child.OpenInProcess().ok() &&
              child.PutIfAbsent("from/child", "c", seconds(0)).ok();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(s->OpenInProcess().ok());
  EXPECT_EQ(s->Get("from/child").value(), "c");
}

// An environment opened before fork is never used in the child: the child's
// OpenInProcess makes its own.
TEST_F(LmdbStoreTest, EnvOpenedBeforeForkIsNotUsedInChild) {
  auto s = Open();
  ASSERT_TRUE(s->Put("k", "parent", seconds(0)).ok());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    bool refused = s->Get("k").status().code() == Code::kUnavailable;
    bool ok = refused && s->OpenInProcess().ok() &&
              s->Put("k2", "child", seconds(0)).ok() &&
              s->Get("k").value() == std::optional<std::string>("parent");
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(s->Get("k2").value(), "child");
}

// Holds LMDB's writer lock from another process until Release(), so that
// this process's writes line up behind a commit that cannot finish.
class WriterLockHolder {
 public:
  WriterLockHolder(const std::string& dir, size_t map_size) {
    int up[2], down[2];
    if (pipe(up) != 0 || pipe(down) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(up[0]);
      close(down[1]);
      MDB_env* env = nullptr;
      MDB_txn* txn = nullptr;
      char c = 'x';
      bool ok = mdb_env_create(&env) == 0 &&
                mdb_env_set_mapsize(env, map_size) == 0 &&
                mdb_env_open(env, dir.c_str(), MDB_NOTLS, 0600) == 0 &&
                mdb_txn_begin(env, nullptr, 0, &txn) == 0;
      if (!ok) c = 'e';
      if (write(up[1], &c, 1) != 1) _exit(2);
      (void)!read(down[0], &c, 1);
      if (txn != nullptr) mdb_txn_abort(txn);
      _exit(ok ? 0 : 1);
    }
    close(up[1]);
    close(down[0]);
    release_fd_ = down[1];
    char c = 0;
    held_ = read(up[0], &c, 1) == 1 && c == 'x';
    close(up[0]);
  }
  ~WriterLockHolder() { Release(); }
  bool held() const { return held_; }
  void Release() {
    if (release_fd_ < 0) return;
    char c = 'g';
    (void)!write(release_fd_, &c, 1);
    close(release_fd_);
    release_fd_ = -1;
    int status = 0;
    waitpid(pid_, &status, 0);
  }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
  bool held_ = false;
};

// Bounded wait for a condition another thread makes true (no timing
// assumption beyond "within 10 s").
template <typename F>
bool Eventually(F f) {
  for (int i = 0; i < 10000; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// Writes that arrive while a commit is in flight share the next
// transaction, and keep the meaning they would have one by one: of two
// PutIfAbsent of one key in the batch exactly one wins.
TEST_F(LmdbStoreTest, WritesQueuedBehindACommitShareOneTransaction) {
  auto s = Open();
  WriterLockHolder holder(config_.lmdb_dir, config_.lmdb_map_size);
  ASSERT_TRUE(holder.held());
  const uint64_t commits_before = s->CommittedTransactions();

  std::thread first([&] { EXPECT_TRUE(s->Put("first", "1", seconds(0)).ok()); });
  ASSERT_TRUE(Eventually([&] { return s->Committing(); }));

  std::vector<std::thread> threads;
  std::vector<Status> same(2);
  for (int i = 0; i < 7; ++i) {
    threads.emplace_back([&, i] {
      EXPECT_TRUE(s->PutIfAbsent("b/" + std::to_string(i), "v", seconds(0)).ok());
    });
  }
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] { same[i] = s->PutIfAbsent("same", std::to_string(i), seconds(0)); });
  }
  ASSERT_TRUE(Eventually([&] { return s->QueuedWrites() == 9; }));
  holder.Release();
  first.join();
  for (auto& t : threads) t.join();

  EXPECT_EQ(s->CommittedTransactions() - commits_before, 2u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(s->Get("b/" + std::to_string(i)).value(), "v");
  EXPECT_NE(same[0].ok(), same[1].ok());
  const Status& lost = same[0].ok() ? same[1] : same[0];
  EXPECT_EQ(lost.code(), Code::kAlreadyExists);
  const std::string winner = same[0].ok() ? "0" : "1";
  EXPECT_EQ(s->Get("same").value(), winner);
}

// A write LMDB itself refuses (here: it does not fit the map) fails alone;
// the writes batched with it are committed without it.
TEST_F(LmdbStoreTest, AWriteLmdbRefusesFailsAloneInItsBatch) {
  config_.lmdb_map_size = size_t{1} << 20;
  auto s = Open();
  WriterLockHolder holder(config_.lmdb_dir, config_.lmdb_map_size);
  ASSERT_TRUE(holder.held());
  const uint64_t commits_before = s->CommittedTransactions();

  std::thread first([&] { EXPECT_TRUE(s->Put("first", "1", seconds(0)).ok()); });
  ASSERT_TRUE(Eventually([&] { return s->Committing(); }));
  Status big, small_a, small_b;
  std::thread ta([&] { small_a = s->Put("small/a", "a", seconds(0)); });
  ASSERT_TRUE(Eventually([&] { return s->QueuedWrites() == 1; }));
  std::thread tb([&] { big = s->Put("big", std::string(2 << 20, 'x'), seconds(0)); });
  ASSERT_TRUE(Eventually([&] { return s->QueuedWrites() == 2; }));
  std::thread tc([&] { small_b = s->Take("first").status(); });
  ASSERT_TRUE(Eventually([&] { return s->QueuedWrites() == 3; }));
  holder.Release();
  first.join();
  ta.join();
  tb.join();
  tc.join();

  EXPECT_EQ(big.code(), Code::kUnavailable);
  EXPECT_NE(big.message().find("full"), std::string::npos) << big.message();
  EXPECT_TRUE(small_a.ok()) << small_a.message();
  EXPECT_TRUE(small_b.ok()) << small_b.message();
  EXPECT_EQ(s->CommittedTransactions() - commits_before, 2u);
  EXPECT_EQ(s->Get("small/a").value(), "a");
  EXPECT_EQ(s->Get("first").value(), std::nullopt);  // taken in the batch
  EXPECT_EQ(s->Get("big").value(), std::nullopt);
}

}  // namespace
}  // namespace stepca
