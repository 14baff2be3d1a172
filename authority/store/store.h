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
#include <vector>

#include "authority/status.h"

namespace stepca {

// One entry of a write that covers several keys.
struct StoreEntry {
  std::string key;
  std::string value;
  std::chrono::seconds ttl{0};
};

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

  // PutIfAbsent of several keys as one atomic write: every entry is stored
  // if none of their keys has a live entry, else nothing is, and the answer
  // is kAlreadyExists with *taken (when given) the index of a key found
  // live. Writes that belong together (a token spent and the record of the
  // certificate it pays for) cost one round trip and one durable commit.
  virtual Status PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) = 0;

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

  // Which data set the store serves now, so that the state layer can see a
  // store that may have lost its last writes (state/store_epoch.h). Redis:
  // "<run id>/<replication id>" of the server this thread talks to
  // (connecting if needed); a restart, a failover or a new empty server
  // changes it. Empty for stores in this process or its files (memory,
  // LMDB), which lose nothing without losing this process too.
  virtual Result<std::string> ServerIdentity() = 0;
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
  // Synchronous replication: after every write, WAIT until this many
  // replicas have it (0: do not wait), at most redis_wait_timeout; fewer
  // is a kUnavailable error (the write is on the master, maybe applied).
  int redis_wait_replicas = 0;
  std::chrono::milliseconds redis_wait_timeout{500};

  // Redis Sentinel: the master named redis_master_name is found through
  // these sentinels (asked in order) on every connect; redis_host and
  // redis_port are then unused. The sentinels' own credentials are apart
  // from the data nodes' (redis_username/redis_password).
  struct Endpoint {
    std::string host;  // IP literal or name
    int port = 26379;
  };
  std::vector<Endpoint> redis_sentinels;
  std::string redis_master_name;
  std::string redis_sentinel_username;
  std::string redis_sentinel_password;  // never logged

  // TLS (rediss://, rediss+sentinel://), for the data nodes and the
  // sentinels alike: the server certificate must chain to redis_tls_ca_file
  // and name redis_tls_server_name (default: the host connected to);
  // optionally a client certificate and key.
  bool redis_tls = false;
  std::string redis_tls_ca_file;
  std::string redis_tls_cert_file;
  std::string redis_tls_key_file;
  std::string redis_tls_server_name;
};

// Parses a store URI:
//   lmdb:/var/lib/nginx-stepca            (also lmdb:///abs/dir)
//     ?map_size=1073741824
//   redis://[[user]:password@]host[:port][/db][?timeout=1s&connect_timeout=1s&prefix=x:
//           &wait=1&wait_timeout=500ms]
//   unix:///run/redis.sock[?db=0&password=...&timeout=...]   (also redis+unix://)
//   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]
//           [?sentinel_password=...&sentinel_username=...&timeout=...&wait=...]
//   rediss://... and rediss+sentinel://...: the same over TLS, with
//           tls_ca_file=/ca.pem (required), tls_cert_file=, tls_key_file=,
//           tls_server_name= (default: the host connected to)
// Errors name the part that is wrong, without echoing a password.
Result<StoreConfig> ParseStoreUri(std::string_view uri);

// Creates the backend (no I/O yet; call OpenInProcess after fork).
Result<std::unique_ptr<Store>> MakeStore(const StoreConfig& config);

// Master-process preparation: LMDB creates the directory with mode 0700 and
// hands it to uid/gid (-1: unchanged); Redis does nothing.
Status PrepareStore(const StoreConfig& config, long uid, long gid);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STORE_STORE_H
