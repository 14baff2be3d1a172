// LMDB-only behaviour: sweeping, a full map, directory preparation, opening
// rules. The shared semantics are in store_test.cc.
#include "authority/store/lmdb_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

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

}  // namespace
}  // namespace stepca
