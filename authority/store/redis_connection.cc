#include "authority/store/redis_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stepca {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string Ms(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + "ms"; }

Status SetTimeouts(int fd, std::chrono::milliseconds t) {
  timeval tv = ToTimeval(t);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
    return Unavailable(std::string("cannot set timeout: ") + std::strerror(errno));
  return Status::Ok();
}

// Non-blocking connect bounded by timeout, then back to blocking.
Status ConnectBounded(int fd, const sockaddr* addr, socklen_t len, std::chrono::milliseconds timeout) {
  const int flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return Unavailable(std::string("connect: ") + std::strerror(errno));
  if (connect(fd, addr, len) != 0) {
    if (errno != EINPROGRESS) return Unavailable(std::string("connect: ") + std::strerror(errno));
    pollfd p{fd, POLLOUT, 0};
    int n;
    do {
      n = poll(&p, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    if (n == 0) return Unavailable("connect: timeout after " + Ms(timeout));
    if (n < 0) return Unavailable(std::string("connect: ") + std::strerror(errno));
    int err = 0;
    socklen_t elen = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) err = errno;
    if (err != 0) return Unavailable(std::string("connect: ") + std::strerror(err));
  }
  if (fcntl(fd, F_SETFL, flags) != 0) return Unavailable(std::string("connect: ") + std::strerror(errno));
  return Status::Ok();
}

std::string OpenSslReason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

Result<SslCtxPtr> MakeRedisTlsContext(const std::string& ca_file, const std::string& cert_file,
                                      const std::string& key_file) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Internal("redis tls: cannot make a TLS context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (ca_file.empty()) return InvalidArgument("redis tls: tls_ca_file is required");
  if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    ERR_clear_error();
    return InvalidArgument("redis tls: cannot load the CA file \"" + ca_file + "\"");
  }
  if (cert_file.empty() != key_file.empty())
    return InvalidArgument("redis tls: tls_cert_file and tls_key_file go together");
  if (!cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
      ERR_clear_error();
      return InvalidArgument("redis tls: cannot load the client certificate \"" + cert_file + "\"");
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
      ERR_clear_error();
      return InvalidArgument("redis tls: cannot load the client key \"" + key_file +
                             "\" (or it does not match the certificate)");
    }
  }
  return ctx;
}

RedisConnection::RedisConnection(int fd, const Options& o)
    : fd_(fd), options_(o), reader_(redisReaderCreate()) {}

RedisConnection::~RedisConnection() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // no close_notify: the peer may be gone
  if (fd_ >= 0) close(fd_);
  if (reader_ != nullptr) redisReaderFree(reader_);
}

Result<std::unique_ptr<RedisConnection>> RedisConnection::Open(const std::string& host, int port,
                                                               const Options& o) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *a4;
  } else if (inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *a6;
  } else {
    return Unavailable("connect: not an IP address");
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable(std::string("connect: ") + std::strerror(errno));
  std::unique_ptr<RedisConnection> c(new RedisConnection(fd, o));
  STEPCA_RETURN_IF_ERROR(ConnectBounded(fd, reinterpret_cast<sockaddr*>(&ss), len, o.connect_timeout));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  if (o.tls != nullptr) STEPCA_RETURN_IF_ERROR(c->Handshake());
  STEPCA_RETURN_IF_ERROR(SetTimeouts(fd, o.timeout));
  return c;
}

Result<std::unique_ptr<RedisConnection>> RedisConnection::OpenUnix(const std::string& path,
                                                                   const Options& o) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) return Unavailable("connect: socket path too long");
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable(std::string("connect: ") + std::strerror(errno));
  std::unique_ptr<RedisConnection> c(new RedisConnection(fd, o));
  STEPCA_RETURN_IF_ERROR(ConnectBounded(fd, reinterpret_cast<sockaddr*>(&a), sizeof a, o.connect_timeout));
  if (o.tls != nullptr) STEPCA_RETURN_IF_ERROR(c->Handshake());
  STEPCA_RETURN_IF_ERROR(SetTimeouts(fd, o.timeout));
  return c;
}

Status RedisConnection::Handshake() {
  STEPCA_RETURN_IF_ERROR(SetTimeouts(fd_, options_.connect_timeout));
  ssl_ = SSL_new(options_.tls);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return Unavailable("TLS: " + OpenSslReason());
  const std::string& name = options_.server_name;
  in6_addr ip6;
  in_addr ip4;
  const bool is_ip = inet_pton(AF_INET, name.c_str(), &ip4) == 1 ||
                     inet_pton(AF_INET6, name.c_str(), &ip6) == 1;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (name.empty()) return Unavailable("TLS: no server name to check");
  if (is_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1) return Unavailable("TLS: bad server IP");
  } else {
    if (SSL_set1_host(ssl_, name.c_str()) != 1) return Unavailable("TLS: bad server name");
    SSL_set_tlsext_host_name(ssl_, name.c_str());
  }
  ERR_clear_error();
  const int r = SSL_connect(ssl_);
  if (r != 1) {
    const long v = SSL_get_verify_result(ssl_);
    if (v != X509_V_OK)
      return Unavailable(std::string("TLS: server certificate refused: ") +
                         X509_verify_cert_error_string(v));
    return IoFailure("TLS handshake", r);
  }
  return Status::Ok();
}

Status RedisConnection::IoFailure(const char* op, int ssl_ret) {
  const int saved = errno;
  if (ssl_ != nullptr) {
    const int e = SSL_get_error(ssl_, ssl_ret);
    if (e == SSL_ERROR_ZERO_RETURN) return Unavailable(std::string(op) + ": connection closed by server");
    if (e == SSL_ERROR_SSL) return Unavailable(std::string(op) + ": " + OpenSslReason());
    ERR_clear_error();
    if (e == SSL_ERROR_SYSCALL && saved == 0)
      return Unavailable(std::string(op) + ": connection closed by server");
  }
  if (ssl_ret == 0 && ssl_ == nullptr) return Unavailable(std::string(op) + ": connection closed by server");
  if (saved == EAGAIN || saved == EWOULDBLOCK)
    return Unavailable(std::string(op) + ": timeout after " +
                       Ms(std::string(op) == "TLS handshake" ? options_.connect_timeout : options_.timeout));
  return Unavailable(std::string(op) + ": " + std::strerror(saved));
}

Status RedisConnection::Append(const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> len;
  for (std::string_view a : args) {
    argv.push_back(a.data());
    len.push_back(a.size());
  }
  char* cmd = nullptr;
  int n = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), argv.data(), len.data());
  if (n < 0 || cmd == nullptr) return Internal("redis: cannot format a command");
  out_.append(cmd, static_cast<size_t>(n));
  free(cmd);
  return Status::Ok();
}

Status RedisConnection::Flush() {
  size_t done = 0;
  while (done < out_.size()) {
    errno = 0;
    ssize_t n;
    if (ssl_ != nullptr) {
      n = SSL_write(ssl_, out_.data() + done, static_cast<int>(out_.size() - done));
      if (n <= 0) return IoFailure("write", static_cast<int>(n));
    } else {
      n = send(fd_, out_.data() + done, out_.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return IoFailure("write", -1);
    }
    done += static_cast<size_t>(n);
  }
  out_.clear();
  return Status::Ok();
}

Result<RedisReplyPtr> RedisConnection::Read() {
  char buf[16 * 1024];
  while (true) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader_, &reply) != REDIS_OK)
      return Unavailable(std::string("protocol error: ") + reader_->errstr);
    if (reply != nullptr) return RedisReplyPtr(static_cast<redisReply*>(reply));
    errno = 0;
    ssize_t n;
    if (ssl_ != nullptr) {
      n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) return IoFailure("read", static_cast<int>(n));
    } else {
      n = recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return Unavailable("read: connection closed by server");
      if (n < 0) return IoFailure("read", -1);
    }
    if (redisReaderFeed(reader_, buf, static_cast<size_t>(n)) != REDIS_OK)
      return Unavailable("protocol error");
  }
}

Result<RedisReplyPtr> RedisConnection::Call(const std::vector<std::string_view>& args) {
  STEPCA_RETURN_IF_ERROR(Append(args));
  STEPCA_RETURN_IF_ERROR(Flush());
  return Read();
}

bool RedisConnection::Stale() {
  pollfd p{fd_, POLLIN, 0};
  const int n = poll(&p, 1, 0);
  if (n == 0) return false;
  if (n < 0 || ssl_ == nullptr) return true;
  // TLS: readable may be a session ticket. Look without blocking.
  const int flags = fcntl(fd_, F_GETFL, 0);
  if (flags < 0 || fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0) return true;
  char b;
  ERR_clear_error();
  const int r = SSL_peek(ssl_, &b, 1);
  const int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
  ERR_clear_error();
  fcntl(fd_, F_SETFL, flags);
  return e != SSL_ERROR_WANT_READ;  // data, close or error: not reusable
}

}  // namespace stepca
