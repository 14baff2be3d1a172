#include "authority/config/ca_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "authority/testing/fixture_pki.h"

namespace stepca {
namespace {

using testing::FixturePki;

std::string LoadError(const FixturePki& pki, const std::string& password_file) {
  auto cfg = LoadCaConfig({pki.ca_json(), password_file});
  EXPECT_FALSE(cfg.ok());
  return cfg.ok() ? "" : cfg.status().message();
}

void ExpectMentions(const std::string& msg, std::initializer_list<std::string> parts) {
  for (auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
}

TEST(CaConfigTest, LoadsTheCaJsonStepWrote) {
  FixturePki pki;
  auto cfg = LoadCaConfig({pki.ca_json(), pki.password_file()});
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_EQ(cfg->roots.size(), 1u);
  EXPECT_EQ(cfg->intermediates.size(), 1u);
  EXPECT_EQ(cfg->dns_names, (std::vector<std::string>{"localhost", "127.0.0.1"}));
  EXPECT_EQ(cfg->provisioners.size(), 3u);
  EXPECT_EQ(cfg->provisioners.at(0).type_name(), "JWK");
  EXPECT_EQ(cfg->backdate, std::chrono::minutes(1));
  EXPECT_FALSE(cfg->disable_issued_at_check);
  ASSERT_NE(cfg->provisioners.JwkByKid(testing::kProvisionerKid), nullptr);
  // db, address and the not-yet-served types are named in warnings.
  std::string all;
  for (auto& w : cfg->warnings) all += w + "\n";
  EXPECT_NE(all.find("db (badgerv2)"), std::string::npos) << all;
  EXPECT_NE(all.find("address"), std::string::npos) << all;
  // Every field the real step ca init writes is known to the inventory.
  EXPECT_EQ(all.find("unknown field"), std::string::npos) << all;
}

TEST(CaConfigTest, PasswordFromCaJson) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) { json_object_set_new(r, "password", json_string("fixture-ca-password")); });
  auto cfg = LoadCaConfig({pki.ca_json(), ""});
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
}

TEST(CaConfigTest, PasswordFromAuthorityPassword) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_object_set_new(json_object_get(r, "authority"), "password", json_string("fixture-ca-password"));
  });
  auto cfg = LoadCaConfig({pki.ca_json(), ""});
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
}

TEST(CaConfigTest, RejectsBadJson) {
  FixturePki pki;
  testing::WriteFile(pki.ca_json(), "{\"root\": ");
  ExpectMentions(LoadError(pki, pki.password_file()), {pki.ca_json(), "invalid JSON", "line 1"});
}

TEST(CaConfigTest, RejectsUnreadableFile) {
  FixturePki pki;
  auto cfg = LoadCaConfig({pki.dir() + "/config/missing.json", pki.password_file()});
  ASSERT_FALSE(cfg.ok());
  ExpectMentions(cfg.status().message(), {"missing.json", "cannot read"});
}

TEST(CaConfigTest, RejectsUnknownProvisionerType) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_t* p = json_array_get(json_object_get(json_object_get(r, "authority"), "provisioners"), 1);
    json_object_set_new(p, "type", json_string("FOO"));
  });
  ExpectMentions(LoadError(pki, pki.password_file()),
                 {"ca.json", "authority.provisioners[1].type", "unknown provisioner type \"FOO\""});
}

TEST(CaConfigTest, AcceptsProvisionerTypeInAnyCase) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_t* p = json_array_get(json_object_get(json_object_get(r, "authority"), "provisioners"), 0);
    json_object_set_new(p, "type", json_string("jwk"));
  });
  EXPECT_TRUE(LoadCaConfig({pki.ca_json(), pki.password_file()}).ok());
}

TEST(CaConfigTest, RejectsBadDurationInClaims) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_object_set_new(json_object_get(r, "authority"), "claims",
                        json_pack("{s:s}", "maxTLSCertDuration", "forever"));
  });
  ExpectMentions(LoadError(pki, pki.password_file()),
                 {"ca.json", "authority.claims.maxTLSCertDuration", "forever"});
}

TEST(CaConfigTest, RejectsBadDurationInProvisionerClaims) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_t* p = json_array_get(json_object_get(json_object_get(r, "authority"), "provisioners"), 0);
    json_object_set_new(p, "claims", json_pack("{s:s}", "defaultTLSCertDuration", "1x"));
  });
  ExpectMentions(LoadError(pki, pki.password_file()),
                 {"authority.provisioners[0].claims.defaultTLSCertDuration"});
}

TEST(CaConfigTest, RejectsBadBackdate) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_object_set_new(json_object_get(r, "authority"), "backdate", json_string("-1m"));
  });
  ExpectMentions(LoadError(pki, pki.password_file()), {"authority.backdate"});
}

TEST(CaConfigTest, RejectsUnreadableKeyFile) {
  FixturePki pki;
  pki.EditCaJson([&](json_t* r) {
    json_object_set_new(r, "key", json_string((pki.dir() + "/secrets/nope").c_str()));
  });
  ExpectMentions(LoadError(pki, pki.password_file()), {"ca.json", "field \"key\"", "secrets/nope"});
}

TEST(CaConfigTest, RejectsKeyThatDoesNotMatchTheCertificate) {
  FixturePki pki;
  // The root key decrypts with the same password but belongs to the root.
  pki.EditCaJson([&](json_t* r) {
    json_object_set_new(r, "key", json_string((pki.dir() + "/secrets/root_ca_key").c_str()));
  });
  ExpectMentions(LoadError(pki, pki.password_file()), {"field \"key\"", "does not match"});
}

TEST(CaConfigTest, RejectsWrongPassword) {
  FixturePki pki;
  testing::WriteFile(pki.dir() + "/wrong.txt", "not-the-password\n");
  ExpectMentions(LoadError(pki, pki.dir() + "/wrong.txt"), {"field \"key\""});
}

TEST(CaConfigTest, RejectsMissingPassword) {
  FixturePki pki;
  ExpectMentions(LoadError(pki, ""), {"field \"key\"", "no password"});
}

TEST(CaConfigTest, RejectsMissingPasswordFile) {
  FixturePki pki;
  ExpectMentions(LoadError(pki, pki.dir() + "/none.txt"), {"password file", "none.txt"});
}

TEST(CaConfigTest, RejectsMissingRootAndCrt) {
  {
    FixturePki pki;
    pki.EditCaJson([](json_t* r) { json_object_del(r, "root"); });
    ExpectMentions(LoadError(pki, pki.password_file()), {"field \"root\"", "required"});
  }
  {
    FixturePki pki;
    pki.EditCaJson([](json_t* r) { json_object_set_new(r, "crt", json_integer(3)); });
    ExpectMentions(LoadError(pki, pki.password_file()), {"field \"crt\""});
  }
}

TEST(CaConfigTest, RejectsCertificateFromAnotherRoot) {
  FixturePki pki;
  // The intermediate as its own root: the root file then holds a
  // certificate that did not sign the intermediate.
  pki.EditCaJson([&](json_t* r) {
    json_object_set_new(r, "root", json_string((pki.dir() + "/certs/intermediate_ca.crt").c_str()));
  });
  ExpectMentions(LoadError(pki, pki.password_file()), {"field \"crt\"", "does not chain"});
}

TEST(CaConfigTest, RejectsUnknownLoggerFormat) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) { json_object_set_new(r, "logger", json_pack("{s:s}", "format", "xml")); });
  ExpectMentions(LoadError(pki, pki.password_file()), {"logger.format", "xml"});
}

TEST(CaConfigTest, RejectsDuplicateProvisionerNames) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_t* list = json_object_get(json_object_get(r, "authority"), "provisioners");
    json_object_set_new(json_array_get(list, 2), "name", json_string("acme"));
  });
  ExpectMentions(LoadError(pki, pki.password_file()), {"authority.provisioners[2].name", "duplicate"});
}

TEST(CaConfigTest, RejectsPrivateKeyInProvisionerKey) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_t* p = json_array_get(json_object_get(json_object_get(r, "authority"), "provisioners"), 0);
    json_object_set_new(json_object_get(p, "key"), "d", json_string("AAAA"));
  });
  ExpectMentions(LoadError(pki, pki.password_file()), {"authority.provisioners[0].key"});
}

// A pkcs11: key needs the kms object that names its module; a key of a KMS
// scheme this version lacks is refused by scheme, never opened as a file.
TEST(CaConfigTest, RejectsKeyUri) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) { json_object_set_new(r, "key", json_string("pkcs11:token=ca")); });
  ExpectMentions(LoadError(pki, pki.password_file()), {"field \"key\"", "needs a kms object"});
  pki.EditCaJson([](json_t* r) { json_object_set_new(r, "key", json_string("tpmkms:name=1")); });
  ExpectMentions(LoadError(pki, pki.password_file()),
                 {"field \"key\"", "tpmkms:", "not supported", "supported: a PEM file path, pkcs11:"});
  pki.EditCaJson([](json_t* r) { json_object_set_new(r, "key", json_string("awskms:key-id=1")); });
  ExpectMentions(LoadError(pki, pki.password_file()),
                 {"field \"key\"", "a awskms key needs a kms object"});
  pki.EditCaJson([](json_t* r) {
    json_object_set_new(r, "key", json_string("pkcs11:id=7331"));
    json_object_set_new(r, "kms", json_pack("{s:s}", "type", "cloudkms"));
  });
  ExpectMentions(LoadError(pki, pki.password_file()),
                 {"field \"kms.type\"", "\"cloudkms\" does not fit key, a pkcs11 key"});
  pki.EditCaJson([](json_t* r) { json_object_set_new(r, "kms", json_pack("{s:s}", "type", "tpmkms")); });
  ExpectMentions(LoadError(pki, pki.password_file()), {"field \"kms.type\"", "\"tpmkms\" is not supported"});
  pki.EditCaJson([](json_t* r) {
    json_object_set_new(r, "kms", json_pack("{s:s,s:s}", "type", "pkcs11", "uri", "pkcs11:token=ca"));
  });
  ExpectMentions(LoadError(pki, pki.password_file()), {"field \"kms.uri\"", "no module-path"});
}

TEST(CaConfigTest, PasswordFileIsTrimmed) {
  FixturePki pki;
  testing::WriteFile(pki.dir() + "/p.txt", "fixture-ca-password\r\n\n");
  EXPECT_TRUE(LoadCaConfig({pki.ca_json(), pki.dir() + "/p.txt"}).ok());
}

}  // namespace
}  // namespace stepca

namespace stepca {
namespace {

TEST(CaConfigWarningsTest, AcmeIsServedAndOtherUnservedTypesAreNamed) {
  testing::FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_t* list = json_object_get(json_object_get(r, "authority"), "provisioners");
    json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "type", "OIDC", "name", "google",
                                          "clientID", "x", "configurationEndpoint",
                                          "https://127.0.0.1:1/.well-known/openid-configuration"));
  });
  auto cfg = LoadCaConfig({pki.ca_json(), pki.password_file()});
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  std::string all;
  for (auto& w : cfg->warnings) all += w + "\n";
  EXPECT_EQ(all.find("\"acme\""), std::string::npos) << all;
  EXPECT_NE(all.find("OIDC provisioner \"google\""), std::string::npos) << all;
}

}  // namespace
}  // namespace stepca
