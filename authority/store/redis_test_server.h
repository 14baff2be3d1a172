// Test-only: a private redis-server child process on a free loopback port.
// Header-only so that it stays out of the library (CMake globs *.cc).
#ifndef STEPCA_AUTHORITY_STORE_REDIS_TEST_SERVER_H
#define STEPCA_AUTHORITY_STORE_REDIS_TEST_SERVER_H

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

namespace stepca {
namespace testing_redis {

constexpr const char* kRedisServer = "/usr/bin/redis-server";

// A port the kernel just handed out and we released; good enough for tests.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

inline bool Ping(int port) {
  timeval tv{0, 200 * 1000};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr) return false;
  bool ok = false;
  if (c->err == 0) {
    redisSetTimeout(c, tv);
    auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = r != nullptr && r->type == REDIS_REPLY_STATUS &&
         std::strcmp(r->str, "PONG") == 0;
    if (r != nullptr) freeReplyObject(r);
  }
  redisFree(c);
  return ok;
}

class RedisServer {
 public:
  RedisServer() = default;
  ~RedisServer() { Stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts on `port` (0: a free one). Waits up to 5 s for PING.
  bool Start(int port = 0) {
    if (pid_ > 0) return true;
    if (port == 0) port = FreePort();
    if (port <= 0) return false;
    port_ = port;
    std::string p = std::to_string(port);
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
      int devnull = open("/dev/null", O_RDWR);
      if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
      }
      execl(kRedisServer, kRedisServer, "--port", p.c_str(), "--bind",
            "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize",
            "no", "--loglevel", "warning", static_cast<char*>(nullptr));
      _exit(127);
    }
    pid_ = pid;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Ping(port_)) return true;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {  // died (port taken?)
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Stop();
    return false;
  }

  // SIGTERM, then SIGKILL after 3 s; always reaps the child.
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    int status;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }

  int port() const { return port_; }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace testing_redis
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STORE_REDIS_TEST_SERVER_H
