#include "authority/config/upstream_config.h"

#include <gtest/gtest.h>

#include "authority/ossl.h"

namespace stepca {
namespace {

Result<UpstreamTimeouts> Parse(const char* text) {
  JsonPtr j(json_loads(text, 0, nullptr));
  EXPECT_TRUE(j) << text;
  return ParseUpstreamTimeouts(j.get());
}

TEST(UpstreamConfig, DefaultsWithoutTheField) {
  auto none = ParseUpstreamTimeouts(nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->connect, std::chrono::seconds(5));
  EXPECT_EQ(none->total, std::chrono::seconds(15));
  auto empty = Parse(R"({"crlCheckInterval":"1m"})");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->total, std::chrono::seconds(15));
}

TEST(UpstreamConfig, ReadsBoth) {
  auto t = Parse(R"({"upstream":{"connectTimeout":"250ms","timeout":"3s"}})");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->connect, std::chrono::milliseconds(250));
  EXPECT_EQ(t->total, std::chrono::seconds(3));
}

TEST(UpstreamConfig, RefusesBadValuesNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"upstream":[]})", "field \"nginxStepca.upstream\": must be an object"},
      {R"({"upstream":{"timeout":5}})", "field \"nginxStepca.upstream.timeout\": must be a duration string"},
      {R"({"upstream":{"timeout":"soon"}})", "\"soon\" is not a duration"},
      {R"({"upstream":{"timeout":"0s"}})", "must be at least 1ms"},
      {R"({"upstream":{"timeout":"-1s"}})", "nginxStepca.upstream.timeout"},
      {R"({"upstream":{"connectTimeout":"10m"}})", "must be at most 5m"},
      {R"({"upstream":{"connectTimeout":"10s","timeout":"2s"}})",
       "field \"nginxStepca.upstream.connectTimeout\": must not exceed"},
  };
  for (const auto& [text, words] : cases) {
    auto t = Parse(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().code(), Code::kInvalidArgument) << text;
    EXPECT_NE(t.status().message().find(words), std::string::npos) << text << ": " << t.status().message();
  }
}

Result<std::string> Header(const char* text) {
  JsonPtr j(json_loads(text, 0, nullptr));
  EXPECT_TRUE(j) << text;
  return ParseUpstreamClientCertHeader(j.get());
}

TEST(UpstreamConfig, ClientCertHeaderIsEmptyUnlessGiven) {
  auto none = ParseUpstreamClientCertHeader(nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value(), "");
  auto other = Header(R"({"upstream":{"timeout":"3s"}})");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other.value(), "");
  auto given = Header(R"({"upstream":{"clientCertHeader":"X-Client-Cert"}})");
  ASSERT_TRUE(given.ok()) << given.status().message();
  EXPECT_EQ(given.value(), "X-Client-Cert");
}

TEST(UpstreamConfig, RefusesAClientCertHeaderThatIsNotAName) {
  for (const char* text : {R"({"upstream":{"clientCertHeader":""}})",
                           R"({"upstream":{"clientCertHeader":7}})",
                           R"({"upstream":{"clientCertHeader":"X-A: b"}})",
                           R"({"upstream":{"clientCertHeader":"X-A\r\nX-Injected"}})",
                           R"({"upstream":{"clientCertHeader":"X A"}})"}) {
    auto h = Header(text);
    ASSERT_FALSE(h.ok()) << text;
    EXPECT_EQ(h.status().code(), Code::kInvalidArgument) << text;
    EXPECT_NE(h.status().message().find("field \"nginxStepca.upstream.clientCertHeader\""), std::string::npos)
        << text << ": " << h.status().message();
  }
}

}  // namespace
}  // namespace stepca
