// Redis-only behaviour: failures, recovery, AUTH, SELECT, name resolution,
// fork. The shared semantics are in store_test.cc.
#include "authority/store/redis_store.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "authority/store/redis_test_server.h"

namespace stepca {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing_redis::FreePort;
using testing_redis::RedisServer;

double MsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t)
      .count();
}

StoreConfig TcpConfig(int port) {
  StoreConfig c;
  c.kind = StoreConfig::Kind::kRedis;
  c.redis_host = "127.0.0.1";
  c.redis_port = port;
  c.redis_connect_timeout = milliseconds(300);
  c.redis_timeout = milliseconds(300);
  c.redis_prefix = "rtest:";
  return c;
}

std::unique_ptr<Store> MustMake(const StoreConfig& c) {
  auto s = MakeStore(c);
  EXPECT_TRUE(s.ok()) << s.status().message();
  if (!s.ok()) return nullptr;
  EXPECT_TRUE((*s)->OpenInProcess().ok());
  return std::move(s).value();
}

TEST(RedisStoreTest, ClosedPortIsUnavailableQuickly) {
  int port = FreePort();
  ASSERT_GT(port, 0);
  auto store = MustMake(TcpConfig(port));
  auto start = std::chrono::steady_clock::now();
  Status st = store->PutIfAbsent("contract/x", "1", seconds(10));
  double ms = MsSince(start);
  EXPECT_EQ(st.code(), Code::kUnavailable);
  // The client-visible message says what failed, never where the store
  // is; the endpoint is in the detail, which only the log shows.
  const std::string endpoint = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(st.message().rfind("store unavailable: redis connect: ", 0), 0u) << st.message();
  EXPECT_EQ(st.message().find(endpoint), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find(std::to_string(port)), std::string::npos) << st.message();
  EXPECT_NE(st.detail().find(endpoint), std::string::npos) << st.detail();
  EXPECT_NE(st.LogText().find(endpoint), std::string::npos) << st.LogText();
  EXPECT_LT(ms, 1000.0);
  // Every operation fails the same way, none crashes.
  EXPECT_EQ(store->Get("k").status().code(), Code::kUnavailable);
  EXPECT_EQ(store->Take("k").status().code(), Code::kUnavailable);
  EXPECT_EQ(store->Put("k", "v", seconds(0)).code(), Code::kUnavailable);
  EXPECT_EQ(store->Delete("k").code(), Code::kUnavailable);
}

// A listener that accepts (kernel backlog) but never answers: the command
// must give up after redis_timeout, not hang.
TEST(RedisStoreTest, SilentServerTimesOut) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  auto store = MustMake(TcpConfig(ntohs(a.sin_port)));
  auto start = std::chrono::steady_clock::now();
  auto r = store->Get("k");
  double ms = MsSince(start);
  close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("timeout after 300ms"), std::string::npos)
      << r.status().message();
  EXPECT_GE(ms, 250.0);
  EXPECT_LT(ms, 1500.0);
}

TEST(RedisStoreTest, RecoversAfterRestart) {
  RedisServer server;
  ASSERT_TRUE(server.Start());
  auto store = MustMake(TcpConfig(server.port()));
  ASSERT_TRUE(store->Put("k", "v", seconds(0)).ok());

  server.Stop();
  auto down = store->Get("k");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), Code::kUnavailable);
  EXPECT_EQ(down.status().message().rfind("store unavailable: redis ", 0), 0u)
      << down.status().message();
  EXPECT_EQ(store->PutIfAbsent("k2", "v", seconds(0)).code(), Code::kUnavailable);

  ASSERT_TRUE(server.Start(server.port()));
  // The very next call succeeds (the server kept nothing: --save '').
  Status up = store->PutIfAbsent("k2", "v", seconds(0));
  EXPECT_TRUE(up.ok()) << up.message();
  EXPECT_EQ(store->Get("k2").value(), "v");
}

// The connection was open when the server went away and came back: the
// stale socket is noticed before a command is sent on it.
TEST(RedisStoreTest, StaleConnectionIsReplacedBeforeUse) {
  RedisServer server;
  ASSERT_TRUE(server.Start());
  auto store = MustMake(TcpConfig(server.port()));
  ASSERT_TRUE(store->Put("k", "v", seconds(0)).ok());
  server.Stop();
  ASSERT_TRUE(server.Start(server.port()));
  Status st = store->PutIfAbsent("k", "w", seconds(0));
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST(RedisStoreTest, AuthAndSelect) {
  RedisServer server;
  ASSERT_TRUE(server.Start());
  // Set a password on the running server through a store without one.
  StoreConfig open = TcpConfig(server.port());
  {
    timeval tv{1, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", server.port(), tv);
    ASSERT_TRUE(c != nullptr && c->err == 0);
    freeReplyObject(redisCommand(c, "CONFIG SET requirepass %s", "Sw0rdfish-pw"));
    redisFree(c);
  }
  auto noauth = MustMake(open);
  auto r = noauth->Get("k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("NOAUTH"), std::string::npos)
      << r.status().message();
  // A server error reply: still no endpoint for the client.
  EXPECT_EQ(r.status().message().find("127.0.0.1"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().detail().find("127.0.0.1:"), std::string::npos);

  StoreConfig wrong = open;
  wrong.redis_password = "Wr0ng-pw-value";
  auto bad = MustMake(wrong);
  Status st = bad->Put("k", "v", seconds(0));
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_NE(st.message().find("AUTH failed"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("Wr0ng"), std::string::npos) << st.message();

  // Password alone, and username "default" + password (Redis 6 ACL form);
  // db 5 is selected.
  StoreConfig good = open;
  good.redis_password = "Sw0rdfish-pw";
  good.redis_db = 5;
  auto s1 = MustMake(good);
  ASSERT_TRUE(s1->Put("k", "in-db-5", seconds(0)).ok());
  good.redis_username = "default";
  auto s2 = MustMake(good);
  EXPECT_EQ(s2->Get("k").value(), "in-db-5");
  good.redis_db = 0;
  auto s3 = MustMake(good);
  EXPECT_EQ(s3->Get("k").value(), std::nullopt);  // other db

  // The prefix is on the wire key.
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", server.port(), tv);
  ASSERT_TRUE(c != nullptr && c->err == 0);
  freeReplyObject(redisCommand(c, "AUTH %s", "Sw0rdfish-pw"));
  freeReplyObject(redisCommand(c, "SELECT 5"));
  auto* reply = static_cast<redisReply*>(redisCommand(c, "GET rtest:k"));
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->type, REDIS_REPLY_STRING);
  freeReplyObject(reply);
  redisFree(c);
}

TEST(RedisStoreTest, HostNameResolvedAtConstruction) {
  RedisServer server;
  ASSERT_TRUE(server.Start());
  StoreConfig c = TcpConfig(server.port());
  c.redis_host = "localhost";
  auto made = RedisStore::Create(c);
  ASSERT_TRUE(made.ok()) << made.status().message();
  EXPECT_EQ((*made)->endpoint(), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_TRUE((*made)->Put("k", "v", seconds(0)).ok());

  c.redis_host = "no-such-host.invalid";
  auto bad = MakeStore(c);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kUnavailable);
  EXPECT_NE(bad.status().message().find("no-such-host.invalid"), std::string::npos);
}

TEST(RedisStoreTest, UnixSocket) {
  char tmpl[] = "/tmp/stepca-redis-unix-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string sock = std::string(tmpl) + "/redis.sock";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(testing_redis::kRedisServer, testing_redis::kRedisServer, "--port", "0",
          "--unixsocket", sock.c_str(), "--unixsocketperm", "700", "--save", "",
          "--appendonly", "no", "--daemonize", "no", static_cast<char*>(nullptr));
    _exit(127);
  }
  auto parsed = ParseStoreUri("unix://" + sock + "?db=2&timeout=500ms");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto store = MakeStore(parsed.value());
  ASSERT_TRUE(store.ok());
  Status st;
  for (int i = 0; i < 200; ++i) {  // up to 2 s for the server to come up
    st = (*store)->Put("k", "v", seconds(0));
    if (st.ok()) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ((*store)->Take("k").value(), "v");
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  unlink(sock.c_str());
  rmdir(tmpl);
}

// A connection made before fork is not used by the child: the child gets
// its own, the parent keeps working on its.
TEST(RedisStoreTest, ConnectionNotSharedAcrossFork) {
  RedisServer server;
  ASSERT_TRUE(server.Start());
  auto store = MustMake(TcpConfig(server.port()));
  ASSERT_TRUE(store->Put("parent", "p", seconds(0)).ok());  // connects
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    bool ok = store->Put("child", "c", seconds(0)).ok() &&
              store->Get("parent").ok() && store->Get("parent").value() == "p";
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(store->Get("child").value(), "c");
  EXPECT_EQ(store->Get("parent").value(), "p");
}

// Connections of a destroyed store are released by the thread's next miss.
TEST(RedisStoreTest, ManyStoreInstancesOnOneThread) {
  RedisServer server;
  ASSERT_TRUE(server.Start());
  for (int i = 0; i < 50; ++i) {
    auto store = MustMake(TcpConfig(server.port()));
    ASSERT_TRUE(store->Put("k", std::to_string(i), seconds(0)).ok());
  }
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", server.port(), tv);
  ASSERT_TRUE(c != nullptr && c->err == 0);
  auto* r = static_cast<redisReply*>(redisCommand(c, "INFO clients"));
  ASSERT_NE(r, nullptr);
  std::string info(r->str, r->len);
  freeReplyObject(r);
  redisFree(c);
  // Only this probe connection should remain (the store's destructor drops
  // its connection on the destroying thread).
  EXPECT_NE(info.find("connected_clients:1\r"), std::string::npos) << info;
}

// The identity names the server process: the same across calls, new after
// a restart, even one that kept the data (state/store_epoch.h moves the
// epoch on it).
TEST(RedisStoreTest, ServerIdentityChangesWithTheServer) {
  RedisServer server;
  ASSERT_TRUE(server.Start());
  auto store = MustMake(TcpConfig(server.port()));
  auto a = store->ServerIdentity();
  ASSERT_TRUE(a.ok()) << a.status().LogText();
  EXPECT_NE(a->find('/'), std::string::npos) << *a;
  EXPECT_GT(a->size(), 40u);
  EXPECT_EQ(store->ServerIdentity().value(), *a);
  server.Stop();
  EXPECT_EQ(store->ServerIdentity().status().code(), Code::kUnavailable);
  ASSERT_TRUE(server.Start(server.port()));
  auto b = store->ServerIdentity();
  ASSERT_TRUE(b.ok()) << b.status().LogText();
  EXPECT_NE(*b, *a);
}

// wait=N: a write no replica acknowledges is an error that says so, and
// was applied on the master (a second look finds it).
TEST(RedisStoreTest, WaitForReplicasRefusesAnUnreplicatedWrite) {
  RedisServer server;
  ASSERT_TRUE(server.Start());
  StoreConfig c = TcpConfig(server.port());
  c.redis_wait_replicas = 1;
  c.redis_wait_timeout = milliseconds(100);
  auto store = MustMake(c);
  auto start = std::chrono::steady_clock::now();
  Status st = store->PutIfAbsent("w/k", "v", seconds(0));
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_TRUE(st.maybe_applied());
  EXPECT_NE(st.message().find("WAIT: 0 of 1 replicas acknowledged within 100ms"), std::string::npos)
      << st.message();
  EXPECT_GE(MsSince(start), 90.0);
  EXPECT_EQ(store->Get("w/k").value(), "v");  // reads do not wait
  // Without wait the same store works.
  auto plain = MustMake(TcpConfig(server.port()));
  EXPECT_TRUE(plain->Put("w/k2", "v", seconds(0)).ok());
}

// No sentinel answers: a 503-style error naming the sentinels in the log
// detail only, never a password; a sentinel that is a plain Redis (it does
// not know SENTINEL) is refused the same way.
TEST(RedisStoreTest, SentinelsThatDoNotAnswerAreUnavailable) {
  RedisServer plain;
  ASSERT_TRUE(plain.Start());
  StoreConfig c = TcpConfig(0);
  c.redis_host.clear();
  c.redis_sentinels = {{"127.0.0.1", FreePort()}, {"127.0.0.1", plain.port()}};
  c.redis_master_name = "m";
  c.redis_sentinel_password = "SentinelSecret1";
  c.redis_password = "DataSecret2";
  auto store = MustMake(c);
  auto r = store->Get("k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(), "store unavailable: redis sentinel: no sentinel named the master");
  const std::string log = r.status().LogText();
  EXPECT_NE(log.find("127.0.0.1:" + std::to_string(plain.port())), std::string::npos) << log;
  EXPECT_EQ(log.find("Secret"), std::string::npos) << log;
}

}  // namespace
}  // namespace stepca
