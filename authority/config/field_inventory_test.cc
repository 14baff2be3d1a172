#include "authority/config/field_inventory.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "authority/config/ca_config.h"
#include "authority/ossl.h"
#include "authority/testing/fixture_pki.h"

namespace stepca {
namespace {

JsonPtr Parse(const char* text) {
  json_error_t err;
  JsonPtr j(json_loads(text, 0, &err));
  EXPECT_TRUE(j) << err.text;
  return j;
}

std::string All(const std::vector<std::string>& w) {
  std::string s;
  for (auto& x : w) s += x + "\n";
  return s;
}

TEST(FieldInventory, HonouredFieldsSayNothing) {
  JsonPtr j = Parse(R"({"root":"r","federatedRoots":[],"crt":"c","key":"k","password":"p",
    "dnsNames":["a"],"logger":{"format":"json"},
    "tls":{"cipherSuites":["x"],"minVersion":1.2,"maxVersion":1.3,"renegotiation":false},
    "authority":{"type":"","claims":{"minTLSCertDuration":"5m","disableRenewal":false,
      "allowRenewalAfterExpiry":true},"disableIssuedAtCheck":false,"backdate":"1m",
      "provisioners":[
        {"type":"JWK","name":"j","key":{"kty":"EC","anything":1},"encryptedKey":"e",
         "claims":{"maxTLSCertDuration":"24h"}},
        {"type":"x5c","name":"x","roots":"cm9vdHM="},
        {"type":"ACME","name":"a","requireEAB":true,"challenges":["http-01"],
         "nginxStepca":{"eabKeys":{}},"forceCN":true}]}})");
  EXPECT_EQ(All(UnhonouredFields(j.get())), "");
}

// Each field that is accepted but not applied is named with the reason.
TEST(FieldInventory, NotServedFieldsAreNamedWithTheReason) {
  JsonPtr j = Parse(R"({"monitoring":{"x":1},"commonName":"Step CA",
    "ssh":{"hostKey":"h","userKey":"u","addUserPrincipal":"p","bastion":{"hostname":"b"}},
    "authority":{"deploymentType":"linked","authorityId":"x","policy":{"x509":{}},
      "certificateAuthority":"https://ca","claims":{"enableSSHCA":true,"maxUserSSHCertDuration":"1h"},
      "provisioners":[{"type":"ACME","name":"a","forceCN":true,
                       "claims":{"defaultHostSSHCertDuration":"1h"}}]}})");
  auto w = UnhonouredFields(j.get());
  const std::vector<std::string> want = {
      "monitoring: not supported; scrape the stepca_metrics endpoint instead",
      "commonName: not used: the CA's own TLS certificate is nginx's ssl_certificate",
      "ssh.addUserPrincipal: SSH certificates are not issued by this version; ignored",
      "ssh.bastion: SSH certificates are not issued by this version; ignored",
  };
  ASSERT_GE(w.size(), want.size()) << All(w);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(w[i], want[i]);
  const std::string all = All(w);
  for (const char* p :
       {"authority.deploymentType: linked deployments", "authority.authorityId: linked",
        "authority.claims.enableSSHCA: SSH", "authority.claims.maxUserSSHCertDuration: SSH",
        "authority.provisioners[0].claims.defaultHostSSHCertDuration: SSH"})
    EXPECT_NE(all.find(p), std::string::npos) << p << " not in:\n" << all;
  EXPECT_EQ(all.find("authority.policy"), std::string::npos) << all;  // name policies are applied
  // stepcas's fields are read by the RA parser (config/ra_config.cc).
  EXPECT_EQ(all.find("authority.certificateAuthority"), std::string::npos) << all;
  EXPECT_EQ(w.size(), 9u) << all;
}

// What step-ca would drop without a word (a misspelt claim, a field of a
// later version) is named here.
TEST(FieldInventory, UnknownFieldsAreNamed) {
  JsonPtr j = Parse(R"({"roots":"x","logger":{"level":"debug"},
    "authority":{"claims":{"maxTLSCertDurations":"1h"},
      "provisioners":[{"type":"JWK","name":"j","key":{},"claim":{}},
                      {"type":"ACME","name":"a","options":{"x509":{},"x50":{}}},
                      {"type":"OIDC","name":"o","whatever":1}]}})");
  auto w = UnhonouredFields(j.get());
  ASSERT_EQ(w.size(), 5u) << All(w);
  EXPECT_EQ(w[0], "roots: unknown field, ignored (step-ca 0.19 has no such field either; check its spelling)");
  EXPECT_EQ(w[1].substr(0, 30), "logger.level: unknown field, i");
  EXPECT_EQ(w[2].substr(0, 48), "authority.claims.maxTLSCertDurations: unknown fi");
  EXPECT_EQ(w[3], "authority.provisioners[0].claim: unknown field for a JWK provisioner, ignored "
                  "(check its spelling)");
  EXPECT_EQ(w[4].substr(0, 47), "authority.provisioners[1].options.x50: unknown ");
}

TEST(FieldInventory, RefusesARegistrationAuthorityTypeItCannotServe) {
  testing::FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_object_set_new(json_object_get(r, "authority"), "type", json_string("vaultcas"));
  });
  auto cfg = LoadCaConfig({pki.ca_json(), pki.password_file()});
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find("field \"authority.type\": \"vaultcas\" (registration "
                                        "authority over Vault) is not supported"),
            std::string::npos)
      << cfg.status().message();
}

// The RA fields of stepcas are honoured, member by member.
TEST(FieldInventory, StepCasFieldsSayNothing) {
  JsonPtr j = Parse(R"({"authority":{"type":"stepcas","certificateAuthority":"https://ca",
    "certificateAuthorityFingerprint":"ab","certificateIssuer":{"type":"x5c","provisioner":"p",
    "password":"x","key":"k","crt":"c"}}})");
  EXPECT_EQ(All(UnhonouredFields(j.get())), "");
  JsonPtr typo = Parse(R"({"authority":{"certificateIssuer":{"provisoner":"p"}}})");
  EXPECT_NE(All(UnhonouredFields(typo.get())).find("authority.certificateIssuer.provisoner"),
            std::string::npos);
}

TEST(FieldInventory, TheLoaderPassesTheWarningsOn) {
  testing::FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_object_set_new(json_object_get(r, "authority"), "deploymentType", json_string("x"));
  });
  auto cfg = LoadCaConfig({pki.ca_json(), pki.password_file()});
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_NE(All(cfg->warnings).find(": authority.deploymentType: linked deployments"),
            std::string::npos)
      << All(cfg->warnings);
}

// The README's list of what a migrating user is warned about holds every
// field that is accepted but not applied.
TEST(FieldInventory, TheReadmeListsEveryFieldNotServed) {
  std::ifstream in(std::string(STEPCA_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  for (const auto& r : FieldInventory()) {
    if (r.use != FieldUse::kNotServed) continue;
    std::string name = r.path;
    if (name.rfind("provisioner.", 0) == 0) name = name.substr(name.find('.', 12) + 1);
    if (name.rfind("claims.", 0) == 0) name = name.substr(7);
    EXPECT_NE(readme.find("`" + name + "`"), std::string::npos)
        << "README.md does not name `" << name << "` (" << r.path << ")";
  }
}

}  // namespace
}  // namespace stepca
