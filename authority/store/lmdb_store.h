// The embedded store: one LMDB environment in a directory that every nginx
// worker of the node opens after fork. LMDB serializes write transactions
// across processes, so PutIfAbsent, CompareAndSwap and Take (one write
// transaction each) are atomic node-wide.
//
// Group commit: a write transaction costs two fdatasyncs (data, then the
// meta page), which bounds a node's writes to a few thousand a second. So
// the writes of a process that arrive while a commit is in flight wait for
// the next one, and one thread (the first to find no commit running) applies
// them all, in arrival order, in one transaction with LMDB's full
// durability. Each call still returns only after its own write is on disk;
// concurrent callers share the fsyncs. Writes to the same key in one batch
// see each other as they would in separate transactions (a second
// PutIfAbsent of a key is refused).
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
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

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
  // Writes applied in one transaction at most: a bound on how long the
  // LMDB writer lock is held and on the size of one commit.
  static constexpr size_t kMaxBatch = 64;

  explicit LmdbStore(StoreConfig config);
  ~LmdbStore() override;
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  Status OpenInProcess() override;
  void CloseInProcess() override;

  Status PutIfAbsent(std::string_view key, std::string_view value,
                     std::chrono::seconds ttl) override;
  Status PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) override;
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

  // Write transactions this process committed, and writes they carried
  // (tests and the benchmark: writes / commits is the batching achieved).
  uint64_t CommittedTransactions() const { return commits_.load(); }
  uint64_t CommittedWrites() const { return writes_.load(); }
  // Writes waiting for a batch, and whether a batch is being committed
  // (tests that line writes up behind a commit).
  size_t QueuedWrites();
  bool Committing();

 private:
  class WriteTxn;
  // One caller's write: applied inside the batch's transaction. Returns OK
  // when it wrote (or had nothing to write), a refusal (kAlreadyExists)
  // when it wrote nothing, kUnavailable when LMDB failed (the transaction is
  // then abandoned and the batch retried without this write).
  using WriteFn = std::function<Status(MDB_txn* txn, uint64_t now)>;
  struct PendingWrite;

  // Queues fn, takes the batch over if no commit is running, and returns
  // fn's outcome once the transaction that carried it is durable.
  Status Write(const WriteFn& fn);
  // Applies and commits one batch; fills every write's status.
  void CommitBatch(const std::vector<PendingWrite*>& batch);

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
  // Commits a batch of `writes` writes, sweeping first whenever the batch
  // crosses a multiple of kSweepEvery writes.
  Status CommitWrite(MDB_txn* txn, uint64_t now, uint64_t writes);

  StoreConfig config_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  pid_t open_pid_ = 0;
  size_t max_key_size_ = 0;
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> commits_{0};
  std::mutex batch_mu_;
  std::condition_variable batch_cv_;
  std::vector<PendingWrite*> queued_;  // guarded by batch_mu_
  bool committing_ = false;            // guarded by batch_mu_
  std::string sweep_next_;  // guarded by the LMDB writer lock
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STORE_LMDB_STORE_H
