#include "authority/admin/linkedca.h"

#include <gtest/gtest.h>

#include "shared/base64.h"

namespace stepca::admin {
namespace {

JsonPtr Load(const char* text) {
  json_error_t err;
  return JsonPtr(json_loads(text, 0, &err));
}

JsonPtr JwkLinkedca(const std::string& name) {
  const std::string pub = R"({"kty":"EC","crv":"P-256","kid":"k1","x":"x","y":"y"})";
  JsonPtr p(json_object());
  json_object_set_new(p.get(), "name", json_string(name.c_str()));
  json_object_set_new(p.get(), "type", json_string("JWK"));
  json_object_set_new(p.get(), "details",
                      json_pack("{s:{s:s,s:s}}", "JWK", "publicKey", Base64Encode(pub).c_str(),
                                "encryptedPrivateKey", Base64Encode("a.b.c.d.e").c_str()));
  return p;
}

TEST(Linkedca, JwkBecomesTheCaJsonEntry) {
  JsonPtr p = JwkLinkedca("ops");
  json_object_set_new(p.get(), "claims",
                      json_pack("{s:{s:b,s:{s:s,s:s}},s:b,s:{s:b}}", "x509", "enabled", 1,
                                "durations", "default", "5m", "max", "1h", "disableRenewal", 1,
                                "ssh", "enabled", 0));
  auto c = ToConfigProvisioner(p.get());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_STREQ(json_string_value(json_object_get(c->get(), "type")), "JWK");
  EXPECT_STREQ(json_string_value(json_object_get(c->get(), "name")), "ops");
  EXPECT_STREQ(json_string_value(json_object_get(json_object_get(c->get(), "key"), "kid")), "k1");
  EXPECT_STREQ(json_string_value(json_object_get(c->get(), "encryptedKey")), "a.b.c.d.e");
  const json_t* claims = json_object_get(c->get(), "claims");
  EXPECT_STREQ(json_string_value(json_object_get(claims, "defaultTLSCertDuration")), "5m");
  EXPECT_STREQ(json_string_value(json_object_get(claims, "maxTLSCertDuration")), "1h");
  EXPECT_EQ(json_object_get(claims, "minTLSCertDuration"), nullptr);
  EXPECT_TRUE(json_is_true(json_object_get(claims, "disableRenewal")));
  EXPECT_TRUE(json_is_false(json_object_get(claims, "enableSSHCA")));
}

TEST(Linkedca, TypeByNumberAndTemplates) {
  JsonPtr p = JwkLinkedca("ops");
  json_object_set_new(p.get(), "type", json_integer(1));
  json_object_set_new(p.get(), "x509Template",
                      json_pack("{s:s,s:s}", "template", Base64Encode("{\"subject\":{}}").c_str(),
                                "data", Base64Encode("{\"a\":1}").c_str()));
  auto c = ToConfigProvisioner(p.get());
  ASSERT_TRUE(c.ok()) << c.status().message();
  const json_t* x509 = json_object_get(json_object_get(c->get(), "options"), "x509");
  EXPECT_STREQ(json_string_value(json_object_get(x509, "template")), "{\"subject\":{}}");
  EXPECT_EQ(json_integer_value(json_object_get(json_object_get(x509, "templateData"), "a")), 1);
}

TEST(Linkedca, AcmeAndX5cDetails) {
  auto acme = ToConfigProvisioner(
      Load(R"({"name":"a","type":"ACME","details":{"ACME":{"forceCn":false}}})").get());
  ASSERT_TRUE(acme.ok()) << acme.status().message();
  EXPECT_STREQ(json_string_value(json_object_get(acme->get(), "type")), "ACME");
  EXPECT_EQ(json_object_get(acme->get(), "requireEAB"), nullptr);
  const std::string pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----";
  JsonPtr x5c(json_pack("{s:s,s:s,s:{s:{s:[s]}}}", "name", "x", "type", "X5C", "details", "X5C",
                        "roots", Base64Encode(pem).c_str()));
  auto x = ToConfigProvisioner(x5c.get());
  ASSERT_TRUE(x.ok()) << x.status().message();
  EXPECT_EQ(*Base64Decode(json_string_value(json_object_get(x->get(), "roots"))), pem + "\n");
}

TEST(Linkedca, RefusesWhatCannotBeServed) {
  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {R"({"name":"o","type":"OIDC","details":{"OIDC":{}}})", "provisioner type OIDC is not supported by this CA"},
      {R"({"name":"o","type":"NOPE"})", "provisioner type is missing or unknown"},
      {R"({"name":"o"})", "provisioner type is missing or unknown"},
      {R"({"type":"JWK","details":{"JWK":{}}})", "provisioner name cannot be empty"},
      {R"({"name":"o","type":"JWK"})", "JWK provisioner details are missing"},
      {R"({"name":"o","type":"JWK","details":{"JWK":{"publicKey":"!!"}}})", "details.JWK.publicKey is not base64"},
      {R"({"name":"o","type":"JWK","details":{"JWK":{"publicKey":"bm90IGpzb24="}}})", "details.JWK.publicKey must be a JSON web key"},
      {R"({"name":"o","type":"X5C","details":{"X5C":{"roots":[]}}})", "X5C provisioner details.X5C.roots cannot be empty"},
      {R"({"name":"o","type":"ACME","claims":{"x509":{"durations":{"max":5}}}})", "claims: max must be a string"},
      {R"({"name":"o","type":"ACME","claims":[]})", "claims must be an object"},
      {R"({"name":"o","type":"ACME","details":{"ACME":{"requireEab":true}}})",
       "details.ACME.requireEab is not supported through the admin API; configure such an ACME provisioner in ca.json"},
      {R"({"name":"o","type":"ACME","policy":{"x509":{"allow":{"dns":["a"]}}}})",
       "policy is not supported through the admin API; configure such a provisioner in ca.json"},
      {R"({"name":"o","type":"ACME","sshTemplate":{"template":"e30="}})",
       "sshTemplate is not supported through the admin API; configure such a provisioner in ca.json"},
      {R"({"name":"o","type":"ACME","details":{"ACME":{"forceCn":true}}})",
       "details.ACME.forceCn is not supported through the admin API; configure such an ACME provisioner in ca.json"},
  };
  for (const auto& c : cases) {
    JsonPtr body = Load(c.body);
    ASSERT_TRUE(body) << c.body;
    auto r = ToConfigProvisioner(body.get());
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.body;
    EXPECT_EQ(r.status().message(), c.message) << c.body;
  }
  auto r = ToConfigProvisioner(nullptr);
  EXPECT_FALSE(r.ok());
}

TEST(Linkedca, AdminTypes) {
  JsonPtr s(json_string("SUPER_ADMIN")), a(json_string("ADMIN")), two(json_integer(2)),
      one(json_integer(1)), zero(json_integer(0)), unknown(json_string("UNKNOWN")),
      other(json_string("root"));
  EXPECT_EQ(ReadAdminType(s.get()).value(), AdminType::kSuperAdmin);
  EXPECT_EQ(ReadAdminType(a.get()).value(), AdminType::kAdmin);
  EXPECT_EQ(ReadAdminType(two.get()).value(), AdminType::kSuperAdmin);
  EXPECT_EQ(ReadAdminType(one.get()).value(), AdminType::kAdmin);
  for (json_t* bad : {zero.get(), unknown.get(), other.get(), static_cast<json_t*>(nullptr)}) {
    auto r = ReadAdminType(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "invalid value for admin type");
  }
  EXPECT_STREQ(AdminTypeName(AdminType::kSuperAdmin), "SUPER_ADMIN");
}

}  // namespace
}  // namespace stepca::admin
