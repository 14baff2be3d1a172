// The store that every worker and every node shares: used token ids, issued
// certificate records, (later) ACME state and revocations.
//
// Keys are plain strings "<table>/<id>", spelled only by authority/state
// (docs/ARCHITECTURE.md lists them); backends add their own namespace prefix.
// A ttl of zero means "keep forever"; otherwise the entry disappears after
// ttl and reads as absent from then on.
//
// Backend errors (Redis down, timeouts, LMDB full) are kUnavailable with a
// message fit for the log and the client ("store unavailable: ...").
#ifndef STEPCA_AUTHORITY_STORE_STORE_H
#define STEPCA_AUTHORITY_STORE_STORE_H

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "authority/status.h"

namespace stepca {

class Store {
 public:
  virtual ~Store() = default;

  // Per-process set-up after fork (LMDB environment, nothing for Redis,
  // whose connections are made per thread on first use). Called once in
  // each nginx worker; in tests and the CLI, once after construction.
  virtual Status OpenInProcess() = 0;
  // Releases per-process resources (before worker exit).
  virtual void CloseInProcess() = 0;

  // Atomically stores value under key if no live entry exists.
  // kAlreadyExists if one does. The building block of one-time tokens.
  virtual Status PutIfAbsent(std::string_view key, std::string_view value,
                             std::chrono::seconds ttl) = 0;

  // Stores value, replacing any entry.
  virtual Status Put(std::string_view key, std::string_view value,
                     std::chrono::seconds ttl) = 0;

  // nullopt when absent or expired.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;

  // Atomic get-and-delete (ACME nonces): at most one caller sees the value.
  virtual Result<std::optional<std::string>> Take(std::string_view key) = 0;

  // Atomic compare-and-set on the stored bytes: stores desired (with ttl)
  // only if the live entry under key is exactly *expected, or, with expected
  // nullopt, only if there is no live entry (an expired entry counts as
  // absent). A mismatch, including "expected a value but the key is absent",
  // is kAlreadyExists ("another writer got there first"), the same code as
  // PutIfAbsent's refusal; the caller re-reads and decides. The building
  // block of state transitions (ACME authorizations and orders, certificate
  // records going from reserved to completed).
  virtual Status CompareAndSwap(std::string_view key,
                                const std::optional<std::string>& expected,
                                std::string_view desired,
                                std::chrono::seconds ttl) = 0;

  // Removes key; absent is not an error.
  virtual Status Delete(std::string_view key) = 0;

  // A short name for logs and metrics: "lmdb" or "redis".
  virtual std::string Kind() const = 0;
};

struct StoreConfig {
  enum class Kind { kLmdb, kRedis };
  Kind kind = Kind::kLmdb;

  // LMDB
  std::string lmdb_dir;                        // created if missing
  size_t lmdb_map_size = size_t{1} << 30;      // 1 GiB

  // Redis
  std::string redis_host;                      // IP or name (resolved once)
  int redis_port = 6379;
  std::string redis_unix_socket;               // instead of host:port
  int redis_db = 0;
  std::string redis_username;
  std::string redis_password;                  // never logged
  std::chrono::milliseconds redis_connect_timeout{1000};
  std::chrono::milliseconds redis_timeout{1000};
  std::string redis_prefix = "stepca:";
};

// Parses a store URI:
//   lmdb:/var/lib/nginx-stepca            (also lmdb:///abs/dir)
//     ?map_size=1073741824
//   redis://[[user]:password@]host[:port][/db][?timeout=1s&connect_timeout=1s&prefix=x:]
//   unix:///run/redis.sock[?db=0&password=...&timeout=...]   (also redis+unix://)
// Errors name the part that is wrong, without echoing a password.
Result<StoreConfig> ParseStoreUri(std::string_view uri);

// Creates the backend (no I/O yet; call OpenInProcess after fork).
Result<std::unique_ptr<Store>> MakeStore(const StoreConfig& config);

// Master-process preparation: LMDB creates the directory with mode 0700 and
// hands it to uid/gid (-1: unchanged); Redis does nothing.
Status PrepareStore(const StoreConfig& config, long uid, long gid);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STORE_STORE_H
