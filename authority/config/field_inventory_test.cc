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
    "kms":{"type":"pkcs11","uri":"pkcs11:module-path=/m.so;token=t","pin":"x"},
    "dnsNames":["a"],"logger":{"format":"json"},"tls":{},
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

// The tls block is reported to clients, but the listener is nginx's: each
// member names the directive that must carry it.
TEST(FieldInventory, TlsMembersNameTheirNginxDirective) {
  JsonPtr j = Parse(R"({"tls":{"cipherSuites":["x"],"minVersion":1.2,"maxVersion":1.3,
    "renegotiation":false}})");
  const std::vector<std::string> w = UnhonouredFields(j.get());
  ASSERT_EQ(w.size(), 4u) << All(w);
  EXPECT_EQ(w[0].rfind("tls.cipherSuites: ", 0), 0u) << w[0];
  EXPECT_NE(w[0].find("\"ssl_ciphers\""), std::string::npos) << w[0];
  EXPECT_EQ(w[1].rfind("tls.minVersion: ", 0), 0u) << w[1];
  EXPECT_NE(w[1].find("\"ssl_protocols\""), std::string::npos) << w[1];
  EXPECT_EQ(w[2].rfind("tls.maxVersion: ", 0), 0u) << w[2];
  EXPECT_NE(w[2].find("\"ssl_protocols\""), std::string::npos) << w[2];
  EXPECT_EQ(w[3].rfind("tls.renegotiation: ", 0), 0u) << w[3];
  EXPECT_NE(w[3].find("no nginx directive"), std::string::npos) << w[3];
}

// The SSH CA: the ssh block, the SSH claims, SSHPOP and options.ssh.
TEST(FieldInventory, SshFieldsAreHonoured) {
  JsonPtr j = Parse(R"({"ssh":{"hostKey":"h","userKey":"u","addUserPrincipal":"p",
      "addUserCommand":"c","bastion":{"hostname":"b","port":"22"},
      "keys":[{"type":"host","federated":true,"key":{"kty":"EC"}}]},
    "authority":{"claims":{"enableSSHCA":true,"minUserSSHCertDuration":"5m",
      "maxUserSSHCertDuration":"24h","defaultUserSSHCertDuration":"16h",
      "minHostSSHCertDuration":"5m","maxHostSSHCertDuration":"1680h",
      "defaultHostSSHCertDuration":"720h"},
      "provisioners":[
        {"type":"JWK","name":"j","key":{},"encryptedKey":"e","claims":{"enableSSHCA":true},
         "options":{"ssh":{"template":"{}","templateFile":"f","templateData":{"any":{"x":1}}}}},
        {"type":"SSHPOP","name":"sshpop","claims":{"enableSSHCA":true}}]}})");
  EXPECT_EQ(All(UnhonouredFields(j.get())), "");
  // A misspelt member of options.ssh is named, as for options.x509.
  JsonPtr bad = Parse(R"({"authority":{"provisioners":[
      {"type":"JWK","name":"j","options":{"ssh":{"templateFiles":"f"}}},
      {"type":"SSHPOP","name":"s","key":{}}]}})");
  auto w = UnhonouredFields(bad.get());
  ASSERT_EQ(w.size(), 2u) << All(w);
  EXPECT_EQ(w[0].substr(0, 55), "authority.provisioners[0].options.ssh.templateFiles: un");
  EXPECT_EQ(w[1], "authority.provisioners[1].key: unknown field for a SSHPOP provisioner, ignored "
                  "(check its spelling)");
}

// The crl block and this CA's nginxStepca extension are honoured member by
// member, so a misspelt member is still named.
TEST(FieldInventory, CrlAndOcspFieldsAreHonoured) {
  JsonPtr j = Parse(R"({"crl":{"enabled":true,"generateOnRevoke":true,"cacheDuration":"24h",
      "renewPeriod":"16h","idpURL":"http://ca.example/1.0/crl"},
    "nginxStepca":{"crlCheckInterval":"1s","ocsp":{"enabled":true,"path":"/ocsp",
      "url":"http://ca.example/ocsp","validity":"1h"}}})");
  EXPECT_EQ(All(UnhonouredFields(j.get())), "");
  JsonPtr bad = Parse(R"({"crl":{"enable":true},"nginxStepca":{"ocsp":{"pth":"/x"}}})");
  const std::string all = All(UnhonouredFields(bad.get()));
  EXPECT_NE(all.find("crl.enable: unknown field"), std::string::npos) << all;
  EXPECT_NE(all.find("nginxStepca.ocsp.pth: unknown field"), std::string::npos) << all;
}

// Each field that is accepted but not applied is named with the reason.
TEST(FieldInventory, NotServedFieldsAreNamedWithTheReason) {
  JsonPtr j = Parse(R"({"monitoring":{"x":1},"commonName":"Step CA",
    "kms":{"type":"awskms","region":"us-east-1","profile":"ca","credentialsFile":"/c.json"},
    "ssh":{"hostKey":"h","userKey":"u","addUserPrincipal":"p","bastion":{"hostname":"b"},
           "keys":[{"type":"user","federated":true,"key":{}}]},
    "authority":{"deploymentType":"linked","authorityId":"x","policy":{"x509":{}},
      "certificateAuthority":"https://ca","claims":{"enableSSHCA":true,"maxUserSSHCertDuration":"1h"},
      "provisioners":[{"type":"ACME","name":"a","forceCN":true,
                       "claims":{"defaultHostSSHCertDuration":"1h"}}]}})");
  auto w = UnhonouredFields(j.get());
  const std::vector<std::string> want = {
      "monitoring: not supported; scrape the stepca_metrics endpoint instead",
      "commonName: not used: the CA's own TLS certificate (stepca_tls_certificate) is named "
      "after the first dnsNames entry, or comes from nginx's ssl_certificate",
  };
  ASSERT_GE(w.size(), want.size()) << All(w);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(w[i], want[i]);
  const std::string all = All(w);
  for (const char* p :
       {"authority.deploymentType: linked deployments", "authority.authorityId: linked",
        "authority.authorityId: linked"})
    EXPECT_NE(all.find(p), std::string::npos) << p << " not in:\n" << all;
  EXPECT_EQ(all.find("authority.policy"), std::string::npos) << all;  // name policies are applied
  EXPECT_EQ(all.find("SSHCert"), std::string::npos) << all;            // SSH claims are applied
  EXPECT_EQ(all.find("enableSSHCA"), std::string::npos) << all;
  EXPECT_EQ(all.find("ssh."), std::string::npos) << all;              // so is the ssh block
  EXPECT_EQ(all.find("kms."), std::string::npos) << all;              // and every kms field
  // stepcas's fields are read by the RA parser (config/ra_config.cc).
  EXPECT_EQ(all.find("authority.certificateAuthority"), std::string::npos) << all;
  EXPECT_EQ(w.size(), 4u) << all;
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
  ASSERT_EQ(w.size(), 6u) << All(w);
  EXPECT_EQ(w[0], "roots: unknown field, ignored (step-ca 0.19 has no such field either; check its spelling)");
  EXPECT_EQ(w[1].substr(0, 30), "logger.level: unknown field, i");
  EXPECT_EQ(w[2].substr(0, 48), "authority.claims.maxTLSCertDurations: unknown fi");
  EXPECT_EQ(w[3], "authority.provisioners[0].claim: unknown field for a JWK provisioner, ignored "
                  "(check its spelling)");
  EXPECT_EQ(w[4].substr(0, 47), "authority.provisioners[1].options.x50: unknown ");
  // OIDC is served now: its members are checked one by one too.
  EXPECT_EQ(w[5], "authority.provisioners[2].whatever: unknown field for a OIDC provisioner, ignored "
                  "(check its spelling)");
}

TEST(FieldInventory, TheNewProvisionerTypesFieldsAreKnown) {
  JsonPtr j = Parse(R"({"authority":{"provisioners":[
    {"type":"OIDC","name":"o","clientID":"c","clientSecret":"s","configurationEndpoint":"https://x",
     "tenantID":"t","admins":[],"domains":[],"groups":[],"listenAddress":":1","claims":{},"options":{}},
    {"type":"K8sSA","name":"k","publicKeys":"x"},
    {"type":"AWS","name":"a","accounts":[],"disableCustomSANs":true,"disableTrustOnFirstUse":true,
     "instanceAge":"1h","iidRoots":"x","imdsVersions":["v2"]},
    {"type":"GCP","name":"g","serviceAccounts":[],"projectIDs":[],"disableCustomSANs":false,
     "disableTrustOnFirstUse":false,"instanceAge":"1h","certsURL":"https://x"},
    {"type":"Azure","name":"z","tenantID":"t","resourceGroups":[],"subscriptionIDs":[],"objectIDs":[],
     "audience":"x","disableCustomSANs":false,"disableTrustOnFirstUse":false,"configurationEndpoint":"x"},
    {"type":"K8sSA","name":"k2","publicKey":"misspelt"}]}})");
  auto w = UnhonouredFields(j.get());
  ASSERT_EQ(w.size(), 1u) << All(w);
  EXPECT_EQ(w[0].substr(0, 66), "authority.provisioners[5].publicKey: unknown field for a K8sSA pro");
}

// vaultcas is served now: a local CA's ca.json typed vaultcas is refused
// for the Vault it does not name, not for its type.
TEST(FieldInventory, AVaultRaWithoutItsFieldsIsRefusedForThem) {
  testing::FixturePki pki;
  pki.EditCaJson([](json_t* r) {
    json_object_set_new(json_object_get(r, "authority"), "type", json_string("vaultcas"));
  });
  auto cfg = LoadCaConfig({pki.ca_json(), pki.password_file()});
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().message().find("is not supported"), std::string::npos)
      << cfg.status().message();
  EXPECT_NE(cfg.status().message().find("field \"authority.certificateAuthority\": is required"),
            std::string::npos)
      << cfg.status().message();
}

// The fields of vaultcas (authority.config) and cloudCAS (credentialsFile)
// are honoured member by member, so a misspelt one is still named.
TEST(FieldInventory, VaultAndCloudCasFieldsSayNothing) {
  JsonPtr vault = Parse(R"({"authority":{"type":"vaultcas","certificateAuthority":"http://v:8200",
    "certificateAuthorityFingerprint":"ab","config":{"pkiMountPath":"pki","pkiRoleDefault":"d",
    "pkiRoleRSA":"r","pkiRoleEC":"e","pkiRoleEd25519":"ed","authType":"approle",
    "authMountPath":"approle","namespace":"ns","authOptions":{"roleID":"r","secretID":"s",
    "secretIDFile":"f","secretIDEnv":"E","isWrappingToken":false,"role":"k","tokenPath":"/t"}}}})");
  EXPECT_EQ(All(UnhonouredFields(vault.get())), "");
  JsonPtr cloud = Parse(R"({"authority":{"type":"cloudCAS","credentialsFile":"/c.json",
    "certificateAuthority":"projects/p/locations/l/caPools/x"}})");
  EXPECT_EQ(All(UnhonouredFields(cloud.get())), "");
  JsonPtr typo = Parse(R"({"authority":{"config":{"pkiRoleEc":"e","authOptions":{"secretIdFile":"f"}}}})");
  const std::string all = All(UnhonouredFields(typo.get()));
  EXPECT_NE(all.find("authority.config.pkiRoleEc: unknown field"), std::string::npos) << all;
  EXPECT_NE(all.find("authority.config.authOptions.secretIdFile: unknown field"), std::string::npos)
      << all;
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
