// ParseStoreUri: the store directive's one argument, strictly parsed.
//
// Every error names the part that is wrong. The password is never part of an
// error message, neither whole nor in pieces: userinfo problems are reported
// by what is wrong, not by what was written. Errors for redis/unix URIs echo
// no text from the URI at all (a password with an unencoded '/' or '?' would
// otherwise surface as a "port" or a "query parameter"); lmdb URIs, which
// hold no secret, echo the offending value.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "authority/store/store.h"

namespace stepca {
namespace {

constexpr std::string_view kLmdbScheme = "lmdb:";
constexpr std::string_view kRedisScheme = "redis://";
constexpr std::string_view kUnixScheme = "unix://";
constexpr std::string_view kRedisUnixScheme = "redis+unix://";
constexpr std::string_view kSentinelScheme = "redis+sentinel://";
constexpr std::string_view kTlsScheme = "rediss://";
constexpr std::string_view kTlsSentinelScheme = "rediss+sentinel://";

Status Bad(std::string what) {
  return InvalidArgument("invalid store URI: " + std::move(what));
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding. `part` names the component for the error.
Result<std::string> PercentDecode(std::string_view in, const char* part) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return Bad(std::string("bad percent-encoding in ") + part);
    }
    int hi = HexVal(in[i + 1]), lo = HexVal(in[i + 2]);
    if (hi < 0 || lo < 0) {
      return Bad(std::string("bad percent-encoding in ") + part);
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// A non-negative decimal integer without sign, spaces or overflow.
bool ParseUint(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// A Go/nginx style duration: one or more <number>[.<fraction>]<unit> with
// units ns, us, ms, s, m, h ("500ms", "2s", "1m30s", "1.5s"). Must be
// positive and at most one hour; the result is in whole milliseconds (at
// least 1).
bool ParseTimeout(std::string_view s, std::chrono::milliseconds* out) {
  if (s.empty()) return false;
  long double total_ns = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        value += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits || i == start) return false;
    size_t unit_start = i;
    while (i < s.size() && !(s[i] >= '0' && s[i] <= '9') && s[i] != '.') ++i;
    std::string_view unit = s.substr(unit_start, i - unit_start);
    long double mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s") mult = 1e3L;
    else if (unit == "ms") mult = 1e6L;
    else if (unit == "s") mult = 1e9L;
    else if (unit == "m") mult = 60e9L;
    else if (unit == "h") mult = 3600e9L;
    else return false;
    total_ns += value * mult;
    if (total_ns > 3600e9L) return false;
  }
  if (total_ns <= 0) return false;
  long long ms = static_cast<long long>(total_ns / 1e6L);
  *out = std::chrono::milliseconds(ms < 1 ? 1 : ms);
  return true;
}

// Splits "a=b&c=d" into a map; keys are case-sensitive, duplicates and
// unknown keys are errors. Values are percent-decoded.
// `echo` says whether names may appear in errors: never for Redis URIs, where
// a password with an unencoded '?' would otherwise leak into the message.
Result<std::map<std::string, std::string>> ParseQuery(
    std::string_view query, std::initializer_list<std::string_view> allowed,
    bool echo) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) {
      if (amp == query.size()) break;
      continue;
    }
    size_t eq = pair.find('=');
    std::string_view raw_key =
        eq == std::string_view::npos ? pair : pair.substr(0, eq);
    std::string_view raw_val =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    STEPCA_ASSIGN_OR_RETURN(std::string key,
                            PercentDecode(raw_key, "a query parameter name"));
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      return Bad(echo ? "unknown query parameter \"" + key.substr(0, 64) +
                            "\" (allowed: " + list + ")"
                      : "unknown query parameter (allowed: " + list + ")");
    }
    if (eq == std::string_view::npos) {
      return Bad("query parameter \"" + key + "\" needs a value");
    }
    std::string part = "query parameter \"" + key + "\"";
    STEPCA_ASSIGN_OR_RETURN(std::string val,
                            PercentDecode(raw_val, part.c_str()));
    if (!out.emplace(key, std::move(val)).second) {
      return Bad("query parameter \"" + key + "\" is duplicate");
    }
    if (amp == query.size()) break;
  }
  return out;
}

// Applies the query parameters common to both Redis forms.
Status ApplyRedisQuery(const std::map<std::string, std::string>& q,
                       StoreConfig* c) {
  for (const auto& [key, val] : q) {
    if (key == "timeout") {
      if (!ParseTimeout(val, &c->redis_timeout)) {
        return Bad("invalid timeout (want a duration like 500ms or 2s, at most 1h)");
      }
    } else if (key == "connect_timeout") {
      if (!ParseTimeout(val, &c->redis_connect_timeout)) {
        return Bad(
            "invalid connect_timeout (want a duration like 500ms or 2s, at most 1h)");
      }
    } else if (key == "prefix") {
      c->redis_prefix = val;
    } else if (key == "db") {
      uint64_t db;
      if (!ParseUint(val, 1u << 20, &db)) {
        return Bad("invalid db (want a non-negative integer)");
      }
      c->redis_db = static_cast<int>(db);
    } else if (key == "password") {
      if (val.empty()) return Bad("empty password");
      c->redis_password = val;
    } else if (key == "username") {
      c->redis_username = val;
    } else if (key == "tls_ca_file" || key == "tls_cert_file" || key == "tls_key_file" ||
               key == "tls_server_name") {
      if (!c->redis_tls) return Bad(key + " needs rediss:// or rediss+sentinel://");
      if (val.empty()) return Bad("empty " + key);
      if (key != "tls_server_name" && val[0] != '/') return Bad(key + " must be an absolute path");
      (key == "tls_ca_file"     ? c->redis_tls_ca_file
       : key == "tls_cert_file" ? c->redis_tls_cert_file
       : key == "tls_key_file"  ? c->redis_tls_key_file
                                : c->redis_tls_server_name) = val;
    } else if (key == "sentinel_password") {
      if (val.empty()) return Bad("empty sentinel_password");
      c->redis_sentinel_password = val;
    } else if (key == "sentinel_username") {
      c->redis_sentinel_username = val;
    } else if (key == "wait") {
      uint64_t n;
      if (!ParseUint(val, 100, &n)) return Bad("invalid wait (want a number of replicas, 0-100)");
      c->redis_wait_replicas = static_cast<int>(n);
    } else if (key == "wait_timeout") {
      if (!ParseTimeout(val, &c->redis_wait_timeout)) {
        return Bad("invalid wait_timeout (want a duration like 500ms or 2s, at most 1h)");
      }
    }
  }
  if (c->redis_tls && c->redis_tls_ca_file.empty()) {
    return Bad("rediss:// (TLS) needs tls_ca_file=/path/to/ca.pem");
  }
  if (c->redis_tls_cert_file.empty() != c->redis_tls_key_file.empty()) {
    return Bad("tls_cert_file and tls_key_file go together");
  }
  if (!c->redis_sentinel_username.empty() && c->redis_sentinel_password.empty()) {
    return Bad("a sentinel_username needs a sentinel_password");
  }
  // WAIT blocks the read of its answer: past the read timeout every write
  // would fail as a timeout instead of saying that replicas are missing.
  if (c->redis_wait_replicas > 0 && c->redis_wait_timeout >= c->redis_timeout) {
    return Bad("wait_timeout must be shorter than timeout");
  }
  if (!c->redis_username.empty() && c->redis_password.empty()) {
    return Bad("a username needs a password");
  }
  return Status::Ok();
}

Result<StoreConfig> ParseLmdb(std::string_view rest) {
  StoreConfig c;
  c.kind = StoreConfig::Kind::kLmdb;
  std::string_view query;
  size_t qm = rest.find('?');
  if (qm != std::string_view::npos) {
    query = rest.substr(qm + 1);
    rest = rest.substr(0, qm);
  }
  if (StartsWith(rest, "//")) {
    // lmdb:///abs/dir: the authority must be empty.
    rest.remove_prefix(2);
    if (!StartsWith(rest, "/")) {
      return Bad("lmdb URI must not name a host (use lmdb:/dir or lmdb:///dir)");
    }
  }
  STEPCA_ASSIGN_OR_RETURN(std::string dir, PercentDecode(rest, "the lmdb path"));
  if (dir.empty()) return Bad("lmdb URI has no directory");
  if (dir[0] != '/') {
    return Bad("lmdb directory \"" + dir + "\" must be an absolute path");
  }
  if (dir.find('\0') != std::string::npos) {
    return Bad("lmdb directory contains a NUL byte");
  }
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  c.lmdb_dir = dir;

  STEPCA_ASSIGN_OR_RETURN(auto q, ParseQuery(query, {"map_size"}, /*echo=*/true));
  auto it = q.find("map_size");
  if (it != q.end()) {
    std::string_view v = it->second;
    uint64_t mult = 1;
    if (!v.empty()) {
      switch (v.back()) {
        case 'k': case 'K': mult = uint64_t{1} << 10; break;
        case 'm': case 'M': mult = uint64_t{1} << 20; break;
        case 'g': case 'G': mult = uint64_t{1} << 30; break;
        case 't': case 'T': mult = uint64_t{1} << 40; break;
        default: break;
      }
      if (mult != 1) v.remove_suffix(1);
    }
    uint64_t n;
    constexpr uint64_t kMax = uint64_t{1} << 44;  // 16 TiB
    if (!ParseUint(v, kMax, &n) || n > kMax / mult ||
        n * mult < (uint64_t{1} << 20)) {
      return Bad("invalid map_size \"" + it->second.substr(0, 32) +
                 "\" (want bytes, optionally with k/m/g/t, at least 1m)");
    }
    c.lmdb_map_size = static_cast<size_t>(n * mult);
  }
  return c;
}

Result<StoreConfig::Endpoint> ParseHostPort(std::string_view authority, int default_port);
Result<bool> ParseRedisPath(std::string_view tail, std::string* master_name, StoreConfig* cp);

// redis:// and redis+sentinel:// alike: userinfo, one host[:port] or a
// comma-separated list of sentinels, then the path and query.
Result<StoreConfig> ParseRedisTcp(std::string_view rest, bool sentinel, bool tls) {
  StoreConfig c;
  c.kind = StoreConfig::Kind::kRedis;
  c.redis_tls = tls;
  size_t auth_end = rest.find_first_of("/?#");
  if (auth_end == std::string_view::npos) auth_end = rest.size();
  if (auth_end < rest.size() && rest[auth_end] == '#') {
    return Bad("redis URI must not have a fragment");
  }
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view tail = rest.substr(auth_end);

  // userinfo: [user]:password. The last '@' ends it (an unencoded '@' in a
  // password is tolerated).
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return Bad("redis URI userinfo must be [user]:password");
    }
    STEPCA_ASSIGN_OR_RETURN(c.redis_username,
                            PercentDecode(userinfo.substr(0, colon), "the username"));
    STEPCA_ASSIGN_OR_RETURN(c.redis_password,
                            PercentDecode(userinfo.substr(colon + 1), "the password"));
    if (c.redis_password.empty()) return Bad("redis URI has an empty password");
  }

  if (!sentinel) {
    STEPCA_ASSIGN_OR_RETURN(StoreConfig::Endpoint ep, ParseHostPort(authority, 6379));
    c.redis_host = ep.host;
    c.redis_port = ep.port;
    STEPCA_ASSIGN_OR_RETURN(bool parsed, ParseRedisPath(tail, nullptr, &c));
    (void)parsed;
    return c;
  }
  constexpr size_t kMaxSentinels = 16;
  size_t pos = 0;
  while (true) {
    size_t comma = authority.find(',', pos);
    std::string_view one = authority.substr(pos, comma == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : comma - pos);
    if (one.empty()) return Bad("empty sentinel address in the list");
    STEPCA_ASSIGN_OR_RETURN(StoreConfig::Endpoint ep, ParseHostPort(one, 26379));
    c.redis_sentinels.push_back(ep);
    if (c.redis_sentinels.size() > kMaxSentinels) return Bad("more than 16 sentinels");
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  STEPCA_ASSIGN_OR_RETURN(bool parsed, ParseRedisPath(tail, &c.redis_master_name, &c));
  (void)parsed;
  return c;
}

// host[:port], host may be [v6]; default_port when there is no port.
Result<StoreConfig::Endpoint> ParseHostPort(std::string_view authority, int default_port) {
  std::string_view host, port;
  if (StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad("unterminated [ in redis host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Bad("unexpected text after ] in redis host");
      port = after.substr(1);
      if (port.empty()) return Bad("empty redis port");
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return Bad("empty redis port");
    } else {
      host = authority;
    }
  }
  if (host.empty()) return Bad("redis URI has no host");
  for (char ch : host) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
              ch == '_' || ch == ':' || ch == '%';
    if (!ok) return Bad("invalid character in redis host");
  }
  StoreConfig::Endpoint ep;
  ep.host = std::string(host);
  ep.port = default_port;
  if (!port.empty()) {
    uint64_t p;
    if (!ParseUint(port, 65535, &p) || p == 0) {
      return Bad("invalid redis port (want 1-65535)");
    }
    ep.port = static_cast<int>(p);
  }
  return ep;
}

// [/db][?query] of a TCP Redis URI (`tail` starts at '/' or '?' or is
// empty); for a sentinel URI the path is /master[/db] (master_name set).
Result<bool> ParseRedisPath(std::string_view tail, std::string* master_name, StoreConfig* cp) {
  StoreConfig& c = *cp;
  std::string_view query;
  size_t qm = tail.find('?');
  if (qm != std::string_view::npos) {
    query = tail.substr(qm + 1);
    tail = tail.substr(0, qm);
  }
  if (query.find('#') != std::string_view::npos) {
    return Bad("redis URI must not have a fragment");
  }
  if (master_name != nullptr) {
    // /master[/db]
    std::string_view rest = tail.empty() ? tail : tail.substr(1);
    size_t slash = rest.find('/');
    std::string_view name = rest.substr(0, slash);
    if (name.empty()) return Bad("sentinel URI names no master (want /<master name>)");
    for (char ch : name) {
      bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
      if (!ok) return Bad("invalid character in the sentinel master name");
    }
    *master_name = std::string(name);
    tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  if (!tail.empty()) {
    std::string_view db = tail.substr(1);  // tail starts with '/'
    if (!db.empty()) {
      uint64_t n;
      if (!ParseUint(db, 1u << 20, &n)) {
        return Bad("invalid redis db (want /<number>)");
      }
      c.redis_db = static_cast<int>(n);
    }
  }
  bool had_db = !tail.empty() && tail.size() > 1;
  std::initializer_list<std::string_view> plain = {
      "timeout", "connect_timeout", "prefix", "db", "password", "username", "wait",
      "wait_timeout", "tls_ca_file", "tls_cert_file", "tls_key_file", "tls_server_name"};
  std::initializer_list<std::string_view> sentinel = {
      "timeout", "connect_timeout", "prefix", "db", "password", "username", "wait",
      "wait_timeout", "sentinel_password", "sentinel_username", "tls_ca_file",
      "tls_cert_file", "tls_key_file", "tls_server_name"};
  STEPCA_ASSIGN_OR_RETURN(
      auto q, ParseQuery(query, master_name != nullptr ? sentinel : plain, /*echo=*/false));
  if (had_db && q.count("db")) return Bad("db given both in the path and the query");
  if (!c.redis_password.empty() && q.count("password")) {
    return Bad("password given both in the userinfo and the query");
  }
  if (!c.redis_username.empty() && q.count("username")) {
    return Bad("username given both in the userinfo and the query");
  }
  STEPCA_RETURN_IF_ERROR(ApplyRedisQuery(q, &c));
  return true;
}

Result<StoreConfig> ParseRedisUnix(std::string_view rest) {
  // rest is what follows "unix://" or "redis+unix://": an empty authority
  // and an absolute path.
  StoreConfig c;
  c.kind = StoreConfig::Kind::kRedis;
  std::string_view query;
  size_t qm = rest.find('?');
  if (qm != std::string_view::npos) {
    query = rest.substr(qm + 1);
    rest = rest.substr(0, qm);
  }
  if (!StartsWith(rest, "/")) {
    return Bad("unix socket URI must be unix:///absolute/path (no host, no userinfo)");
  }
  STEPCA_ASSIGN_OR_RETURN(c.redis_unix_socket,
                          PercentDecode(rest, "the socket path"));
  if (c.redis_unix_socket.size() < 2 || c.redis_unix_socket.back() == '/') {
    return Bad("unix socket URI has no socket file name");
  }
  if (c.redis_unix_socket.find('\0') != std::string::npos) {
    return Bad("unix socket path contains a NUL byte");
  }
  if (c.redis_unix_socket.size() >= 108) {  // sizeof(sun_path)
    return Bad("unix socket path is too long");
  }
  STEPCA_ASSIGN_OR_RETURN(
      auto q, ParseQuery(query, {"timeout", "connect_timeout", "prefix", "db",
                                 "password", "username", "wait", "wait_timeout"},
                 /*echo=*/false));
  STEPCA_RETURN_IF_ERROR(ApplyRedisQuery(q, &c));
  return c;
}

}  // namespace

Result<StoreConfig> ParseStoreUri(std::string_view uri) {
  if (uri.empty()) return Bad("empty");
  for (char ch : uri) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      return Bad("contains a space or control character");
    }
  }
  if (StartsWith(uri, kLmdbScheme)) return ParseLmdb(uri.substr(kLmdbScheme.size()));
  if (StartsWith(uri, kRedisScheme))
    return ParseRedisTcp(uri.substr(kRedisScheme.size()), false, false);
  if (StartsWith(uri, kSentinelScheme))
    return ParseRedisTcp(uri.substr(kSentinelScheme.size()), true, false);
  if (StartsWith(uri, kTlsScheme)) return ParseRedisTcp(uri.substr(kTlsScheme.size()), false, true);
  if (StartsWith(uri, kTlsSentinelScheme))
    return ParseRedisTcp(uri.substr(kTlsSentinelScheme.size()), true, true);
  if (StartsWith(uri, kUnixScheme)) return ParseRedisUnix(uri.substr(kUnixScheme.size()));
  if (StartsWith(uri, kRedisUnixScheme)) {
    return ParseRedisUnix(uri.substr(kRedisUnixScheme.size()));
  }
  // Name only the scheme; the rest may hold a password.
  size_t colon = uri.find(':');
  std::string scheme(uri.substr(0, colon == std::string_view::npos ? 0 : colon));
  if (scheme.size() > 16) scheme.resize(16);
  return Bad("unknown scheme \"" + scheme +
             "\" (want lmdb:, redis://, rediss://, redis+sentinel://, rediss+sentinel://, "
             "unix:// or redis+unix://)");
}

}  // namespace stepca
