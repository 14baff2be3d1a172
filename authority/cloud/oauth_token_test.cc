#include "authority/cloud/oauth_token.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace stepca::cloud {
namespace {

TEST(OAuthToken, ReadsTheTokenEndpointAnswer) {
  auto t = ParseTokenResponse({200, R"({"access_token":"abc","expires_in":3599,"token_type":"Bearer"})"}, "x");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->token, "abc");
  EXPECT_EQ(t->expires_in.count(), 3599);
  auto s = ParseTokenResponse({200, R"({"access_token":"abc","expires_in":"600"})"}, "x");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->expires_in.count(), 600);
}

TEST(OAuthToken, RefusalsAndOutagesAreNamed) {
  auto refused = ParseTokenResponse(
      {401, R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."})"},
      "azurekms: client c");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("azurekms: client c: the token endpoint refused the "
                                            "credentials (HTTP 401: invalid_client: AADSTS7000215"),
            std::string::npos) << refused.status().message();
  auto down = ParseTokenResponse({503, "<html>"}, "x");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), Code::kUnavailable);
  auto empty = ParseTokenResponse({200, R"({"token_type":"Bearer"})"}, "x");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("without access_token"), std::string::npos);
}

TEST(OAuthToken, CacheFetchesOnceUntilForgottenOrExpired) {
  TokenCache cache;
  int fetches = 0;
  auto fetch = [&]() -> Result<AccessToken> {
    ++fetches;
    return AccessToken{"t" + std::to_string(fetches), std::chrono::seconds(3600)};
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] { EXPECT_EQ(cache.Get(fetch).value(), "t1"); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(fetches, 1);
  cache.Forget();
  EXPECT_EQ(cache.Get(fetch).value(), "t2");
  // A token of one second is used for half its life, then fetched again.
  TokenCache short_lived;
  int n = 0;
  auto one_second = [&]() -> Result<AccessToken> {
    ++n;
    return AccessToken{"s" + std::to_string(n), std::chrono::seconds(1)};
  };
  EXPECT_EQ(short_lived.Get(one_second).value(), "s1");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(short_lived.Get(one_second).value(), "s2");
  // A failed fetch is not cached.
  TokenCache failing;
  int tries = 0;
  auto fail = [&]() -> Result<AccessToken> {
    ++tries;
    return Unavailable("down");
  };
  EXPECT_FALSE(failing.Get(fail).ok());
  EXPECT_FALSE(failing.Get(fail).ok());
  EXPECT_EQ(tries, 2);
}

}  // namespace
}  // namespace stepca::cloud
