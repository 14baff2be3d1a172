// The embedded store: one LMDB environment in a directory that every nginx
// worker of the node opens after fork. LMDB serializes write transactions
// across processes, so PutIfAbsent, CompareAndSwap and Take (one write
// transaction each) are atomic node-wide.
//
// Record layout: 8-byte little-endian expiry (unix seconds, 0 = never), then
// the value. An entry with expiry e is live while now < e; a ttl of t seconds
// gives e = ceil(now) + t, so an entry lives at least t and less than t + 1
// seconds. Expired entries read as absent and are removed by a bounded sweep
// that runs inside every Nth write transaction (no extra fsync).
#ifndef STEPCA_AUTHORITY_STORE_LMDB_STORE_H
#define STEPCA_AUTHORITY_STORE_LMDB_STORE_H

#include <lmdb.h>
#include <sys/types.h>

#include <atomic>
#include <string>

#include "authority/store/store.h"

namespace stepca {

class LmdbStore final : public Store {
 public:
  // Writes between opportunistic sweeps, and entries examined per sweep.
  // Examining an entry is a cursor step over mapped pages (well under a
  // microsecond); only deletions dirty pages. With 512 per 64 writes a
  // full pass over N entries takes N/8 writes, so expired entries stay a
  // bounded fraction of the database.
  static constexpr uint64_t kSweepEvery = 64;
  static constexpr size_t kSweepBatch = 512;

  explicit LmdbStore(StoreConfig config);
  ~LmdbStore() override;
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  Status OpenInProcess() override;
  void CloseInProcess() override;

  Status PutIfAbsent(std::string_view key, std::string_view value,
                     std::chrono::seconds ttl) override;
  Status Put(std::string_view key, std::string_view value,
             std::chrono::seconds ttl) override;
  Status CompareAndSwap(std::string_view key,
                        const std::optional<std::string>& expected,
                        std::string_view desired,
                        std::chrono::seconds ttl) override;
  Result<std::optional<std::string>> Get(std::string_view key) override;
  Result<std::optional<std::string>> Take(std::string_view key) override;
  Status Delete(std::string_view key) override;
  std::string Kind() const override { return "lmdb"; }
  // Empty: the data lives in this host's files (store.h).
  Result<std::string> ServerIdentity() override;

  // Examines up to `max` entries, continuing where the previous sweep of
  // this process stopped (wrapping at the end), and deletes the expired
  // ones. One write transaction.
  Status SweepExpired(size_t max);

  // Entries in the database, live or expired (tests, metrics).
  Result<size_t> CountEntries();

 private:
  class WriteTxn;

  Status CheckOpen() const;
  Status CheckKey(std::string_view key) const;
  // Begins a transaction; on MDB_READERS_FULL clears stale readers and
  // retries once.
  Status Begin(unsigned flags, MDB_txn** txn);
  // Runs a sweep step inside an open write transaction. Caller holds the
  // (process-shared) LMDB writer lock, which also guards sweep_next_.
  Status SweepInTxn(MDB_txn* txn, size_t max, uint64_t now);
  // Writes value with ttl under key inside txn (MDB_RESERVE, one copy).
  Status PutInTxn(MDB_txn* txn, std::string_view key, std::string_view value,
                  std::chrono::seconds ttl, uint64_t now);
  // Commits, sweeping first every kSweepEvery writes.
  Status CommitWrite(MDB_txn* txn, uint64_t now);

  StoreConfig config_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  pid_t open_pid_ = 0;
  size_t max_key_size_ = 0;
  std::atomic<uint64_t> writes_{0};
  std::string sweep_next_;  // guarded by the LMDB writer lock
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STORE_LMDB_STORE_H
