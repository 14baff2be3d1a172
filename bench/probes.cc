// What the server spent: /proc for the nginx workers' CPU time and RSS,
// Redis INFO commandstats and LMDB's last transaction id for the store's
// round trips. Read-only; none of it touches the library.
#include <dirent.h>
#include <hiredis/hiredis.h>
#include <lmdb.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "bench/bench.h"

namespace stepca {
namespace bench {
namespace {

// The fields of /proc/<pid>/stat after the command name, which may hold
// spaces and parentheses: everything after the last ')'.
bool StatFields(pid_t pid, std::vector<std::string>* fields) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 2));
  fields->clear();
  for (std::string f; rest >> f;) fields->push_back(f);
  return true;
}

}  // namespace

std::vector<pid_t> ChildPids(pid_t master) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (struct dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::vector<std::string> f;
    // fields[0] is state (field 3), fields[1] is ppid (field 4)
    if (StatFields(static_cast<pid_t>(pid), &f) && f.size() > 1 &&
        atol(f[1].c_str()) == master)
      out.push_back(static_cast<pid_t>(pid));
  }
  closedir(d);
  return out;
}

double ProcessCpuSeconds(pid_t pid) {
  std::vector<std::string> f;
  // utime and stime are fields 14 and 15: indexes 11 and 12 here.
  if (!StatFields(pid, &f) || f.size() < 13) return -1;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (atof(f[11].c_str()) + atof(f[12].c_str())) / tick;
}

long ProcessRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, 6, "VmRSS:") == 0) return atol(line.c_str() + 6);
  }
  return -1;
}

Result<std::map<std::string, long long>> RedisCommandCalls(const std::string& host, int port) {
  struct timeval tv = {2, 0};
  redisContext* c = redisConnectWithTimeout(host.c_str(), port, tv);
  if (c == nullptr || c->err) {
    std::string e = c != nullptr ? c->errstr : "out of memory";
    if (c != nullptr) redisFree(c);
    return Unavailable("redis " + host + ":" + std::to_string(port) + ": " + e);
  }
  redisReply* r = static_cast<redisReply*>(redisCommand(c, "INFO commandstats"));
  if (r == nullptr || r->type != REDIS_REPLY_STRING) {
    if (r != nullptr) freeReplyObject(r);
    redisFree(c);
    return Unavailable("redis INFO failed");
  }
  std::map<std::string, long long> calls;
  std::istringstream in(std::string(r->str, r->len));
  for (std::string line; std::getline(in, line);) {
    // cmdstat_set:calls=12,usec=...
    if (line.compare(0, 8, "cmdstat_") != 0) continue;
    size_t colon = line.find(':');
    size_t eq = line.find("calls=");
    if (colon == std::string::npos || eq == std::string::npos) continue;
    std::string cmd = line.substr(8, colon - 8);
    if (cmd == "info") continue;
    calls[cmd] = atoll(line.c_str() + eq + 6);
  }
  freeReplyObject(r);
  redisFree(c);
  return calls;
}

Result<uint64_t> LmdbLastTxnId(const std::string& dir) {
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != 0) return Internal(std::string("mdb_env_create: ") + mdb_strerror(rc));
  // Read-only, no thread-local reader slots; we never begin a transaction,
  // only read the shared last-txnid counter of the lock file.
  rc = mdb_env_open(env, dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0600);
  if (rc != 0) {
    mdb_env_close(env);
    return Unavailable("lmdb " + dir + ": " + mdb_strerror(rc));
  }
  MDB_envinfo info;
  rc = mdb_env_info(env, &info);
  mdb_env_close(env);
  if (rc != 0) return Internal(std::string("mdb_env_info: ") + mdb_strerror(rc));
  return static_cast<uint64_t>(info.me_last_txnid);
}

}  // namespace bench
}  // namespace stepca
