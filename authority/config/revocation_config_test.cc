#include "authority/config/revocation_config.h"

#include <gtest/gtest.h>

#include "authority/ossl.h"

namespace stepca {
namespace {

JsonPtr J(const char* text) {
  json_error_t err;
  JsonPtr j(json_loads(text, JSON_DECODE_ANY, &err));
  EXPECT_TRUE(j) << err.text;
  return j;
}

Result<RevocationConfig> Parse(const char* crl, const char* ext = "null") {
  return ParseRevocationConfig(J(crl).get(), J(ext).get());
}

TEST(RevocationConfig, AbsentMeansOff) {
  auto c = ParseRevocationConfig(nullptr, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->crl.enabled);
  EXPECT_FALSE(c->ocsp.enabled);
}

TEST(RevocationConfig, CrlBlockWithStepCaDefaults) {
  auto c = Parse(R"({"enabled":true})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->crl.enabled);
  EXPECT_FALSE(c->crl.generate_on_revoke);
  EXPECT_EQ(c->crl.cache_duration, std::chrono::hours(24));
  EXPECT_EQ(c->crl.renew_period, std::chrono::hours(16));  // two thirds
  EXPECT_EQ(c->crl.check_interval, std::chrono::seconds(1));
  c = Parse(R"({"enabled":true,"generateOnRevoke":true,"cacheDuration":"1h","renewPeriod":"10m",
               "idpURL":"http://ca.example/1.0/crl"})",
            R"({"crlCheckInterval":"250ms"})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->crl.generate_on_revoke);
  EXPECT_EQ(c->crl.cache_duration, std::chrono::hours(1));
  EXPECT_EQ(c->crl.renew_period, std::chrono::minutes(10));
  EXPECT_EQ(c->crl.idp_url, "http://ca.example/1.0/crl");
  EXPECT_EQ(c->crl.check_interval, std::chrono::milliseconds(250));
}

TEST(RevocationConfig, BadCrlFieldsAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"("yes")", "field \"crl\": must be an object"},
      {R"({"enabled":"true"})", "field \"crl.enabled\": must be true or false"},
      {R"({"cacheDuration":"1 day"})", "field \"crl.cacheDuration\": \"1 day\" is not a duration"},
      {R"({"cacheDuration":"-1h"})", "field \"crl.cacheDuration\": must be positive"},
      {R"({"cacheDuration":"1h","renewPeriod":"1h"})", "field \"crl.renewPeriod\": must be shorter"},
      {R"({"idpURL":"ldap://x"})", "field \"crl.idpURL\": must be an http"},
      {R"({"idpURL":"http://a b"})", "field \"crl.idpURL\": must be plain ASCII"},
  };
  for (const auto& [crl, want] : cases) {
    auto c = Parse(crl);
    ASSERT_FALSE(c.ok()) << crl;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(c.status().message().rfind(want, 0), 0u) << c.status().message();
  }
}

TEST(RevocationConfig, OcspExtension) {
  auto c = Parse("null", R"({"ocsp":{}})");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->ocsp.enabled);
  EXPECT_EQ(c->ocsp.path, "/ocsp");
  EXPECT_EQ(c->ocsp.validity, std::chrono::hours(1));
  c = Parse("null", R"({"ocsp":{"path":"/status/ocsp/","url":"https://ocsp.example/status/ocsp","validity":"30m"}})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->ocsp.path, "/status/ocsp");
  EXPECT_EQ(c->ocsp.url, "https://ocsp.example/status/ocsp");
  EXPECT_EQ(c->ocsp.validity, std::chrono::minutes(30));
  c = Parse("null", R"({"ocsp":{"enabled":false}})");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->ocsp.enabled);
}

TEST(RevocationConfig, BadOcspFieldsAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"([])", "field \"nginxStepca\": must be an object"},
      {R"({"ocsp":1})", "field \"nginxStepca.ocsp\": must be an object"},
      {R"({"ocsp":{"path":"ocsp"}})", "field \"nginxStepca.ocsp.path\": must be a path"},
      {R"({"ocsp":{"path":"/1.0"}})", "field \"nginxStepca.ocsp.path\": \"/1.0\" is a CA API path"},
      {R"({"ocsp":{"path":"/"}})", "field \"nginxStepca.ocsp.path\": \"/\" is a CA API path"},
      {R"({"ocsp":{"url":"ocsp.example"}})", "field \"nginxStepca.ocsp.url\": must be an http"},
      {R"({"ocsp":{"validity":"0s"}})", "field \"nginxStepca.ocsp.validity\": must be positive"},
      {R"({"crlCheckInterval":"2h"})", "field \"nginxStepca.crlCheckInterval\": must be at most 1h"},
      {R"({"ocsp":{"responderCert":"r.crt"}})",
       "field \"nginxStepca.ocsp.responderKey\": responderCert and responderKey go together"},
      {R"({"ocsp":{"responderKey":"r.key"}})",
       "field \"nginxStepca.ocsp.responderCert\": responderCert and responderKey go together"},
      {R"({"ocsp":{"responderCert":1,"responderKey":"r.key"}})", "field \"nginxStepca.ocsp.responderCert\""},
  };
  for (const auto& [ext, want] : cases) {
    auto c = Parse("null", ext);
    ASSERT_FALSE(c.ok()) << ext;
    EXPECT_EQ(c.status().message().rfind(want, 0), 0u) << c.status().message();
  }
}

}  // namespace
}  // namespace stepca
