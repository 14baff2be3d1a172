#include "authority/config/ra_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "authority/config/ca_config.h"
#include "authority/ossl.h"
#include "authority/testing/fixture_pki.h"

namespace stepca {
namespace {

using testing::FixturePki;

constexpr char kFp[] = "d84b9c67692510df7ab84b74c092e9e6b0d0ab1223fdcbefe0bf552705853206";

JsonPtr Parse(const std::string& text) {
  json_error_t err;
  JsonPtr j(json_loads(text.c_str(), 0, &err));
  EXPECT_TRUE(j) << err.text;
  return j;
}

Result<RaConfig> ParseText(const std::string& authority, const std::string& password_file = "") {
  JsonPtr j = Parse(authority);
  return ParseRaConfig(j.get(), {"/etc/ca.json", "/etc", password_file});
}

std::string StepCasJson(const std::string& issuer,
                        const std::string& url = "https://ca.example.test:9000") {
  return R"({"type":"stepcas","certificateAuthority":")" + url +
         R"(","certificateAuthorityFingerprint":")" + kFp +
         R"(","certificateIssuer":)" + issuer + "}";
}

void ExpectError(const Result<RaConfig>& r, std::initializer_list<std::string> parts) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  for (auto& p : parts)
    EXPECT_NE(r.status().message().find(p), std::string::npos)
        << "'" << p << "' not in: " << r.status().message();
}

TEST(RaConfig, AbsentEmptyAndSoftcasAreTheLocalCa) {
  for (const char* a : {R"({})", R"({"type":""})", R"({"type":"softcas"})", R"({"type":"SoftCAS"})"}) {
    auto r = ParseText(a);
    ASSERT_TRUE(r.ok()) << a << ": " << r.status().message();
    EXPECT_FALSE(r->is_ra()) << a;
  }
  auto none = ParseRaConfig(nullptr, {"/etc/ca.json", "/etc", ""});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->is_ra());
}

TEST(RaConfig, StepCasWithAJwkIssuer) {
  auto r = ParseText(StepCasJson(R"({"type":"JWK","provisioner":"ra@example.test","password":"pw"})",
                                 "https://ca.example.test:9000/"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->type, CaServiceType::kStepCas);
  EXPECT_TRUE(r->is_ra());
  EXPECT_EQ(r->certificate_authority, "https://ca.example.test:9000");  // no trailing slash
  EXPECT_EQ(r->fingerprint, kFp);
  EXPECT_EQ(r->issuer.type, "jwk");
  EXPECT_EQ(r->issuer.provisioner, "ra@example.test");
  EXPECT_EQ(r->issuer.password, "pw");
  EXPECT_EQ(r->issuer.key_path, "");
}

TEST(RaConfig, TheTypeIsCaseInsensitiveAsInStepCa) {
  auto r = ParseText(R"({"type":"StepCAS","certificateAuthority":"https://ca","certificateAuthorityFingerprint":")" +
                     std::string(kFp) + R"(","certificateIssuer":{"type":"jwk","provisioner":"p","password":"x"}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->type, CaServiceType::kStepCas);
  EXPECT_EQ(r->type_name, "StepCAS");
}

TEST(RaConfig, TheIssuerPasswordFileWinsOverThePasswordField) {
  FixturePki pki;
  const std::string file = pki.dir() + "/issuer-password.txt";
  std::ofstream(file) << "from-the-file\n";
  auto r = ParseText(StepCasJson(R"({"type":"jwk","provisioner":"p","password":"from-json"})"), file);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->issuer.password, "from-the-file");
  ExpectError(ParseText(StepCasJson(R"({"type":"jwk","provisioner":"p"})"), pki.dir() + "/absent"),
              {"issuer password file", "/absent"});
}

TEST(RaConfig, StepCasWithAnX5cIssuerResolvesItsFiles) {
  auto r = ParseText(StepCasJson(R"({"type":"x5c","provisioner":"X5C","crt":"certs/ra.crt","key":"/k/ra.key"})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->issuer.type, "x5c");
  EXPECT_EQ(r->issuer.crt_path, "/etc/certs/ra.crt");
  EXPECT_EQ(r->issuer.key_path, "/k/ra.key");
  EXPECT_EQ(r->issuer.password, "");  // an unencrypted key needs none
}

TEST(RaConfig, RefusesWhatStepCasCannotRunWith) {
  ExpectError(ParseText(R"({"type":"stepcas","certificateAuthorityFingerprint":"x"})"),
              {"/etc/ca.json: field \"authority.certificateAuthority\": is required"});
  ExpectError(ParseText(StepCasJson(R"({"type":"jwk","provisioner":"p","password":"x"})",
                                    "http://ca.example.test")),
              {"authority.certificateAuthority", "https://"});
  ExpectError(ParseText(R"({"type":"stepcas","certificateAuthority":"https://ca"})"),
              {"authority.certificateAuthorityFingerprint\": is required"});
  ExpectError(ParseText(R"({"type":"stepcas","certificateAuthority":"https://ca","certificateAuthorityFingerprint":"abc"})"),
              {"authority.certificateAuthorityFingerprint", "64"});
  ExpectError(ParseText(R"({"type":"stepcas","certificateAuthority":"https://ca","certificateAuthorityFingerprint":")" +
                        std::string(kFp) + R"("})"),
              {"authority.certificateIssuer\": is required"});
  ExpectError(ParseText(StepCasJson(R"({"type":"oidc","provisioner":"p"})")),
              {"authority.certificateIssuer.type", "\"jwk\" or \"x5c\""});
  ExpectError(ParseText(StepCasJson(R"({"type":"jwk"})")),
              {"authority.certificateIssuer.provisioner\": is required"});
  ExpectError(ParseText(StepCasJson(R"({"type":"jwk","provisioner":"p"})")),
              {"authority.certificateIssuer.password", "stepca_issuer_password_file"});
  ExpectError(ParseText(StepCasJson(R"({"type":"x5c","provisioner":"p","key":"k"})")),
              {"authority.certificateIssuer.crt\": is required"});
  ExpectError(ParseText(StepCasJson(R"({"type":"x5c","provisioner":"p","crt":"c"})")),
              {"authority.certificateIssuer.key\": is required"});
  ExpectError(ParseText(StepCasJson(R"({"type":"jwk","provisioner":"p","password":"x","crt":"c"})")),
              {"authority.certificateIssuer.crt", "x5c"});
}

TEST(RaConfig, UnknownTypesFail) {
  ExpectError(ParseText(R"({"type":"hsmcas"})"),
              {"field \"authority.type\": unknown type \"hsmcas\"", "stepcas", "vaultcas"});
  ExpectError(ParseText(R"({"type":7})"), {"authority.type\": must be a string"});
}

std::string VaultJson(const std::string& config, const std::string& url = "http://127.0.0.1:8200") {
  return R"({"type":"vaultcas","certificateAuthority":")" + url +
         R"(","certificateAuthorityFingerprint":")" + kFp + R"(","config":)" + config + "}";
}

// step-ca's defaults: mount "pki", role "default" for every key type, the
// auth mount named after the auth type.
TEST(RaConfig, VaultDefaultsAreStepCas) {
  auto r = ParseText(VaultJson(R"({"authType":"AppRole","authOptions":{"roleID":"r","secretID":"s"}})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->type, CaServiceType::kVaultCas);
  EXPECT_EQ(r->vault.pki_mount_path, "pki");
  EXPECT_EQ(r->vault.role_default, "default");
  EXPECT_EQ(r->vault.role_rsa, "default");
  EXPECT_EQ(r->vault.role_ec, "default");
  EXPECT_EQ(r->vault.role_ed25519, "default");
  EXPECT_EQ(r->vault.auth_type, "approle");
  EXPECT_EQ(r->vault.auth_mount_path, "approle");
  EXPECT_EQ(r->vault.role_id, "r");
  EXPECT_EQ(r->vault.secret_id, "s");
  EXPECT_FALSE(r->vault.is_wrapping_token);
}

TEST(RaConfig, VaultEveryField) {
  auto r = ParseText(VaultJson(R"({"pkiMountPath":"/pki_int1/","pkiRoleDefault":"d","pkiRoleRSA":"rsa",
      "pkiRoleEC":"ec","authType":"approle","authMountPath":"ar","namespace":"a/b/",
      "authOptions":{"roleID":"r","secretID":"hvs.wrapped","isWrappingToken":true}})",
                               "https://vault.example.test:8200/"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->certificate_authority, "https://vault.example.test:8200");
  EXPECT_EQ(r->fingerprint, kFp);
  EXPECT_EQ(r->vault.pki_mount_path, "pki_int1");
  EXPECT_EQ(r->vault.role_rsa, "rsa");
  EXPECT_EQ(r->vault.role_ec, "ec");
  EXPECT_EQ(r->vault.role_ed25519, "d");
  EXPECT_EQ(r->vault.auth_mount_path, "ar");
  EXPECT_EQ(r->vault.vault_namespace, "a/b");
  EXPECT_TRUE(r->vault.is_wrapping_token);
  EXPECT_EQ(r->vault.secret_id_field, "authority.config.authOptions.secretID");
}

TEST(RaConfig, VaultSecretIdFromAFileOrTheEnvironment) {
  const std::string path = ::testing::TempDir() + "/vault-secret-id";
  std::ofstream(path) << "from-the-file\n";
  auto f = ParseText(VaultJson(R"({"authType":"approle","authOptions":{"roleID":"r","secretIDFile":")" +
                               path + R"("}})"));
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->vault.secret_id, "from-the-file");
  EXPECT_EQ(f->vault.secret_id_field, "authority.config.authOptions.secretIDFile");
  setenv("STEPCA_TEST_VAULT_SECRET", "from-the-env", 1);
  auto e = ParseText(VaultJson(
      R"({"authType":"approle","authOptions":{"roleID":"r","secretIDEnv":"STEPCA_TEST_VAULT_SECRET"}})"));
  unsetenv("STEPCA_TEST_VAULT_SECRET");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->vault.secret_id, "from-the-env");
  ExpectError(ParseText(VaultJson(
                  R"({"authType":"approle","authOptions":{"roleID":"r","secretIDEnv":"STEPCA_TEST_VAULT_SECRET"}})")),
              {"secretIDEnv", "STEPCA_TEST_VAULT_SECRET is not set in the environment nginx was started with"});
  ExpectError(ParseText(VaultJson(R"({"authType":"approle","authOptions":{"roleID":"r","secretIDFile":"/nonexistent/s"}})")),
              {"authority.config.authOptions.secretIDFile", "/nonexistent/s"});
}

TEST(RaConfig, VaultKubernetesAuth) {
  auto r = ParseText(VaultJson(R"({"authType":"kubernetes","authOptions":{"role":"ra","tokenPath":"sa/token"}})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->vault.kubernetes_role, "ra");
  EXPECT_EQ(r->vault.token_path, "/etc/sa/token");
  EXPECT_EQ(r->vault.auth_mount_path, "kubernetes");
  auto d = ParseText(VaultJson(R"({"authType":"kubernetes","authOptions":{"role":"ra"}})"));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->vault.token_path, "/var/run/secrets/kubernetes.io/serviceaccount/token");
}

TEST(RaConfig, RefusesWhatVaultCasCannotRunWith) {
  ExpectError(ParseText(R"({"type":"vaultcas","certificateAuthorityFingerprint":")" + std::string(kFp) +
                        R"(","config":{}})"),
              {"authority.certificateAuthority\": is required"});
  ExpectError(ParseText(VaultJson("{}", "ftp://vault")), {"must be Vault's http(s):// address"});
  ExpectError(ParseText(R"({"type":"vaultcas","certificateAuthority":"http://v"})"),
              {"authority.certificateAuthorityFingerprint\": is required"});
  ExpectError(ParseText(R"({"type":"vaultcas","certificateAuthority":"http://v","certificateAuthorityFingerprint":")" +
                        std::string(kFp) + "\"}"),
              {"authority.config\": is required for vaultcas"});
  ExpectError(ParseText(VaultJson(R"({"authOptions":{}})")), {"authority.config.authType\": is required"});
  ExpectError(ParseText(VaultJson(R"({"authType":"token","authOptions":{}})")),
              {"must be \"approle\" or \"kubernetes\""});
  ExpectError(ParseText(VaultJson(R"({"authType":"approle"})")),
              {"authority.config.authOptions\": is required"});
  ExpectError(ParseText(VaultJson(R"({"authType":"approle","authOptions":{"secretID":"s"}})")),
              {"authority.config.authOptions.roleID\": is required"});
  ExpectError(ParseText(VaultJson(R"({"authType":"approle","authOptions":{"roleID":"r"}})")),
              {"one of secretID, secretIDFile or secretIDEnv is required"});
  ExpectError(ParseText(VaultJson(R"({"authType":"approle","authOptions":{"roleID":"r","secretID":"s","secretIDFile":"f"}})")),
              {"give only one of"});
  ExpectError(ParseText(VaultJson(R"({"authType":"approle","authOptions":{"roleID":"r","secretID":"s","role":"k"}})")),
              {"authority.config.authOptions.role\": is for authType kubernetes"});
  ExpectError(ParseText(VaultJson(R"({"authType":"kubernetes","authOptions":{"role":"k","roleID":"r"}})")),
              {"authority.config.authOptions.roleID\": is for authType approle"});
  ExpectError(ParseText(VaultJson(R"({"authType":"kubernetes","authOptions":{}})")),
              {"authority.config.authOptions.role\": is required"});
  ExpectError(ParseText(VaultJson(R"({"authType":"approle","authOptions":{"roleID":"r","secretID":"s","isWrappingToken":"yes"}})")),
              {"isWrappingToken\": must be true or false"});
  ExpectError(ParseText(VaultJson(R"({"pkiMountPath":3,"authType":"approle","authOptions":{"roleID":"r","secretID":"s"}})")),
              {"authority.config.pkiMountPath\": must be a string"});
}

TEST(RaConfig, CloudCasNamesCredentialsAndEndpoint) {
  unsetenv("STEPCA_CLOUDCAS_ENDPOINT");
  auto r = ParseText(R"({"type":"CloudCAS","credentialsFile":"creds.json",
      "certificateAuthority":"projects/p/locations/l/caPools/pool/certificateAuthorities/ca"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->type, CaServiceType::kCloudCas);
  EXPECT_EQ(r->cloud.credentials_file, "/etc/creds.json");
  EXPECT_EQ(r->cloud.endpoint, "https://privateca.googleapis.com");
  EXPECT_EQ(r->fingerprint, "");
  setenv("STEPCA_CLOUDCAS_ENDPOINT", "http://127.0.0.1:1234/", 1);
  setenv("GOOGLE_APPLICATION_CREDENTIALS", "/var/adc.json", 1);
  auto e = ParseText(R"({"type":"cloudcas","certificateAuthority":"projects/p/locations/l/caPools/pool"})");
  unsetenv("STEPCA_CLOUDCAS_ENDPOINT");
  unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->cloud.endpoint, "http://127.0.0.1:1234");
  EXPECT_EQ(e->cloud.credentials_file, "/var/adc.json");
}

TEST(RaConfig, RefusesWhatCloudCasCannotRunWith) {
  ExpectError(ParseText(R"({"type":"cloudCAS","credentialsFile":"c"})"),
              {"authority.certificateAuthority\": is required"});
  for (const char* name : {"projects/p/locations/l/certificateAuthorities/ca", "projects/p",
                           "projects/p/locations/l/caPools/", "projects/p/locations/l/caPools/x/y/z",
                           "folders/p/locations/l/caPools/x"})
    ExpectError(ParseText(std::string(R"({"type":"cloudCAS","credentialsFile":"c","certificateAuthority":")") +
                          name + "\"}"),
                {"must be a Google CAS name"});
  unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  ExpectError(ParseText(R"({"type":"cloudCAS","certificateAuthority":"projects/p/locations/l/caPools/x"})"),
              {"authority.credentialsFile\": is required", "GOOGLE_APPLICATION_CREDENTIALS"});
  ExpectError(ParseText(R"({"type":"cloudCAS","credentialsFile":"c","certificateAuthority":"projects/p/locations/l/caPools/x",
      "certificateAuthorityFingerprint":"abc"})"),
              {"authority.certificateAuthorityFingerprint", "64 characters"});
}

// The whole loader: an RA needs no root, crt or key, and refuses them.
TEST(RaConfig, TheLoaderRefusesALocalKeyInAnRaNamingWhatToRemove) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_t* a = json_object_get(r, "authority");
    json_object_set_new(a, "type", json_string("stepcas"));
    json_object_set_new(a, "certificateAuthority", json_string("https://127.0.0.1:1"));
    json_object_set_new(a, "certificateAuthorityFingerprint", json_string(kFp));
    json_object_set_new(a, "certificateIssuer",
                        json_pack("{s:s,s:s,s:s}", "type", "jwk", "provisioner", "p", "password", "x"));
  });
  auto cfg = LoadCaConfig({pki.ca_json(), pki.password_file()});
  ASSERT_FALSE(cfg.ok());
  // The fixture's root is the one kFp pins (as `step ca init --ra` writes
  // it): only crt and key are refused.
  EXPECT_NE(cfg.status().message().find(
                "field \"crt\": a registration authority (authority.type \"stepcas\") holds no "
                "signing key and takes its root from the upstream CA: remove \"crt\" and "
                "\"key\" from ca.json"),
            std::string::npos)
      << cfg.status().message();

  // Any other root is refused too.
  pki.EditCaJson([](json_t* r) {
    json_object_set_new(r, "root", json_string("certs/intermediate_ca.crt"));
  });
  cfg = LoadCaConfig({pki.ca_json(), pki.password_file()});
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find("field \"root\": a registration authority"),
            std::string::npos)
      << cfg.status().message();
  EXPECT_NE(cfg.status().message().find("remove \"root\", \"crt\" and \"key\""), std::string::npos)
      << cfg.status().message();

  pki.EditCaJson([](json_t* r) {
    json_object_del(r, "root");
    json_object_set_new(r, "crt", json_string(""));  // as step ca init --ra writes it
  });
  cfg = LoadCaConfig({pki.ca_json(), pki.password_file()});
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find("field \"key\": a registration authority"), std::string::npos)
      << cfg.status().message();
  EXPECT_NE(cfg.status().message().find("remove \"key\" from ca.json"), std::string::npos)
      << cfg.status().message();

  pki.EditCaJson([](json_t* r) { json_object_del(r, "key"); });
  cfg = LoadCaConfig({pki.ca_json(), ""});
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_TRUE(cfg->ra.is_ra());
  EXPECT_TRUE(cfg->roots.empty());  // fetched from the upstream by the authority
  EXPECT_TRUE(cfg->intermediates.empty());
  EXPECT_FALSE(cfg->key);
  EXPECT_EQ(cfg->provisioners.size(), 3u);  // the RA's own, for its clients
}

TEST(RaConfig, StepCasFieldsInALocalCaAreNamedAsIgnored) {
  FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_object_set_new(json_object_get(r, "authority"), "certificateAuthority",
                        json_string("https://upstream"));
  });
  auto cfg = LoadCaConfig({pki.ca_json(), pki.password_file()});
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  std::string all;
  for (auto& w : cfg->warnings) all += w + "\n";
  EXPECT_NE(all.find("authority.certificateAuthority is read only by a registration authority"),
            std::string::npos)
      << all;
  EXPECT_FALSE(cfg->ra.is_ra());
}

}  // namespace
}  // namespace stepca
