// One connection to a Redis server or sentinel: TCP or a unix socket,
// optionally TLS, with hiredis kept for the protocol only (commands encoded
// by redisFormatCommandArgv, replies parsed by its redisReader).
//
// Why our own socket: Debian's hiredis (0.14) has no TLS and no way to put
// another transport under a redisContext; the TLS-capable hiredis (1.x,
// libhiredis-ssl) is not in Debian 12, and no other maintained Redis client
// library for C or C++ is packaged there. OpenSSL we already link. The
// part that is easy to get wrong (RESP parsing) stays hiredis's.
//
// Blocking I/O with SO_RCVTIMEO/SO_SNDTIMEO: every read and write gives up
// after the command timeout; the TCP connect and the TLS handshake after
// the connect timeout. Errors are kUnavailable with a short reason fit for
// "store unavailable: redis <what>: <reason>" (no address, no secret).
#ifndef STEPCA_AUTHORITY_STORE_REDIS_CONNECTION_H
#define STEPCA_AUTHORITY_STORE_REDIS_CONNECTION_H

#include <hiredis/hiredis.h>
#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "authority/status.h"

namespace stepca {

struct RedisReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// A client TLS context: peers must chain to ca_file; with cert_file and
// key_file, a client certificate is offered. TLS 1.2 at least. The error
// names the file that is wrong.
[[nodiscard]] Result<SslCtxPtr> MakeRedisTlsContext(const std::string& ca_file,
                                                    const std::string& cert_file,
                                                    const std::string& key_file);

class RedisConnection {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds timeout{1000};
    SSL_CTX* tls = nullptr;   // null: cleartext
    std::string server_name;  // TLS: the name (or IP) the certificate must have
  };

  // host is an IP literal (v4 or v6); unix_path instead for a unix socket.
  [[nodiscard]] static Result<std::unique_ptr<RedisConnection>> Open(const std::string& host,
                                                                     int port,
                                                                     const Options& o);
  [[nodiscard]] static Result<std::unique_ptr<RedisConnection>> OpenUnix(
      const std::string& unix_path, const Options& o);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Queues one command; nothing is sent until Flush (or Call).
  [[nodiscard]] Status Append(const std::vector<std::string_view>& args);
  // Writes what is queued.
  [[nodiscard]] Status Flush();
  // The next reply (error replies are replies, not errors).
  [[nodiscard]] Result<RedisReplyPtr> Read();
  // Append, Flush, Read.
  [[nodiscard]] Result<RedisReplyPtr> Call(const std::vector<std::string_view>& args);

  // For an idle connection: true when the server closed it or sent bytes
  // nobody asked for (TLS records that carry no data, like session
  // tickets, are consumed and do not count).
  bool Stale();

 private:
  RedisConnection(int fd, const Options& o);
  Status Handshake();
  Status IoFailure(const char* op, int ssl_ret);

  int fd_;
  Options options_;
  SSL* ssl_ = nullptr;
  redisReader* reader_;
  std::string out_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STORE_REDIS_CONNECTION_H
