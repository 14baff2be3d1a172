#include "authority/store/redis_store.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

namespace stepca {
namespace {

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

// One thread's connection to one store instance.
struct ThreadConnection {
  uint64_t store_id;
  std::weak_ptr<char> store_alive;
  pid_t pid;  // a connection never crosses fork
  ContextPtr ctx;
};

// Usually one entry (one store per process); a vector beats a map here.
thread_local std::vector<ThreadConnection> tls_connections;

std::atomic<uint64_t> next_store_id{1};

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

bool IsIpLiteral(const std::string& host) {
  in_addr a4;
  in6_addr a6;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// Server error text, bounded. Redis error replies echo command names, never
// the AUTH arguments.
std::string ServerError(const redisReply* r) {
  std::string s(r->str != nullptr ? r->str : "", r->str != nullptr ? r->len : 0);
  if (s.size() > 200) s.resize(200);
  return s;
}

}  // namespace

Result<std::unique_ptr<RedisStore>> RedisStore::Create(StoreConfig config) {
  if (!config.redis_unix_socket.empty()) {
    std::string path = config.redis_unix_socket;
    return std::unique_ptr<RedisStore>(
        new RedisStore(std::move(config), std::move(path)));
  }
  if (config.redis_host.empty()) {
    return InvalidArgument("redis store: no host or unix socket configured");
  }
  if (config.redis_port <= 0 || config.redis_port > 65535) {
    return InvalidArgument("redis store: port out of range");
  }
  if (IsIpLiteral(config.redis_host)) {
    std::string ip = config.redis_host;
    return std::unique_ptr<RedisStore>(
        new RedisStore(std::move(config), std::move(ip)));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(config.redis_host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Unavailable("store unavailable: cannot resolve redis host \"" +
                       config.redis_host + "\": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owned(res, freeaddrinfo);
  // Prefer IPv4 when both exist: Redis binds 127.0.0.1 by default.
  const addrinfo* pick = res;
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      pick = ai;
      break;
    }
  }
  char buf[INET6_ADDRSTRLEN] = {0};
  const void* addr =
      pick->ai_family == AF_INET
          ? static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in*>(pick->ai_addr)->sin_addr)
          : static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in6*>(pick->ai_addr)->sin6_addr);
  if (inet_ntop(pick->ai_family, addr, buf, sizeof buf) == nullptr) {
    return Unavailable("store unavailable: cannot resolve redis host \"" +
                       config.redis_host + "\"");
  }
  return std::unique_ptr<RedisStore>(new RedisStore(std::move(config), buf));
}

RedisStore::RedisStore(StoreConfig config, std::string address)
    : config_(std::move(config)),
      address_(std::move(address)),
      id_(next_store_id.fetch_add(1)),
      alive_(std::make_shared<char>(0)) {
  if (!config_.redis_unix_socket.empty()) {
    endpoint_ = "unix:" + address_;
  } else if (address_.find(':') != std::string::npos) {
    endpoint_ = "[" + address_ + "]:" + std::to_string(config_.redis_port);
  } else {
    endpoint_ = address_ + ":" + std::to_string(config_.redis_port);
  }
}

RedisStore::~RedisStore() {
  // This thread's connection now; other threads drop theirs on their next
  // miss (alive_ expires here) or at thread exit.
  DropConnection();
}

Status RedisStore::OpenInProcess() { return Status::Ok(); }

void RedisStore::CloseInProcess() { DropConnection(); }

void RedisStore::DropConnection() {
  for (auto it = tls_connections.begin(); it != tls_connections.end(); ++it) {
    if (it->store_id == id_) {
      tls_connections.erase(it);
      return;
    }
  }
}

Status RedisStore::Down(const std::string& what) const {
  // The endpoint is for the operator's log only: a client sees that the
  // store is down, never where it lives.
  return Unavailable("store unavailable: redis " + what).WithDetail("redis at " + endpoint_);
}

Status RedisStore::IoError(redisContext* c, const char* what) {
  std::string reason = c->errstr[0] != '\0' ? c->errstr : "connection error";
  if (c->err == REDIS_ERR_IO &&
      (reason == std::strerror(EAGAIN) || reason == std::strerror(EWOULDBLOCK))) {
    reason = "timeout after " + std::to_string(config_.redis_timeout.count()) + "ms";
  } else if (c->err == REDIS_ERR_EOF) {
    reason = "connection closed by server";
  }
  DropConnection();  // frees c
  return Down(std::string(what) +
                     ": " + reason);
}

Result<redisContext*> RedisStore::Connect() {
  timeval connect_tv = ToTimeval(config_.redis_connect_timeout);
  ContextPtr ctx(config_.redis_unix_socket.empty()
                     ? redisConnectWithTimeout(address_.c_str(),
                                               config_.redis_port, connect_tv)
                     : redisConnectUnixWithTimeout(address_.c_str(), connect_tv));
  if (ctx == nullptr) {
    return Down("connect: out of memory");
  }
  if (ctx->err != 0) {
    std::string reason = ctx->errstr;
    if (reason == std::strerror(EINPROGRESS) || reason == std::strerror(ETIMEDOUT)) {
      reason = "timeout after " +
               std::to_string(config_.redis_connect_timeout.count()) + "ms";
    }
    return Down("connect: " + reason);
  }
  if (redisSetTimeout(ctx.get(), ToTimeval(config_.redis_timeout)) != REDIS_OK) {
    return Down("connect: cannot set timeout");
  }
  if (config_.redis_unix_socket.empty()) redisEnableKeepAlive(ctx.get());

  auto handshake = [&](std::vector<std::string_view> args,
                       const char* what) -> Status {
    std::vector<const char*> argv;
    std::vector<size_t> argvlen;
    for (std::string_view a : args) {
      argv.push_back(a.data());
      argvlen.push_back(a.size());
    }
    ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(
        ctx.get(), static_cast<int>(argv.size()), argv.data(), argvlen.data())));
    if (r == nullptr) {
      std::string reason = ctx->errstr[0] != '\0' ? ctx->errstr : "I/O error";
      return Down(std::string(what) +
                         ": " + reason);
    }
    if (r->type == REDIS_REPLY_ERROR) {
      return Down(std::string(what) +
                         " failed: " + ServerError(r.get()));
    }
    return Status::Ok();
  };
  if (!config_.redis_password.empty()) {
    if (config_.redis_username.empty()) {
      STEPCA_RETURN_IF_ERROR(handshake({"AUTH", config_.redis_password}, "AUTH"));
    } else {
      STEPCA_RETURN_IF_ERROR(handshake(
          {"AUTH", config_.redis_username, config_.redis_password}, "AUTH"));
    }
  }
  if (config_.redis_db != 0) {
    std::string db = std::to_string(config_.redis_db);
    STEPCA_RETURN_IF_ERROR(handshake({"SELECT", db}, "SELECT"));
  }

  redisContext* raw = ctx.get();
  tls_connections.push_back(
      ThreadConnection{id_, alive_, getpid(), std::move(ctx)});
  return raw;
}

Result<redisContext*> RedisStore::Connection() {
  pid_t pid = getpid();
  for (auto it = tls_connections.begin(); it != tls_connections.end(); ++it) {
    if (it->store_id != id_) continue;
    if (it->pid != pid) {
      // Inherited across fork (only the forking thread's survive): the
      // socket is the parent's. Close our copy of the fd, reconnect.
      tls_connections.erase(it);
      break;
    }
    // An idle connection has nothing to read. If poll says otherwise the
    // server closed it (or sent garbage): reconnect before sending.
    pollfd p{it->ctx->fd, POLLIN, 0};
    int n = poll(&p, 1, 0);
    if (n == 0) return it->ctx.get();
    tls_connections.erase(it);
    break;
  }
  // A miss: forget connections of stores that no longer exist.
  for (auto it = tls_connections.begin(); it != tls_connections.end();) {
    if (it->store_alive.expired() || it->pid != pid) {
      it = tls_connections.erase(it);
    } else {
      ++it;
    }
  }
  return Connect();
}

Result<RedisStore::ReplyPtr> RedisStore::Command(
    const std::vector<std::string_view>& args) {
  STEPCA_ASSIGN_OR_RETURN(redisContext * c, Connection());
  constexpr size_t kMaxArgs = 8;
  if (args.empty() || args.size() > kMaxArgs) return Internal("redis store: bad command arity");
  const char* argv[kMaxArgs];
  size_t argvlen[kMaxArgs];
  int argc = 0;
  for (std::string_view a : args) {
    argv[argc] = a.data();
    argvlen[argc] = a.size();
    ++argc;
  }
  ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(c, argc, argv, argvlen)));
  if (r == nullptr) return IoError(c, std::string(args[0]).c_str());
  if (r->type == REDIS_REPLY_ERROR) {
    // The protocol is still in step; keep the connection.
    return Down(std::string(args[0]) + " failed: " + ServerError(r.get()));
  }
  return r;
}

namespace {

Status CheckArgs(std::string_view key, std::chrono::seconds ttl) {
  if (key.empty()) return InvalidArgument("store key is empty");
  if (ttl.count() < 0) return InvalidArgument("store ttl is negative");
  return Status::Ok();
}


}  // namespace

Status RedisStore::PutIfAbsent(std::string_view key, std::string_view value,
                               std::chrono::seconds ttl) {
  STEPCA_RETURN_IF_ERROR(CheckArgs(key, ttl));
  std::string k = config_.redis_prefix + std::string(key);
  std::string secs = std::to_string(ttl.count());
  std::vector<std::string_view> args = {"SET", k, value, "NX"};
  if (ttl.count() > 0) {
    args.push_back("EX");
    args.push_back(secs);
  }
  STEPCA_ASSIGN_OR_RETURN(ReplyPtr r, Command(args));
  if (r->type == REDIS_REPLY_NIL) return AlreadyExists("store key exists");
  if (r->type != REDIS_REPLY_STATUS) return Down("SET: unexpected reply type");
  return Status::Ok();
}

namespace {

// ARGV: [1] "1" when a value is expected, "0" for "only if absent";
// [2] the expected value; [3] the new value; [4] ttl seconds (0: none).
// A missing key is false in Lua, never equal to a string.
constexpr char kCompareAndSwapScript[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if ARGV[1] == '1' then\n"
    "  if cur ~= ARGV[2] then return 0 end\n"
    "elseif cur then return 0 end\n"
    "if ARGV[4] ~= '0' then\n"
    "  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])\n"
    "else\n"
    "  redis.call('SET', KEYS[1], ARGV[3])\n"
    "end\n"
    "return 1\n";

}  // namespace

Status RedisStore::CompareAndSwap(std::string_view key,
                                  const std::optional<std::string>& expected,
                                  std::string_view desired,
                                  std::chrono::seconds ttl) {
  STEPCA_RETURN_IF_ERROR(CheckArgs(key, ttl));
  std::string k = config_.redis_prefix + std::string(key);
  std::string secs = std::to_string(ttl.count());
  std::string_view want = expected ? std::string_view(*expected) : std::string_view();
  STEPCA_ASSIGN_OR_RETURN(
      ReplyPtr r, Command({"EVAL", kCompareAndSwapScript, "1", k,
                           expected ? "1" : "0", want, desired, secs}));
  if (r->type != REDIS_REPLY_INTEGER) return Down("EVAL: unexpected reply type");
  if (r->integer == 0) return AlreadyExists(expected ? "store value changed" : "store key exists");
  return Status::Ok();
}

Status RedisStore::Put(std::string_view key, std::string_view value,
                       std::chrono::seconds ttl) {
  STEPCA_RETURN_IF_ERROR(CheckArgs(key, ttl));
  std::string k = config_.redis_prefix + std::string(key);
  std::string secs = std::to_string(ttl.count());
  std::vector<std::string_view> args = {"SET", k, value};
  if (ttl.count() > 0) {
    args.push_back("EX");
    args.push_back(secs);
  }
  STEPCA_ASSIGN_OR_RETURN(ReplyPtr r, Command(args));
  if (r->type != REDIS_REPLY_STATUS) return Down("SET: unexpected reply type");
  return Status::Ok();
}

Result<std::optional<std::string>> RedisStore::Get(std::string_view key) {
  STEPCA_RETURN_IF_ERROR(CheckArgs(key, std::chrono::seconds(0)));
  std::string k = config_.redis_prefix + std::string(key);
  STEPCA_ASSIGN_OR_RETURN(ReplyPtr r, Command({"GET", k}));
  if (r->type == REDIS_REPLY_NIL) return std::optional<std::string>();
  if (r->type != REDIS_REPLY_STRING) return Down("GET: unexpected reply type");
  return std::optional<std::string>(std::string(r->str, r->len));
}

Result<std::optional<std::string>> RedisStore::Take(std::string_view key) {
  STEPCA_RETURN_IF_ERROR(CheckArgs(key, std::chrono::seconds(0)));
  std::string k = config_.redis_prefix + std::string(key);
  // GETDEL: Redis >= 6.2. Atomic on the server.
  STEPCA_ASSIGN_OR_RETURN(ReplyPtr r, Command({"GETDEL", k}));
  if (r->type == REDIS_REPLY_NIL) return std::optional<std::string>();
  if (r->type != REDIS_REPLY_STRING) return Down("GETDEL: unexpected reply type");
  return std::optional<std::string>(std::string(r->str, r->len));
}

Status RedisStore::Delete(std::string_view key) {
  STEPCA_RETURN_IF_ERROR(CheckArgs(key, std::chrono::seconds(0)));
  std::string k = config_.redis_prefix + std::string(key);
  STEPCA_ASSIGN_OR_RETURN(ReplyPtr r, Command({"DEL", k}));
  if (r->type != REDIS_REPLY_INTEGER) return Down("DEL: unexpected reply type");
  return Status::Ok();
}

}  // namespace stepca
