// On the clock: C client threads, each with one blocking TLS connection
// (keep-alive mode: opened before the clock starts and reused; new-connection
// mode: a full TCP + TLS handshake inside every request's latency, as the
// step CLI does). Each thread takes the next prepared body, POSTs it to
// /1.0/sign and records the status and the latency.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "bench/bench.h"

namespace stepca {
namespace bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

double ThreadCpuSeconds(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// One client connection. Not thread-safe; one per thread.
class Connection {
 public:
  Connection(SSL_CTX* ctx, const LoadOptions& o) : ctx_(ctx), o_(o) {}
  ~Connection() { Close(); }

  bool open() const { return ssl_ != nullptr; }

  bool Open(std::string* err) {
    Close();
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Fail(err, "socket");
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {30, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(o_.port));
    if (inet_pton(AF_INET, o_.host.c_str(), &sa.sin_addr) != 1) return Fail(err, "bad host");
    if (connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      return Fail(err, std::string("connect: ") + strerror(errno));
    ssl_.reset(SSL_new(ctx_));
    SSL_set_fd(ssl_.get(), fd_);
    SSL_set_tlsext_host_name(ssl_.get(), "localhost");
    if (SSL_connect(ssl_.get()) != 1) {
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
      return Fail(err, std::string("TLS handshake: ") + buf);
    }
    return true;
  }

  void Close() {
    if (ssl_) {
      SSL_shutdown(ssl_.get());  // close_notify, without waiting for the peer's
      ssl_.reset();
    }
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // One POST; returns the HTTP status, or 0 on a transport error.
  int Post(const std::string& request, std::string* err, bool* server_closes) {
    if (!WriteAll(request)) return Fail(err, "write failed"), 0;
    // Headers.
    buf_.clear();
    size_t hdr_end;
    while ((hdr_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore()) return Fail(err, "connection closed before the response"), 0;
      if (buf_.size() > 65536) return Fail(err, "response headers too long"), 0;
    }
    int status = 0;
    if (buf_.compare(0, 5, "HTTP/") != 0 || buf_.size() < 12) return Fail(err, "not HTTP"), 0;
    status = atoi(buf_.c_str() + 9);
    std::string headers = buf_.substr(0, hdr_end);
    for (auto& ch : headers) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    *server_closes = headers.find("\r\nconnection: close") != std::string::npos;
    size_t cl_pos = headers.find("\r\ncontent-length:");
    if (cl_pos == std::string::npos) {
      // No length: the body ends with the connection.
      while (ReadMore()) {
      }
      *server_closes = true;
    } else {
      size_t len = strtoul(headers.c_str() + cl_pos + 17, nullptr, 10);
      while (buf_.size() < hdr_end + 4 + len) {
        if (!ReadMore()) return Fail(err, "short body"), 0;
      }
    }
    body_start_ = hdr_end + 4;
    return status;
  }

  bool BodyContains(const char* s) const {
    return buf_.find(s, body_start_) != std::string::npos;
  }
  std::string Body() const { return buf_.substr(body_start_); }

 private:
  bool Fail(std::string* err, const std::string& what) {
    if (err != nullptr && err->empty()) *err = what;
    return false;
  }

  bool WriteAll(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      int n = SSL_write(ssl_.get(), data.data() + off, static_cast<int>(data.size() - off));
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  bool ReadMore() {
    char tmp[16384];
    int n = SSL_read(ssl_.get(), tmp, sizeof tmp);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  SSL_CTX* ctx_;
  const LoadOptions& o_;
  int fd_ = -1;
  SslPtr ssl_;
  std::string buf_;
  size_t body_start_ = 0;
};

std::string RequestFor(const LoadOptions& o, const std::string& body) {
  std::string r = "POST /1.0/sign HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(o.port) +
                  "\r\nUser-Agent: stepca_bench\r\nContent-Type: application/json\r\n"
                  "Accept: application/json\r\n";
  if (o.mode == ConnMode::kNewConnection) r += "Connection: close\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return r;
}

}  // namespace

LoadResult RunLoad(const LoadOptions& o, const std::vector<std::string>& bodies,
                   const std::function<void()>& begin_window,
                   const std::function<void()>& end_window) {
  LoadResult res;
  res.requests = bodies.size();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx.get(), o.root_file.c_str(), nullptr) != 1) {
    res.first_error = "cannot load " + o.root_file;
    res.failures[0] = bodies.size();
    return res;
  }
  // New-connection mode: a full handshake each time, no session resumption
  // (the step CLI runs once per certificate).
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);

  const int c = std::max(1, o.concurrency);
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < c; ++i) conns.emplace_back(new Connection(ctx.get(), o));

  // Keep-alive: every connection is up before the clock starts.
  if (o.mode == ConnMode::kKeepAlive) {
    for (auto& conn : conns) {
      std::string err;
      if (!conn->Open(&err) && res.first_error.empty()) res.first_error = err;
    }
  }

  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  struct PerThread {
    std::vector<double> lat;
    std::map<int, size_t> failures;
    size_t ok = 0;
    std::string err;
  };
  std::vector<PerThread> per(static_cast<size_t>(c));
  std::atomic<double> client_cpu{0};

  auto worker = [&](int t) {
    Connection& conn = *conns[static_cast<size_t>(t)];
    PerThread& me = per[static_cast<size_t>(t)];
    me.lat.reserve(bodies.size() / static_cast<size_t>(c) + 16);
    {
      std::unique_lock<std::mutex> l(mu);
      ++ready;
      cv.notify_all();
      cv.wait(l, [&] { return go; });
    }
    const double cpu0 = ThreadCpuSeconds(RUSAGE_THREAD);
    for (size_t i; (i = next.fetch_add(1)) < bodies.size();) {
      const std::string req = RequestFor(o, bodies[i]);
      const auto t0 = SteadyClock::now();
      int status = 0;
      bool closes = false;
      if (conn.open() || conn.Open(&me.err)) status = conn.Post(req, &me.err, &closes);
      const auto t1 = SteadyClock::now();
      me.lat.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      if (status == 201 && conn.BodyContains("\"crt\"")) {
        ++me.ok;
      } else {
        ++me.failures[status];
        if (me.err.empty()) me.err = "HTTP " + std::to_string(status) + ": " + conn.Body().substr(0, 300);
      }
      if (status == 0 || closes || o.mode == ConnMode::kNewConnection) conn.Close();
    }
    double add = ThreadCpuSeconds(RUSAGE_THREAD) - cpu0;
    for (double cur = client_cpu.load(); !client_cpu.compare_exchange_weak(cur, cur + add);) {
    }
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < c; ++t) threads.emplace_back(worker, t);
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return ready == c; });
  }
  begin_window();
  const auto start = SteadyClock::now();
  {
    std::lock_guard<std::mutex> l(mu);
    go = true;
  }
  cv.notify_all();
  for (auto& th : threads) th.join();
  const auto stop = SteadyClock::now();
  end_window();
  for (auto& conn : conns) conn->Close();

  res.wall_seconds = std::chrono::duration<double>(stop - start).count();
  res.client_cpu_seconds = client_cpu.load();
  for (auto& p : per) {
    res.ok += p.ok;
    for (auto& kv : p.failures) res.failures[kv.first] += kv.second;
    res.latencies_ms.insert(res.latencies_ms.end(), p.lat.begin(), p.lat.end());
    if (res.first_error.empty() && !p.err.empty()) res.first_error = p.err;
  }
  std::sort(res.latencies_ms.begin(), res.latencies_ms.end());
  return res;
}

}  // namespace bench
}  // namespace stepca
