#include "authority/store/lmdb_store.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

namespace stepca {
namespace {

constexpr size_t kHeader = 8;  // expiry, little-endian unix seconds

// Reader slots: every worker process may have one read transaction per
// thread-pool thread at a time. LMDB's default (126) is small for
// workers x threads; slots cost 64 bytes each in lock.mdb.
constexpr unsigned kMaxReaders = 1024;

uint64_t NowSeconds() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// The rounding up of "now" is the +1: an entry lives at least ttl seconds.
uint64_t ExpiryFor(std::chrono::seconds ttl, uint64_t now) {
  if (ttl.count() <= 0) return 0;
  return now + 1 + static_cast<uint64_t>(ttl.count());
}

void EncodeExpiry(uint64_t e, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((e >> (8 * i)) & 0xff);
}

uint64_t DecodeExpiry(const MDB_val& v) {
  const auto* p = static_cast<const unsigned char*>(v.mv_data);
  uint64_t e = 0;
  for (int i = 0; i < 8; ++i) e |= static_cast<uint64_t>(p[i]) << (8 * i);
  return e;
}

// A record shorter than the header is corrupt; treat it as expired so the
// sweep and overwrites clear it rather than failing forever.
bool Live(const MDB_val& v, uint64_t now) {
  if (v.mv_size < kHeader) return false;
  uint64_t e = DecodeExpiry(v);
  return e == 0 || now < e;
}

std::string Payload(const MDB_val& v) {
  return std::string(static_cast<const char*>(v.mv_data) + kHeader,
                     v.mv_size - kHeader);
}

MDB_val Val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

Status MdbError(const char* op, int rc) {
  if (rc == MDB_MAP_FULL) {
    return Unavailable(
        "store unavailable: lmdb database is full (raise map_size)");
  }
  if (rc == MDB_MAP_RESIZED) {
    return Unavailable(
        "store unavailable: lmdb map was grown by another process "
        "(restart the workers)");
  }
  return Unavailable(std::string("store unavailable: lmdb ") + op + ": " +
                     mdb_strerror(rc));
}

}  // namespace

// Aborts unless committed: a transaction never outlives its scope.
class LmdbStore::WriteTxn {
 public:
  WriteTxn() = default;
  ~WriteTxn() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;
  MDB_txn** out() { return &txn_; }
  MDB_txn* get() const { return txn_; }
  MDB_txn* release() { return std::exchange(txn_, nullptr); }

 private:
  MDB_txn* txn_ = nullptr;
};

LmdbStore::LmdbStore(StoreConfig config) : config_(std::move(config)) {}

LmdbStore::~LmdbStore() { CloseInProcess(); }

Status LmdbStore::OpenInProcess() {
  if (env_ != nullptr) {
    if (open_pid_ == getpid()) return Status::Ok();
    // Inherited across fork: LMDB forbids any use of it in the child, even
    // mdb_env_close (it would release the parent's reader slots). Abandon
    // the handle; its memory is the price of the caller's mistake.
    env_ = nullptr;
  }
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != 0) return MdbError("env_create", rc);
  auto fail = [&](const char* op, int code) {
    mdb_env_close(env);
    return Unavailable(std::string("store unavailable: lmdb ") + op + " " +
                       config_.lmdb_dir + ": " + mdb_strerror(code));
  };
  if ((rc = mdb_env_set_mapsize(env, config_.lmdb_map_size)) != 0) {
    return fail("set_mapsize", rc);
  }
  if ((rc = mdb_env_set_maxreaders(env, kMaxReaders)) != 0) {
    return fail("set_maxreaders", rc);
  }
  // MDB_NOTLS: read transactions belong to the transaction object, not the
  // thread, which is what thread-pool threads need. Default durability:
  // every commit is fsynced, a spent token is never forgotten.
  if ((rc = mdb_env_open(env, config_.lmdb_dir.c_str(), MDB_NOTLS, 0600)) != 0) {
    return fail("open", rc);
  }
  int dead = 0;
  if ((rc = mdb_reader_check(env, &dead)) != 0) return fail("reader_check", rc);

  MDB_txn* txn = nullptr;
  if ((rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn)) != 0) {
    return fail("txn_begin", rc);
  }
  MDB_dbi dbi;
  if ((rc = mdb_dbi_open(txn, nullptr, 0, &dbi)) != 0) {
    mdb_txn_abort(txn);
    return fail("dbi_open", rc);
  }
  if ((rc = mdb_txn_commit(txn)) != 0) return fail("txn_commit", rc);

  env_ = env;
  dbi_ = dbi;
  open_pid_ = getpid();
  max_key_size_ = static_cast<size_t>(mdb_env_get_maxkeysize(env));
  return Status::Ok();
}

void LmdbStore::CloseInProcess() {
  if (env_ == nullptr) return;
  if (open_pid_ == getpid()) mdb_env_close(env_);
  env_ = nullptr;
}

Status LmdbStore::CheckOpen() const {
  if (env_ == nullptr || open_pid_ != getpid()) {
    return Unavailable("store unavailable: lmdb not opened in this process");
  }
  return Status::Ok();
}

Status LmdbStore::CheckKey(std::string_view key) const {
  STEPCA_RETURN_IF_ERROR(CheckOpen());  // max_key_size_ is known once open
  if (key.empty()) return InvalidArgument("store key is empty");
  if (key.size() > max_key_size_) {
    return InvalidArgument("store key is longer than " +
                           std::to_string(max_key_size_) + " bytes");
  }
  return Status::Ok();
}

Status LmdbStore::Begin(unsigned flags, MDB_txn** txn) {
  STEPCA_RETURN_IF_ERROR(CheckOpen());
  int rc = mdb_txn_begin(env_, nullptr, flags, txn);
  if (rc == MDB_READERS_FULL) {
    // Slots of crashed workers are reclaimed here.
    int dead = 0;
    mdb_reader_check(env_, &dead);
    rc = mdb_txn_begin(env_, nullptr, flags, txn);
  }
  if (rc != 0) {
    *txn = nullptr;
    return MdbError("txn_begin", rc);
  }
  return Status::Ok();
}

Status LmdbStore::SweepInTxn(MDB_txn* txn, size_t max, uint64_t now) {
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn, dbi_, &cur);
  if (rc != 0) return MdbError("cursor_open", rc);
  MDB_val k, v;
  if (sweep_next_.empty()) {
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
  } else {
    k = Val(sweep_next_);
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  }
  bool wrapped = false;
  for (size_t seen = 0; seen < max; ++seen) {
    if (rc == MDB_NOTFOUND) {
      if (wrapped || sweep_next_.empty()) break;  // whole db seen
      wrapped = true;
      rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
      if (rc == MDB_NOTFOUND) break;
    }
    if (rc != 0) {
      mdb_cursor_close(cur);
      return MdbError("sweep", rc);
    }
    if (!Live(v, now)) {
      rc = mdb_cursor_del(cur, 0);
      if (rc != 0) {
        mdb_cursor_close(cur);
        return MdbError("sweep del", rc);
      }
    }
    // After a delete LMDB's cursor already points at the following entry,
    // and MDB_NEXT returns that one rather than skipping it.
    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  if (rc == 0) {
    sweep_next_.assign(static_cast<const char*>(k.mv_data), k.mv_size);
  } else {
    sweep_next_.clear();
  }
  mdb_cursor_close(cur);
  return Status::Ok();
}

Status LmdbStore::CommitWrite(MDB_txn* txn, uint64_t now, uint64_t writes) {
  const uint64_t before = writes_.fetch_add(writes, std::memory_order_relaxed);
  if (writes > 0 && before / kSweepEvery != (before + writes) / kSweepEvery) {
    // In a nested transaction: an error there (even MAP_FULL from a page
    // copy) aborts only the sweep, never the callers' writes, and costs no
    // extra fsync. The next sweep retries.
    MDB_txn* child = nullptr;
    if (mdb_txn_begin(env_, txn, 0, &child) == 0) {
      if (SweepInTxn(child, kSweepBatch, now).ok()) {
        if (mdb_txn_commit(child) != 0) sweep_next_.clear();
      } else {
        mdb_txn_abort(child);
      }
    }
  }
  int rc = mdb_txn_commit(txn);
  if (rc != 0) return MdbError("commit", rc);
  commits_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

struct LmdbStore::PendingWrite {
  const WriteFn* fn;
  Status status;
  bool done = false;      // guarded by batch_mu_
  bool decided = false;   // the leader's: status is final (LMDB failed it)
};

Status LmdbStore::Write(const WriteFn& fn) {
  STEPCA_RETURN_IF_ERROR(CheckOpen());
  PendingWrite mine{&fn, Status::Ok()};
  std::unique_lock<std::mutex> lock(batch_mu_);
  queued_.push_back(&mine);
  while (!mine.done) {
    if (committing_) {
      batch_cv_.wait(lock);
      continue;
    }
    // Lead: everything queued so far (mine included, unless an earlier
    // leader already took it) goes into one transaction.
    committing_ = true;
    const size_t n = std::min(queued_.size(), kMaxBatch);
    std::vector<PendingWrite*> batch(queued_.begin(), queued_.begin() + n);
    queued_.erase(queued_.begin(), queued_.begin() + n);
    lock.unlock();
    CommitBatch(batch);
    lock.lock();
    for (PendingWrite* w : batch) w->done = true;
    committing_ = false;
    batch_cv_.notify_all();
  }
  return mine.status;
}

size_t LmdbStore::QueuedWrites() {
  std::lock_guard<std::mutex> lock(batch_mu_);
  return queued_.size();
}

bool LmdbStore::Committing() {
  std::lock_guard<std::mutex> lock(batch_mu_);
  return committing_;
}

void LmdbStore::CommitBatch(const std::vector<PendingWrite*>& batch) {
  // Each pass either commits or finds one more write that LMDB itself
  // failed, which is then left out, so this ends within batch.size() + 1
  // passes.
  for (;;) {
    WriteTxn txn;
    Status begun = Begin(0, txn.out());
    if (!begun.ok()) {
      for (PendingWrite* w : batch) {
        if (!w->decided) w->status = begun;
      }
      return;
    }
    const uint64_t now = NowSeconds();
    bool failed = false;
    uint64_t applied = 0;
    for (PendingWrite* w : batch) {
      if (w->decided) continue;
      w->status = (*w->fn)(txn.get(), now);
      if (w->status.code() == Code::kUnavailable) {
        w->decided = true;
        failed = true;
        break;
      }
      if (w->status.ok()) ++applied;
    }
    if (failed) continue;  // txn aborts here; retry the others
    Status committed = applied == 0 ? Status::Ok()
                                    : CommitWrite(txn.release(), now, applied);
    for (PendingWrite* w : batch) {
      // A refusal stays a refusal: it was read in a state that was current
      // for its place in the batch. Writes that took effect fail together.
      if (!w->decided && w->status.ok()) w->status = committed;
    }
    return;
  }
}

Status LmdbStore::PutInTxn(MDB_txn* txn, std::string_view key,
                           std::string_view value, std::chrono::seconds ttl,
                           uint64_t now) {
  MDB_val k = Val(key);
  MDB_val v{kHeader + value.size(), nullptr};
  int rc = mdb_put(txn, dbi_, &k, &v, MDB_RESERVE);
  if (rc != 0) return MdbError("put", rc);
  EncodeExpiry(ExpiryFor(ttl, now), static_cast<char*>(v.mv_data));
  if (!value.empty()) {
    std::memcpy(static_cast<char*>(v.mv_data) + kHeader, value.data(),
                value.size());
  }
  return Status::Ok();
}

Status LmdbStore::PutIfAbsent(std::string_view key, std::string_view value,
                              std::chrono::seconds ttl) {
  return CompareAndSwap(key, std::nullopt, value, ttl);
}

// All the checks before any put: a refusal leaves nothing of this write in
// the batch's transaction.
Status LmdbStore::PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) {
  for (const auto& e : entries) {
    if (e.ttl.count() < 0) return InvalidArgument("store ttl is negative");
    STEPCA_RETURN_IF_ERROR(CheckKey(e.key));
  }
  return Write([&](MDB_txn* txn, uint64_t now) -> Status {
    for (size_t i = 0; i < entries.size(); ++i) {
      MDB_val k = Val(entries[i].key), old;
      int rc = mdb_get(txn, dbi_, &k, &old);
      if (rc != 0 && rc != MDB_NOTFOUND) return MdbError("get", rc);
      if (rc == 0 && Live(old, now)) {
        if (taken != nullptr) *taken = i;
        return AlreadyExists("store key exists");
      }
    }
    for (const auto& e : entries) STEPCA_RETURN_IF_ERROR(PutInTxn(txn, e.key, e.value, e.ttl, now));
    return Status::Ok();
  });
}

Status LmdbStore::CompareAndSwap(std::string_view key,
                                 const std::optional<std::string>& expected,
                                 std::string_view desired,
                                 std::chrono::seconds ttl) {
  if (ttl.count() < 0) return InvalidArgument("store ttl is negative");
  STEPCA_RETURN_IF_ERROR(CheckKey(key));
  return Write([&](MDB_txn* txn, uint64_t now) -> Status {
    MDB_val k = Val(key), old;
    int rc = mdb_get(txn, dbi_, &k, &old);
    if (rc != 0 && rc != MDB_NOTFOUND) return MdbError("get", rc);
    const bool live = rc == 0 && Live(old, now);
    if (!expected) {
      if (live) return AlreadyExists("store key exists");
    } else {
      if (!live || old.mv_size - kHeader != expected->size() ||
          std::memcmp(static_cast<const char*>(old.mv_data) + kHeader,
                      expected->data(), expected->size()) != 0) {
        return AlreadyExists("store value changed");
      }
    }
    return PutInTxn(txn, key, desired, ttl, now);
  });
}

Status LmdbStore::Put(std::string_view key, std::string_view value,
                      std::chrono::seconds ttl) {
  if (ttl.count() < 0) return InvalidArgument("store ttl is negative");
  STEPCA_RETURN_IF_ERROR(CheckKey(key));
  return Write([&](MDB_txn* txn, uint64_t now) {
    return PutInTxn(txn, key, value, ttl, now);
  });
}

Result<std::optional<std::string>> LmdbStore::Get(std::string_view key) {
  STEPCA_RETURN_IF_ERROR(CheckKey(key));
  WriteTxn txn;  // a read-only one here; same abort-on-scope-exit
  STEPCA_RETURN_IF_ERROR(Begin(MDB_RDONLY, txn.out()));
  MDB_val k = Val(key), v;
  int rc = mdb_get(txn.get(), dbi_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>();
  if (rc != 0) return MdbError("get", rc);
  if (!Live(v, NowSeconds())) return std::optional<std::string>();
  return std::optional<std::string>(Payload(v));
}

Result<std::optional<std::string>> LmdbStore::Take(std::string_view key) {
  STEPCA_RETURN_IF_ERROR(CheckKey(key));
  std::optional<std::string> out;
  Status st = Write([&](MDB_txn* txn, uint64_t now) -> Status {
    out.reset();  // a retried batch applies this again
    MDB_val k = Val(key), v;
    int rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    if (rc != 0) return MdbError("get", rc);
    if (Live(v, now)) out = Payload(v);  // copy before the page is freed
    rc = mdb_del(txn, dbi_, &k, nullptr);
    if (rc != 0) return MdbError("del", rc);
    return Status::Ok();
  });
  STEPCA_RETURN_IF_ERROR(st);
  return out;
}

Status LmdbStore::Delete(std::string_view key) {
  STEPCA_RETURN_IF_ERROR(CheckKey(key));
  return Write([&](MDB_txn* txn, uint64_t) -> Status {
    MDB_val k = Val(key);
    int rc = mdb_del(txn, dbi_, &k, nullptr);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    if (rc != 0) return MdbError("del", rc);
    return Status::Ok();
  });
}

Status LmdbStore::SweepExpired(size_t max) {
  WriteTxn txn;
  STEPCA_RETURN_IF_ERROR(Begin(0, txn.out()));
  STEPCA_RETURN_IF_ERROR(SweepInTxn(txn.get(), max, NowSeconds()));
  int rc = mdb_txn_commit(txn.release());
  if (rc != 0) return MdbError("commit", rc);
  return Status::Ok();
}

Result<size_t> LmdbStore::CountEntries() {
  WriteTxn txn;
  STEPCA_RETURN_IF_ERROR(Begin(MDB_RDONLY, txn.out()));
  MDB_stat st;
  int rc = mdb_stat(txn.get(), dbi_, &st);
  if (rc != 0) return MdbError("stat", rc);
  return static_cast<size_t>(st.ms_entries);
}

Result<std::string> LmdbStore::ServerIdentity() { return std::string(); }

}  // namespace stepca
