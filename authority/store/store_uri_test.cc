#include <gtest/gtest.h>

#include <string>

#include "authority/store/store.h"

namespace stepca {
namespace {

using std::chrono::milliseconds;

StoreConfig MustParse(const std::string& uri) {
  auto r = ParseStoreUri(uri);
  EXPECT_TRUE(r.ok()) << uri << ": " << r.status().message();
  return r.ok() ? r.value() : StoreConfig();
}

TEST(ParseStoreUriTest, Lmdb) {
  StoreConfig c = MustParse("lmdb:/var/lib/nginx-stepca");
  EXPECT_EQ(c.kind, StoreConfig::Kind::kLmdb);
  EXPECT_EQ(c.lmdb_dir, "/var/lib/nginx-stepca");
  EXPECT_EQ(c.lmdb_map_size, size_t{1} << 30);

  EXPECT_EQ(MustParse("lmdb:///var/lib/x/").lmdb_dir, "/var/lib/x");
  EXPECT_EQ(MustParse("lmdb:/a%20b").lmdb_dir, "/a b");
  EXPECT_EQ(MustParse("lmdb:/d?map_size=1048576").lmdb_map_size, size_t{1} << 20);
  EXPECT_EQ(MustParse("lmdb:/d?map_size=4g").lmdb_map_size, size_t{4} << 30);
  EXPECT_EQ(MustParse("lmdb:/d?map_size=512M").lmdb_map_size, size_t{512} << 20);
}

TEST(ParseStoreUriTest, LmdbErrors) {
  struct Case {
    const char* uri;
    const char* part;
  } cases[] = {
      {"lmdb:", "no directory"},
      {"lmdb:relative/dir", "absolute"},
      {"lmdb://host/dir", "host"},
      {"lmdb:/d?map_size=", "map_size"},
      {"lmdb:/d?map_size=abc", "map_size"},
      {"lmdb:/d?map_size=1000", "map_size"},         // below 1 MiB
      {"lmdb:/d?map_size=99999999999999999999999", "map_size"},
      {"lmdb:/d?map_size=1g&map_size=2g", "duplicate"},
      {"lmdb:/d?mapsize=1g", "unknown query parameter \"mapsize\""},
      {"lmdb:/d?map_size", "needs a value"},
      {"lmdb:/a%2", "percent"},
      {"lmdb:/a%zz", "percent"},
      {"lmdb:/a b", "space"},
  };
  for (const Case& c : cases) {
    auto r = ParseStoreUri(c.uri);
    ASSERT_FALSE(r.ok()) << c.uri;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.uri;
    EXPECT_NE(r.status().message().find(c.part), std::string::npos)
        << c.uri << " -> " << r.status().message();
  }
}

TEST(ParseStoreUriTest, RedisTcp) {
  StoreConfig c = MustParse("redis://redis.internal");
  EXPECT_EQ(c.kind, StoreConfig::Kind::kRedis);
  EXPECT_EQ(c.redis_host, "redis.internal");
  EXPECT_EQ(c.redis_port, 6379);
  EXPECT_EQ(c.redis_db, 0);
  EXPECT_EQ(c.redis_password, "");
  EXPECT_EQ(c.redis_prefix, "stepca:");
  EXPECT_EQ(c.redis_timeout, milliseconds(1000));

  c = MustParse(
      "redis://alice:s%40cret@10.0.0.5:6380/3?timeout=500ms&connect_timeout=2s"
      "&prefix=ca1:");
  EXPECT_EQ(c.redis_host, "10.0.0.5");
  EXPECT_EQ(c.redis_port, 6380);
  EXPECT_EQ(c.redis_db, 3);
  EXPECT_EQ(c.redis_username, "alice");
  EXPECT_EQ(c.redis_password, "s@cret");
  EXPECT_EQ(c.redis_timeout, milliseconds(500));
  EXPECT_EQ(c.redis_connect_timeout, milliseconds(2000));
  EXPECT_EQ(c.redis_prefix, "ca1:");

  c = MustParse("redis://:pw@host/");
  EXPECT_EQ(c.redis_username, "");
  EXPECT_EQ(c.redis_password, "pw");
  EXPECT_EQ(c.redis_db, 0);

  c = MustParse("redis://[::1]:7000?timeout=1.5s");
  EXPECT_EQ(c.redis_host, "::1");
  EXPECT_EQ(c.redis_port, 7000);
  EXPECT_EQ(c.redis_timeout, milliseconds(1500));

  // An unencoded '@' in the password: the last '@' ends the userinfo.
  EXPECT_EQ(MustParse("redis://:p@ss@h").redis_password, "p@ss");
  EXPECT_EQ(MustParse("redis://h?timeout=1m30s").redis_timeout,
            milliseconds(90000));
  EXPECT_EQ(MustParse("redis://h?prefix=").redis_prefix, "");
  EXPECT_EQ(MustParse("redis://h?db=2").redis_db, 2);
}

TEST(ParseStoreUriTest, RedisUnix) {
  for (const char* uri : {"unix:///run/redis/redis.sock?db=1&password=pw&timeout=250ms",
                          "redis+unix:///run/redis/redis.sock?db=1&password=pw&timeout=250ms"}) {
    StoreConfig c = MustParse(uri);
    EXPECT_EQ(c.kind, StoreConfig::Kind::kRedis);
    EXPECT_EQ(c.redis_unix_socket, "/run/redis/redis.sock");
    EXPECT_EQ(c.redis_host, "");
    EXPECT_EQ(c.redis_db, 1);
    EXPECT_EQ(c.redis_password, "pw");
    EXPECT_EQ(c.redis_timeout, milliseconds(250));
  }
  EXPECT_EQ(MustParse("unix:///s.sock").redis_db, 0);
}

TEST(ParseStoreUriTest, RedisErrors) {
  struct Case {
    const char* uri;
    const char* part;
  } cases[] = {
      {"", "empty"},
      {"mysql://h", "unknown scheme \"mysql\""},
      {"rediss://h", "TLS"},
      {"rediss://h?tls_ca_file=ca.pem", "absolute"},
      {"rediss://h?tls_ca_file=/ca.pem&tls_cert_file=/c.pem", "go together"},
      {"redis://h?tls_ca_file=/ca.pem", "needs rediss"},
      {"redis://", "no host"},
      {"redis://:6379", "no host"},
      {"redis://h:", "empty redis port"},
      {"redis://h:0", "port"},
      {"redis://h:65536", "port"},
      {"redis://h:12x", "port"},
      {"redis://h/x", "db"},
      {"redis://h/1?db=2", "both"},
      {"redis://h?timeout=5", "timeout"},
      {"redis://h?timeout=0s", "timeout"},
      {"redis://h?timeout=2h", "timeout"},
      {"redis://h?timeout=-1s", "timeout"},
      {"redis://h?connect_timeout=fast", "connect_timeout"},
      {"redis://h?ttl=1", "unknown query parameter"},
      {"redis://h?prefix=a&prefix=b", "duplicate"},
      {"redis://h#frag", "fragment"},
      {"redis://h?username=bob", "needs a password"},
      {"redis://ho$t", "host"},
      {"redis://[::1", "unterminated"},
      {"unix://", "unix:///absolute/path"},
      {"unix://host/sock", "unix:///absolute/path"},
      {"unix:///run/", "no socket file name"},
      {"unix:///s?db=x", "db"},
  };
  for (const Case& c : cases) {
    auto r = ParseStoreUri(c.uri);
    ASSERT_FALSE(r.ok()) << c.uri;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.uri;
    EXPECT_NE(r.status().message().find(c.part), std::string::npos)
        << c.uri << " -> " << r.status().message();
  }
}

// Whatever is wrong, the password (or a piece of it) is not in the message.
TEST(ParseStoreUriTest, PasswordNeverInError) {
  const char* secret = "Hunter2Secret";
  const std::string uris[] = {
      "redis://Hunter2Secret@h",                      // no colon
      "redis://u:Hunter2Secret@h:99999",
      "redis://u:Hunter2Secret@h/notadb",
      "redis://u:Hunter2Secret@h?timeout=Hunter2Secret",
      "redis://u:Hunter2Secret@h?Hunter2Secret=1",
      "redis://u:Hunter2Secret@h?password=x",          // given twice
      "redis://:Hunter2/Secret@h",                     // unencoded '/'
      "redis://:Hunter2?Secret@h",                     // unencoded '?'
      "redis://:Hunter2:Secret@",                      // no host
      "redis://:Hunter2%zzSecret@h",                   // bad encoding
      "unix:///s?password=Hunter2Secret&db=x",
      "unix:///s?password=Hunter2Secret&bogus=1",
      "rediss://:Hunter2Secret@h",
      "foo://:Hunter2Secret@h",
      "redis+unix://:Hunter2Secret@/s",
  };
  for (const std::string& uri : uris) {
    auto r = ParseStoreUri(uri);
    ASSERT_FALSE(r.ok()) << uri;
    const std::string& m = r.status().message();
    EXPECT_EQ(m.find("Hunter"), std::string::npos) << uri << " -> " << m;
    EXPECT_EQ(m.find("Secret"), std::string::npos) << uri << " -> " << m;
    EXPECT_EQ(m.find(secret), std::string::npos);
  }
}

TEST(ParseStoreUriTest, RedisWaitForReplicas) {
  StoreConfig c = MustParse("redis://127.0.0.1/0?wait=2&wait_timeout=200ms&timeout=1s");
  EXPECT_EQ(c.redis_wait_replicas, 2);
  EXPECT_EQ(c.redis_wait_timeout, milliseconds(200));
  EXPECT_EQ(MustParse("redis://h").redis_wait_replicas, 0);
  for (const char* bad : {"redis://h?wait=x", "redis://h?wait=-1", "redis://h?wait=101",
                          "redis://h?wait=1&wait_timeout=0s",
                          "redis://h?wait=1&wait_timeout=2s&timeout=1s"}) {
    auto r = ParseStoreUri(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("wait"), std::string::npos) << r.status().message();
  }
}

TEST(ParseStoreUriTest, RedisSentinel) {
  StoreConfig c = MustParse(
      "redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2,[::1]:5000/mymaster/3"
      "?sentinel_password=sp&timeout=2s&wait=1");
  EXPECT_EQ(c.kind, StoreConfig::Kind::kRedis);
  ASSERT_EQ(c.redis_sentinels.size(), 3u);
  EXPECT_EQ(c.redis_sentinels[0].host, "10.0.0.1");
  EXPECT_EQ(c.redis_sentinels[0].port, 26379);
  EXPECT_EQ(c.redis_sentinels[1].port, 26379);  // the sentinel default
  EXPECT_EQ(c.redis_sentinels[2].host, "::1");
  EXPECT_EQ(c.redis_sentinels[2].port, 5000);
  EXPECT_EQ(c.redis_master_name, "mymaster");
  EXPECT_EQ(c.redis_db, 3);
  EXPECT_EQ(c.redis_password, "pw");
  EXPECT_EQ(c.redis_sentinel_password, "sp");
  EXPECT_EQ(c.redis_wait_replicas, 1);
  EXPECT_EQ(MustParse("redis+sentinel://h/m").redis_db, 0);
  // Sentinel options belong to sentinel URIs only.
  EXPECT_FALSE(ParseStoreUri("redis://h?sentinel_password=x").ok());
  for (const char* bad : {"redis+sentinel://h", "redis+sentinel://h/", "redis+sentinel://h,/m",
                          "redis+sentinel://,h/m", "redis+sentinel://h:0/m",
                          "redis+sentinel://h/m x", "redis+sentinel://h/m/x",
                          "redis+sentinel://h/m?sentinel_username=u",
                          "redis+sentinel://h/m?sentinel_password="}) {
    EXPECT_FALSE(ParseStoreUri(bad).ok()) << bad;
  }
  // No secret in an error.
  auto r = ParseStoreUri("redis+sentinel://:Hunter2Secret@h/m?sentinel_password=S3cr3tS&bogus=1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("Hunter2Secret"), std::string::npos);
  EXPECT_EQ(r.status().message().find("S3cr3tS"), std::string::npos);
}

TEST(ParseStoreUriTest, RedisTls) {
  StoreConfig c = MustParse(
      "rediss://:pw@redis.example.test:6380/2?tls_ca_file=/etc/ca.pem&tls_cert_file=/c.pem"
      "&tls_key_file=/k.pem&tls_server_name=other.test");
  EXPECT_TRUE(c.redis_tls);
  EXPECT_EQ(c.redis_host, "redis.example.test");
  EXPECT_EQ(c.redis_port, 6380);
  EXPECT_EQ(c.redis_tls_ca_file, "/etc/ca.pem");
  EXPECT_EQ(c.redis_tls_cert_file, "/c.pem");
  EXPECT_EQ(c.redis_tls_key_file, "/k.pem");
  EXPECT_EQ(c.redis_tls_server_name, "other.test");
  EXPECT_FALSE(MustParse("redis://h").redis_tls);
  StoreConfig s = MustParse("rediss+sentinel://a:1,b:2/m?tls_ca_file=/ca.pem");
  EXPECT_TRUE(s.redis_tls);
  EXPECT_EQ(s.redis_sentinels.size(), 2u);
  EXPECT_EQ(s.redis_master_name, "m");
}

}  // namespace
}  // namespace stepca
