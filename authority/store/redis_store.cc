#include "authority/store/redis_store.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "authority/store/redis_sentinel.h"

namespace stepca {
namespace {

// One thread's connection to one store instance.
struct ThreadConnection {
  uint64_t store_id;
  std::weak_ptr<char> store_alive;
  pid_t pid;  // a connection never crosses fork
  std::unique_ptr<RedisConnection> conn;
  std::string identity;  // "<run id>/<replication id>", read on connect
};

// Usually one entry (one store per process); a vector beats a map here.
thread_local std::vector<ThreadConnection> tls_connections;

std::atomic<uint64_t> next_store_id{1};

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

// "field:value" from an INFO section; empty when absent.
std::string InfoField(const std::string& info, const std::string& field) {
  const std::string want = field + ":";
  size_t pos = 0;
  while (pos < info.size()) {
    size_t end = info.find('\n', pos);
    if (end == std::string::npos) end = info.size();
    std::string line = info.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.compare(0, want.size(), want) == 0) return line.substr(want.size());
    pos = end + 1;
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<RedisStore>> RedisStore::Create(StoreConfig config) {
  SslCtxPtr tls;
  if (config.redis_tls) {
    STEPCA_ASSIGN_OR_RETURN(tls, MakeRedisTlsContext(config.redis_tls_ca_file,
                                                     config.redis_tls_cert_file,
                                                     config.redis_tls_key_file));
  }
  auto make = [&](std::string address) {
    std::unique_ptr<RedisStore> s(new RedisStore(std::move(config), std::move(address)));
    s->tls_ = std::move(tls);
    return s;
  };
  if (!config.redis_sentinels.empty()) {
    if (config.redis_master_name.empty())
      return InvalidArgument("redis store: sentinels configured without a master name");
    return make("");
  }
  if (!config.redis_unix_socket.empty()) {
    std::string path = config.redis_unix_socket;
    return make(std::move(path));
  }
  if (config.redis_host.empty()) {
    return InvalidArgument("redis store: no host or unix socket configured");
  }
  if (config.redis_port <= 0 || config.redis_port > 65535) {
    return InvalidArgument("redis store: port out of range");
  }
  if (IsIpLiteral(config.redis_host)) {
    std::string ip = config.redis_host;
    return make(std::move(ip));
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
  return make(buf);
}

RedisStore::RedisStore(StoreConfig config, std::string address)
    : config_(std::move(config)),
      address_(std::move(address)),
      id_(next_store_id.fetch_add(1)),
      alive_(std::make_shared<char>(0)) {
  if (!config_.redis_sentinels.empty()) {
    endpoint_ = "sentinel master " + config_.redis_master_name;
  } else if (!config_.redis_unix_socket.empty()) {
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

Result<std::string> RedisStore::ServerIdentity() {
  STEPCA_RETURN_IF_ERROR(Connection().status());
  for (const auto& tc : tls_connections)
    if (tc.store_id == id_) return tc.identity;
  return Down("no connection");
}

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

Status RedisStore::IoError(const Status& st, const std::string& what) {
  DropConnection();
  return Down(what + ": " + st.message());
}

Result<RedisConnection*> RedisStore::Connect() {
  RedisConnection::Options o;
  o.connect_timeout = config_.redis_connect_timeout;
  o.timeout = config_.redis_timeout;
  o.tls = tls_.get();
  std::string host = address_;
  int port = config_.redis_port;
  o.server_name = config_.redis_tls_server_name.empty() ? config_.redis_host
                                                        : config_.redis_tls_server_name;
  if (!config_.redis_sentinels.empty()) {
    // Asked on every connect: after a failover this is the new master.
    STEPCA_ASSIGN_OR_RETURN(StoreConfig::Endpoint m, LocateSentinelMaster(config_, tls_.get()));
    host = m.host;
    port = m.port;
    if (config_.redis_tls_server_name.empty()) o.server_name = m.host;
  }
  auto opened = config_.redis_unix_socket.empty() ? RedisConnection::Open(host, port, o)
                                                  : RedisConnection::OpenUnix(address_, o);
  if (!opened.ok()) {
    // "connect: ..." or "TLS ...: ..." from the connection.
    return Down(opened.status().message());
  }
  std::unique_ptr<RedisConnection> conn = std::move(opened).value();

  auto handshake = [&](std::vector<std::string_view> args, const char* what,
                       std::string* text = nullptr) -> Status {
    auto r = conn->Call(args);
    if (!r.ok()) return Down(std::string(what) + ": " + r.status().message());
    if ((*r)->type == REDIS_REPLY_ERROR) {
      return Down(std::string(what) + " failed: " + ServerError(r->get()));
    }
    if (text != nullptr) {
      if ((*r)->type != REDIS_REPLY_STRING) return Down(std::string(what) + ": unexpected reply type");
      text->assign((*r)->str, (*r)->len);
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
  // Who we are talking to: a restart or a failover changes the run id
  // (and the replication id), which the state layer turns into a new
  // epoch (state/store_epoch.h). A replica would refuse every write.
  std::string info;
  STEPCA_RETURN_IF_ERROR(handshake({"INFO", "server"}, "INFO", &info));
  std::string run_id = InfoField(info, "run_id");
  STEPCA_RETURN_IF_ERROR(handshake({"INFO", "replication"}, "INFO", &info));
  std::string replid = InfoField(info, "master_replid");
  if (InfoField(info, "role") != "master") return Down("connect: the server is a replica, not the master");
  if (run_id.empty()) return Down("connect: INFO has no run_id");

  RedisConnection* raw = conn.get();
  tls_connections.push_back(
      ThreadConnection{id_, alive_, getpid(), std::move(conn), run_id + "/" + replid});
  return raw;
}

Result<RedisConnection*> RedisStore::Connection() {
  pid_t pid = getpid();
  for (auto it = tls_connections.begin(); it != tls_connections.end(); ++it) {
    if (it->store_id != id_) continue;
    if (it->pid != pid) {
      // Inherited across fork (only the forking thread's survive): the
      // socket is the parent's. Close our copy of the fd, reconnect.
      tls_connections.erase(it);
      break;
    }
    // An idle connection has nothing to read. If it has, the server closed
    // it (or sent garbage): reconnect before sending.
    if (!it->conn->Stale()) return it->conn.get();
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
  STEPCA_ASSIGN_OR_RETURN(RedisConnection * c, Connection());
  if (args.empty()) return Internal("redis store: empty command");
  const std::string name(args[0]);
  const bool write = args[0] != "GET";
  const bool wait = write && config_.redis_wait_replicas > 0;
  // Queued in memory only: a failure here sent nothing.
  Status queued = c->Append(args);
  if (!queued.ok()) return queued;
  const std::string replicas = std::to_string(config_.redis_wait_replicas);
  const std::string wait_ms = std::to_string(config_.redis_wait_timeout.count());
  // Synchronous replication: the write and a WAIT in one round trip; the
  // answer counts only once enough replicas hold it.
  if (wait) {
    queued = c->Append({"WAIT", replicas, wait_ms});
    if (!queued.ok()) return queued;
  }
  // From here the command may have reached the server: a failure may have
  // been applied.
  Status sent = c->Flush();
  if (!sent.ok()) return IoError(sent, name).MaybeApplied();
  auto r = c->Read();
  if (!r.ok()) return IoError(r.status(), name).MaybeApplied();
  ReplyPtr reply = std::move(r).value();
  if (wait) {
    auto w = c->Read();
    if (!w.ok()) return IoError(w.status(), "WAIT").MaybeApplied();
    if (reply->type == REDIS_REPLY_ERROR) return ErrorReply(name, reply.get());
    if ((*w)->type != REDIS_REPLY_INTEGER) return Down("WAIT: unexpected reply type").MaybeApplied();
    if ((*w)->integer < config_.redis_wait_replicas)
      return Down("WAIT: " + std::to_string((*w)->integer) + " of " + replicas +
                  " replicas acknowledged within " + wait_ms + "ms")
          .MaybeApplied();
  }
  if (reply->type == REDIS_REPLY_ERROR) return ErrorReply(name, reply.get());
  return reply;
}

Status RedisStore::ErrorReply(const std::string& command, const redisReply* r) {
  const std::string text = ServerError(r);
  // A master demoted by a failover keeps our connection open and refuses
  // writes; drop it so the next call finds the new master.
  if (text.compare(0, 8, "READONLY") == 0 || text.compare(0, 7, "LOADING") == 0 ||
      text.compare(0, 11, "MASTERDOWN") == 0) {
    DropConnection();
  }
  return Down(command + " failed: " + text);
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

namespace {

// KEYS: the keys; ARGV: value and ttl seconds (0: none) of each key in
// turn. The index (from 1) of the first live key, or 0 when all were
// stored. A script runs whole or not at all, like MULTI, and EXISTS does
// not see an expired key.
constexpr char kPutIfAllAbsentScript[] =
    "for i = 1, #KEYS do\n"
    "  if redis.call('EXISTS', KEYS[i]) == 1 then return i end\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  if ARGV[2 * i] ~= '0' then\n"
    "    redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'EX', ARGV[2 * i])\n"
    "  else\n"
    "    redis.call('SET', KEYS[i], ARGV[2 * i - 1])\n"
    "  end\n"
    "end\n"
    "return 0\n";

}  // namespace

Status RedisStore::PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) {
  if (entries.empty()) return Status::Ok();
  std::vector<std::string> keys, secs;
  keys.reserve(entries.size());
  secs.reserve(entries.size());
  for (const auto& e : entries) {
    STEPCA_RETURN_IF_ERROR(CheckArgs(e.key, e.ttl));
    keys.push_back(config_.redis_prefix + e.key);
    secs.push_back(std::to_string(e.ttl.count()));
  }
  const std::string nkeys = std::to_string(entries.size());
  std::vector<std::string_view> args = {"EVAL", kPutIfAllAbsentScript, nkeys};
  for (const auto& k : keys) args.push_back(k);
  for (size_t i = 0; i < entries.size(); ++i) {
    args.push_back(entries[i].value);
    args.push_back(secs[i]);
  }
  STEPCA_ASSIGN_OR_RETURN(ReplyPtr r, Command(args));
  if (r->type != REDIS_REPLY_INTEGER) return Down("EVAL: unexpected reply type");
  if (r->integer < 0 || static_cast<size_t>(r->integer) > entries.size())
    return Down("EVAL: unexpected reply");
  if (r->integer == 0) return Status::Ok();
  if (taken != nullptr) *taken = static_cast<size_t>(r->integer - 1);
  return AlreadyExists("store key exists");
}

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
