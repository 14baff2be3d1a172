// The fleet store: one Redis shared by every node.
//
// Connections are per thread (thread_local, keyed by the store instance), so
// the hot path takes no lock. A connection is made lazily on first use with
// a connect timeout, then every command runs with a read/write timeout;
// AUTH and SELECT are sent on connect. Any I/O error or timeout drops the
// connection and returns kUnavailable; the next call reconnects. Before a
// command is sent on an idle connection, a zero-timeout poll() detects a
// connection the server has closed (restart, idle timeout), so the first
// request after a Redis restart does not fail needlessly. Commands are never
// retried after they may have reached the server: SET NX, GETDEL and the
// compare-and-set script are not idempotent.
//
// The password is kept only in config_ and the wire; it is never in a
// message. The endpoint (host:port, socket path) is only in the log detail
// of an error (Status::WithDetail), never in the client-visible message.
//
// With sentinels (redis+sentinel://) every connect first asks them for the
// master (redis_sentinel.h); a master demoted by a failover answers writes
// with -READONLY, which drops the connection, so the next request goes to
// the new master. Every connect also reads the server's run id and
// replication id (ServerIdentity), which state/store_epoch.h watches. With
// rediss:// (and rediss+sentinel://) every connection, to a sentinel or a
// data node, is TLS (redis_connection.h says why the socket is ours).
#ifndef STEPCA_AUTHORITY_STORE_REDIS_STORE_H
#define STEPCA_AUTHORITY_STORE_REDIS_STORE_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "authority/store/redis_connection.h"
#include "authority/store/store.h"

namespace stepca {

class RedisStore final : public Store {
 public:
  // Resolves a host name once (getaddrinfo) unless it is an IP literal or a
  // unix socket is configured. kUnavailable if the name does not resolve.
  static Result<std::unique_ptr<RedisStore>> Create(StoreConfig config);
  ~RedisStore() override;
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  Status OpenInProcess() override;
  // Closes the calling thread's connection; the others are closed when
  // their threads exit.
  void CloseInProcess() override;

  Status PutIfAbsent(std::string_view key, std::string_view value,
                     std::chrono::seconds ttl) override;
  Status PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) override;
  Status Put(std::string_view key, std::string_view value,
             std::chrono::seconds ttl) override;
  // One EVAL of a small Lua script (GET, compare, SET [EX]): Redis runs a
  // script atomically, so no other command interleaves.
  Status CompareAndSwap(std::string_view key,
                        const std::optional<std::string>& expected,
                        std::string_view desired,
                        std::chrono::seconds ttl) override;
  Result<std::optional<std::string>> Get(std::string_view key) override;
  Result<std::optional<std::string>> Take(std::string_view key) override;
  Status Delete(std::string_view key) override;
  std::string Kind() const override { return "redis"; }
  // "<run id>/<replication id>" of this thread's server, read on connect.
  Result<std::string> ServerIdentity() override;

  // "127.0.0.1:6379" or "unix:/run/redis.sock": for the log.
  const std::string& endpoint() const { return endpoint_; }

 private:
  using ReplyPtr = RedisReplyPtr;

  RedisStore(StoreConfig config, std::string address);

  // This thread's live connection, connecting if needed.
  Result<RedisConnection*> Connection();
  Result<RedisConnection*> Connect();
  void DropConnection();
  // Runs one command (with WAIT after a write when configured); nullptr
  // never returned on success. Error replies are kUnavailable too (with the
  // server's text, which never holds our arguments).
  Result<ReplyPtr> Command(const std::vector<std::string_view>& args);
  // An I/O failure on this thread's connection: drops it.
  Status IoError(const Status& st, const std::string& what);
  // An error reply: kUnavailable with the server's text. The protocol is
  // still in step, so the connection stays, unless the server is no longer
  // a writable master (READONLY, LOADING, MASTERDOWN): then it is dropped.
  Status ErrorReply(const std::string& command, const redisReply* r);
  // kUnavailable "store unavailable: redis <what>", the endpoint in the
  // detail (the log), never in the message (the client).
  Status Down(const std::string& what) const;

  StoreConfig config_;
  std::string address_;   // resolved IP (TCP) or socket path; empty: sentinel
  std::string endpoint_;  // for the log
  SslCtxPtr tls_;         // rediss: shared by every thread's connection
  uint64_t id_;           // unique per instance, keys the thread's connection
  std::shared_ptr<char> alive_;  // lets threads drop connections of dead stores
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STORE_REDIS_STORE_H
