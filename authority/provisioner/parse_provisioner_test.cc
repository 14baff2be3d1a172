#include "authority/provisioner/parse_provisioner.h"

#include <gtest/gtest.h>

#include "authority/jose/jwk.h"
#include "authority/provisioner/acme_provisioner.h"
#include "authority/provisioner/jwk_provisioner.h"
#include "authority/provisioner/listed_provisioner.h"
#include "authority/provisioner/provisioner_collection.h"

namespace stepca {
namespace {

JsonPtr Json(const char* text) { return JsonPtr(json_loads(text, 0, nullptr)); }

// A JWK provisioner entry with a fresh public P-256 key and no kid: the
// parser names it by its thumbprint.
std::string JwkEntry() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  JsonPtr jwk = JwkToJson(key.get(), false, "", "").value();
  json_object_del(jwk.get(), "kid");
  JsonPtr entry(json_pack("{s:s,s:s,s:O}", "type", "JWK", "name", "ops", "key", jwk.get()));
  char* text = json_dumps(entry.get(), JSON_COMPACT);
  std::string out(text);
  free(text);
  return out;
}

Result<std::unique_ptr<Provisioner>> Parse(const std::string& text, std::vector<std::string>* warnings) {
  JsonPtr j = Json(text.c_str());
  return ParseProvisioner(j.get(), "authority.provisioners[0]", Claims{}, warnings);
}

TEST(ParseProvisioner, EachTypeGetsItsOwnImplementation) {
  std::vector<std::string> warnings;
  auto jwk = Parse(JwkEntry(), &warnings);
  ASSERT_TRUE(jwk.ok()) << jwk.status().message();
  const auto* j = dynamic_cast<const JwkProvisioner*>(jwk->get());
  ASSERT_NE(j, nullptr);
  EXPECT_FALSE(j->kid().empty());
  EXPECT_EQ(j->id(), "ops:" + j->kid());

  auto acme = Parse(R"({"type":"acme","name":"a"})", &warnings);
  ASSERT_TRUE(acme.ok());
  EXPECT_NE(dynamic_cast<const AcmeProvisioner*>(acme->get()), nullptr);
  EXPECT_EQ((*acme)->type_name(), "ACME");
  EXPECT_TRUE(warnings.empty());

  // SCEP is listed, refused, and said so.
  auto scep = Parse(R"({"type":"SCEP","name":"scep"})", &warnings);
  ASSERT_TRUE(scep.ok());
  EXPECT_NE(dynamic_cast<const ListedProvisioner*>(scep->get()), nullptr);
  EXPECT_EQ((*scep)->id(), "scep/scep");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("SCEP provisioner \"scep\""), std::string::npos);
  EXPECT_NE(warnings[0].find("refused"), std::string::npos);

  // The token types step-ca requires settings for refuse an entry without them.
  warnings.clear();
  auto oidc = Parse(R"({"type":"OIDC","name":"google"})", &warnings);
  ASSERT_FALSE(oidc.ok());
  EXPECT_NE(oidc.status().message().find("clientID"), std::string::npos);
  auto k8s = Parse(R"({"type":"K8sSA","name":"k"})", &warnings);
  ASSERT_FALSE(k8s.ok());
  EXPECT_NE(k8s.status().message().find("publicKeys"), std::string::npos);
  auto azure = Parse(R"({"type":"Azure","name":"az"})", &warnings);
  ASSERT_FALSE(azure.ok());
  EXPECT_NE(azure.status().message().find("tenantID"), std::string::npos);
  auto aws = Parse(R"({"type":"AWS","name":"aws","instanceAge":"-1h"})", &warnings);
  ASSERT_FALSE(aws.ok());
  EXPECT_NE(aws.status().message().find("instanceAge"), std::string::npos);
}

TEST(ParseProvisioner, SshTemplateOptionsAreNotWarnedAbout) {
  // options.ssh is applied (the config loader reads it: ca_config_test.cc).
  std::vector<std::string> w;
  auto acme = Parse(R"({"type":"ACME","name":"a","options":{"x509":{"template":"{}"},
                        "ssh":{"template":"{}"}}})", &w);
  ASSERT_TRUE(acme.ok()) << acme.status().message();
  EXPECT_TRUE(w.empty());
}

TEST(ParseProvisioner, X509TemplateIsParsedAtLoad) {
  std::vector<std::string> w;
  auto ok = Parse(R"({"type":"ACME","name":"a","options":{"x509":{"template":"{\"subject\": \"x\"}",
                      "templateData":{"k":"v"}}}})", &w);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_TRUE((*ok)->x509_template().custom);
  ASSERT_NE((*ok)->x509_template().data, nullptr);
  auto plain = Parse(R"({"type":"ACME","name":"b"})", &w);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->x509_template().custom);

  auto bad = Parse(R"({"type":"ACME","name":"a","options":{"x509":{"template":"{ {{ end }} }"}}})", &w);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("authority.provisioners[0].options.x509.template"),
            std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("provisioner \"a\""), std::string::npos);
  auto missing = Parse(R"({"type":"ACME","name":"a","options":{"x509":{"templateFile":"/no/such.tpl"}}})", &w);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot read /no/such.tpl"), std::string::npos);
  EXPECT_FALSE(Parse(R"({"type":"ACME","name":"a","options":[]})", &w).ok());
}

TEST(ParseProvisioner, ErrorsNameTheField) {
  std::vector<std::string> w;
  EXPECT_EQ(Parse(R"({"type":"Nope","name":"x"})", &w).status().message(),
            "field \"authority.provisioners[0].type\": unknown provisioner type \"Nope\"");
  EXPECT_EQ(Parse(R"({"type":"JWK"})", &w).status().message(),
            "field \"authority.provisioners[0].name\": missing or empty");
  EXPECT_EQ(Parse(R"({"type":"JWK","name":"x"})", &w).status().message(),
            "field \"authority.provisioners[0].key\": missing or not a JWK object");
  EXPECT_EQ(Parse(R"({"type":"X5C","name":"x"})", &w).status().message(),
            "field \"authority.provisioners[0].roots\": missing or not a string");
}

TEST(ProvisionerCollection, IndexesByNameSelectorAndKidAndRefusesDuplicates) {
  std::vector<std::string> w;
  ProvisionerCollection c;
  auto jwk = Parse(JwkEntry(), &w);
  ASSERT_TRUE(jwk.ok());
  const std::string kid = dynamic_cast<const JwkProvisioner&>(**jwk).kid();
  ASSERT_TRUE(c.Add(std::move(jwk).value(), "p[0]").ok());
  ASSERT_TRUE(c.Add(std::move(Parse(R"({"type":"ACME","name":"a"})", &w)).value(), "p[1]").ok());
  EXPECT_EQ(c.size(), 2u);
  ASSERT_NE(c.JwkByKid(kid), nullptr);
  EXPECT_EQ(c.JwkByKid(kid)->name(), "ops");
  EXPECT_EQ(c.JwkByKid("other"), nullptr);
  EXPECT_EQ(c.BySelector("ops:" + kid), c.ByName("ops"));
  EXPECT_EQ(c.BySelector("acme/a"), c.ByName("a"));
  EXPECT_EQ(c.ByName("nobody"), nullptr);
  Status dup = c.Add(std::move(Parse(R"({"type":"ACME","name":"a"})", &w)).value(), "p[2]");
  EXPECT_EQ(dup.message(), "field \"p[2].name\": duplicate provisioner \"a\"");
}

}  // namespace
}  // namespace stepca
