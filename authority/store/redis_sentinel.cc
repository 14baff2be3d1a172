#include "authority/store/redis_sentinel.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <vector>

#include "authority/store/redis_connection.h"

namespace stepca {
namespace {

// A sentinel's host as an IP: names are resolved per ask (sentinels are
// few and asked only on connect).
Result<std::string> Resolve(const std::string& host) {
  in_addr a4;
  in6_addr a6;
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1)
    return host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr)
    return Unavailable("does not resolve");
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owned(res, freeaddrinfo);
  char buf[INET6_ADDRSTRLEN] = {0};
  const void* addr = res->ai_family == AF_INET
                         ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr)
                         : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr);
  if (inet_ntop(res->ai_family, addr, buf, sizeof buf) == nullptr) return Unavailable("does not resolve");
  return std::string(buf);
}

// One sentinel's answer, or why not.
Result<StoreConfig::Endpoint> Ask(const StoreConfig& config, const StoreConfig::Endpoint& s,
                                  SSL_CTX* tls) {
  RedisConnection::Options o;
  o.connect_timeout = config.redis_connect_timeout;
  o.timeout = config.redis_timeout;
  o.tls = tls;
  o.server_name = config.redis_tls_server_name.empty() ? s.host : config.redis_tls_server_name;
  STEPCA_ASSIGN_OR_RETURN(std::string ip, Resolve(s.host));
  STEPCA_ASSIGN_OR_RETURN(auto c, RedisConnection::Open(ip, s.port, o));
  auto call = [&](std::vector<std::string_view> args) -> Result<RedisReplyPtr> {
    STEPCA_ASSIGN_OR_RETURN(RedisReplyPtr r, c->Call(args));
    if (r->type == REDIS_REPLY_ERROR) {
      std::string e(r->str, r->len > 200 ? 200 : r->len);
      return Unavailable(std::string(args[0]) + " failed: " + e);
    }
    return r;
  };
  if (!config.redis_sentinel_password.empty()) {
    std::vector<std::string_view> auth = {"AUTH"};
    if (!config.redis_sentinel_username.empty()) auth.push_back(config.redis_sentinel_username);
    auth.push_back(config.redis_sentinel_password);
    STEPCA_RETURN_IF_ERROR(call(auth).status());
  }
  STEPCA_ASSIGN_OR_RETURN(auto r, call({"SENTINEL", "get-master-addr-by-name", config.redis_master_name}));
  if (r->type == REDIS_REPLY_NIL) return Unavailable("does not know master \"" + config.redis_master_name + "\"");
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
    return Unavailable("unexpected reply to get-master-addr-by-name");
  StoreConfig::Endpoint master;
  master.host.assign(r->element[0]->str, r->element[0]->len);
  const std::string port(r->element[1]->str, r->element[1]->len);
  char* end = nullptr;
  errno = 0;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || errno != 0 || p <= 0 || p > 65535 || master.host.empty())
    return Unavailable("bad master address from sentinel");
  master.port = static_cast<int>(p);
  // Sentinels announce IPs (unless resolve-hostnames is on): a name is
  // resolved here. Over TLS the certificate is checked against
  // redis_tls_server_name when set, else against this address.
  STEPCA_ASSIGN_OR_RETURN(master.host, Resolve(master.host));
  return master;
}

}  // namespace

Result<StoreConfig::Endpoint> LocateSentinelMaster(const StoreConfig& config, SSL_CTX* tls) {
  if (config.redis_sentinels.empty()) return InvalidArgument("redis store: no sentinels configured");
  std::string reasons;
  for (const auto& s : config.redis_sentinels) {
    auto m = Ask(config, s, tls);
    if (m.ok()) return m;
    if (!reasons.empty()) reasons += "; ";
    reasons += s.host + ":" + std::to_string(s.port) + " " + m.status().message();
  }
  // Addresses are for the log only (the detail), as for plain Redis.
  return Unavailable("store unavailable: redis sentinel: no sentinel named the master")
      .WithDetail(reasons);
}

}  // namespace stepca
