#include "authority/provisioner/remote_key_set.h"

#include <gtest/gtest.h>

#include <thread>

namespace stepca {
namespace {

TEST(RemoteKeySetDocuments, DiscoveryAndKeySet) {
  EXPECT_FALSE(ParseOidcDiscovery(R"({"issuer":"x"})").ok());
  EXPECT_FALSE(ParseOidcDiscovery(R"({"jwks_uri":"x"})").ok());
  EXPECT_FALSE(ParseOidcDiscovery(R"({"issuer":"","jwks_uri":"y"})").ok());
  EXPECT_FALSE(ParseOidcDiscovery("not json").ok());
  auto d = ParseOidcDiscovery(R"({"issuer":"x","jwks_uri":"y"})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->issuer, "x");
  EXPECT_EQ(d->jwks_uri, "y");
  // Symmetric and encryption keys are skipped; nothing usable is an error.
  EXPECT_FALSE(ParseJwkSet(R"({"keys":[{"kty":"oct","k":"AAAA"}]})").ok());
  EXPECT_FALSE(ParseJwkSet(R"({"keys":"x"})").ok());
  EXPECT_FALSE(ParseJwkSet(R"({"keys":[]})").ok());
  EXPECT_EQ(CacheMaxAge("public, max-age=60", std::chrono::seconds(5)).count(), 60);
  EXPECT_EQ(CacheMaxAge("no-store", std::chrono::seconds(5)).count(), 5);
  EXPECT_EQ(CacheMaxAge("max-age=-1", std::chrono::seconds(5)).count(), 5);
}

TEST(RemoteKeySet, FailedLoadThenBackgroundRefresh) {
  std::atomic<bool> up{false};
  std::atomic<int> calls{0};
  auto get = [&](const std::string& url) -> Result<HttpDocument> {
    ++calls;
    if (!up) return Unavailable("down");
    EvpPkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    JsonPtr jwk = JwkToJson(k.get(), false, "k1", "ES256").value();
    JsonPtr set(json_pack("{s:[O]}", "keys", jwk.get()));
    char* s = json_dumps(set.get(), JSON_COMPACT);
    HttpDocument d{s, ""};
    free(s);
    return d;
  };
  auto keys = std::make_shared<RemoteKeySet>(RemoteKeySet::Source{"", "https://jwks.test", ""}, get,
                                             std::chrono::seconds(0));
  EXPECT_FALSE(keys->Load().ok());
  EXPECT_FALSE(keys->loaded());
  up = true;
  EXPECT_TRUE(keys->Find("k1").empty());  // schedules a refresh, does not wait
  for (int i = 0; i < 200 && !keys->loaded(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(keys->loaded());
  EXPECT_EQ(keys->Find("k1").size(), 1u);
  EXPECT_TRUE(keys->Find("other").empty());
  EXPECT_EQ(keys->issuer(), "");  // a bare JWKS names no issuer
}

}  // namespace
}  // namespace stepca
