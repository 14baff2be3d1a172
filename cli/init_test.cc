#include "cli/init.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <sys/stat.h>

#include <memory>
#include <sstream>

#include "authority/config/ca_config.h"
#include "authority/jose/jwe.h"
#include "authority/jose/jwk.h"
#include "authority/signer/file_signer.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "cli/go_json.h"
#include "cli/testing_util.h"
#include "shared/base64.h"

namespace stepca {
namespace cli {
namespace {

using testing::FileMode;
using testing::FixtureFile;
using testing::ScratchDir;

constexpr char kCaPassword[] = "ca-secret";
constexpr char kProvisionerPassword[] = "provisioner-secret";

JsonPtr ParseJson(const std::string& text) {
  json_error_t err;
  return JsonPtr(json_loadb(text.data(), text.size(), 0, &err));
}

std::vector<std::string> Keys(const json_t* obj) {
  std::vector<std::string> keys;
  const char* k;
  json_t* v;
  json_object_foreach(const_cast<json_t*>(obj), k, v) keys.push_back(k);
  return keys;
}

X509Ptr ReadCert(const std::string& path, size_t index = 0) {
  auto pem = ReadFile(path);
  if (!pem.ok()) return nullptr;
  auto certs = ParseCertificatesPem(pem.value());
  if (!certs.ok() || certs->size() <= index) return nullptr;
  return std::move(certs.value()[index]);
}

std::string NameEntry(X509* cert, int nid) {
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, buf, sizeof buf);
  return buf;
}

int64_t Lifetime(X509* cert) {
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert));
  return int64_t{days} * 86400 + secs;
}

bool Verifies(X509* leaf, X509* root, X509* untrusted = nullptr, int purpose = -1) {
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), root);
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  STACK_OF(X509)* chain = sk_X509_new_null();
  if (untrusted != nullptr) sk_X509_push(chain, untrusted);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf, chain);
  if (purpose > 0) X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  bool ok = X509_verify_cert(ctx.get()) == 1;
  sk_X509_free(chain);
  return ok;
}

// One PKI for the whole suite: init is slow (600000 PBKDF2 rounds).
class CliInitTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir();
    InitOptions o;
    o.name = "Unit CA";
    o.dns = {"ca.unit.test", "127.0.0.1"};
    o.address = "127.0.0.1:9443";
    o.provisioner = "admin@unit.test";
    o.password = kCaPassword;
    o.provisioner_password = kProvisionerPassword;
    o.steppath = dir_->File("step");
    o.acme = true;
    o.tls_files = true;
    auto r = InitPki(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    result_ = new InitResult(r.value());
  }
  static void TearDownTestSuite() {
    delete result_;
    delete dir_;
    result_ = nullptr;
    dir_ = nullptr;
  }
  const InitResult& r() const { return *result_; }
  JsonPtr CaJson() const { return ParseJson(ReadFile(r().ca_config).value()); }

  static ScratchDir* dir_;
  static InitResult* result_;
};

ScratchDir* CliInitTest::dir_ = nullptr;
InitResult* CliInitTest::result_ = nullptr;

// The nginx configuration init writes keeps the listener's certificate
// fresh through the CA itself, so nothing is left for anyone to renew.
TEST_F(CliInitTest, WritesAnNginxConfigurationThatRenewsItsOwnCertificate) {
  EXPECT_EQ(r().nginx_conf, dir_->File("step") + "/config/nginx-stepca.conf");
  EXPECT_EQ(FileMode(r().nginx_conf), 0644);
  const std::string conf = ReadFile(r().nginx_conf).value();
  EXPECT_NE(conf.find("stepca_ca_json       " + r().ca_config + ";\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("stepca_store         lmdb:" + r().db_dir + ";\n"), std::string::npos);
  EXPECT_NE(conf.find("    listen 127.0.0.1:9443 ssl;\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("    server_name ca.unit.test;\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("    stepca_tls_certificate on;\n"), std::string::npos) << conf;
  EXPECT_EQ(conf.find("ssl_certificate "), std::string::npos) << conf;
}

TEST(CliInit, NginxSnippetWithAKeyOnATokenNamesTheTlsFiles) {
  InitOptions o;
  o.dns = {"ca.unit.test"};
  o.address = ":9000";
  o.kms = "pkcs11:module-path=/m.so;token=t";
  InitResult r;
  r.ca_config = "/s/config/ca.json";
  r.db_dir = "/s/db";
  r.tls_cert = "/s/certs/tls.crt";
  r.tls_key = "/s/secrets/tls.key";
  const std::string conf = NginxSnippet(o, r);
  EXPECT_NE(conf.find("    listen 9000 ssl;\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("    ssl_certificate     /s/certs/tls.crt;\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("    ssl_certificate_key /s/secrets/tls.key;\n"), std::string::npos);
  EXPECT_EQ(conf.find("stepca_tls_certificate"), std::string::npos) << conf;
}

TEST_F(CliInitTest, WritesEveryFileWithTheRightMode) {
  const std::string sp = dir_->File("step");
  EXPECT_EQ(r().steppath, sp);
  for (const char* d : {"", "/certs", "/secrets", "/config", "/db", "/templates"}) {
    EXPECT_EQ(FileMode(sp + d), 0700) << d;
  }
  EXPECT_EQ(r().root_cert, sp + "/certs/root_ca.crt");
  EXPECT_EQ(r().intermediate_cert, sp + "/certs/intermediate_ca.crt");
  EXPECT_EQ(r().root_key, sp + "/secrets/root_ca_key");
  EXPECT_EQ(r().intermediate_key, sp + "/secrets/intermediate_ca_key");
  EXPECT_EQ(r().tls_cert, sp + "/certs/tls.crt");
  EXPECT_EQ(r().tls_key, sp + "/secrets/tls.key");
  EXPECT_EQ(r().ca_config, sp + "/config/ca.json");
  EXPECT_EQ(r().defaults, sp + "/config/defaults.json");
  for (const std::string& f : {r().root_key, r().intermediate_key, r().tls_key}) {
    EXPECT_EQ(FileMode(f), 0600) << f;
  }
  for (const std::string& f : {r().root_cert, r().intermediate_cert, r().tls_cert,
                               r().ca_config, r().defaults}) {
    EXPECT_EQ(FileMode(f), 0644) << f;
  }
}

TEST_F(CliInitTest, CaJsonHasStepsShapeAndLayout) {
  JsonPtr ours = CaJson();
  ASSERT_TRUE(ours);
  JsonPtr fixture = ParseJson(FixtureFile("pki/config/ca.json"));
  ASSERT_TRUE(fixture);
  EXPECT_EQ(Keys(ours.get()), Keys(fixture.get()));
  for (const char* section : {"logger", "db", "authority", "tls"}) {
    EXPECT_EQ(Keys(json_object_get(ours.get(), section)),
              Keys(json_object_get(fixture.get(), section)))
        << section;
  }
  EXPECT_TRUE(json_equal(json_object_get(ours.get(), "tls"),
                         json_object_get(fixture.get(), "tls")));
  EXPECT_TRUE(json_equal(json_object_get(ours.get(), "logger"),
                         json_object_get(fixture.get(), "logger")));
  EXPECT_TRUE(json_is_null(json_object_get(ours.get(), "federatedRoots")));
  EXPECT_STREQ(json_string_value(json_object_get(ours.get(), "root")), r().root_cert.c_str());
  EXPECT_STREQ(json_string_value(json_object_get(ours.get(), "crt")),
               r().intermediate_cert.c_str());
  EXPECT_STREQ(json_string_value(json_object_get(ours.get(), "key")),
               r().intermediate_key.c_str());
  EXPECT_STREQ(json_string_value(json_object_get(ours.get(), "address")), "127.0.0.1:9443");
  EXPECT_STREQ(json_string_value(json_object_get(ours.get(), "insecureAddress")), "");
  EXPECT_STREQ(json_string_value(json_object_get(ours.get(), "commonName")), "Step Online CA");
  const json_t* db = json_object_get(ours.get(), "db");
  EXPECT_STREQ(json_string_value(json_object_get(db, "type")), "badgerv2");
  EXPECT_STREQ(json_string_value(json_object_get(db, "dataSource")), r().db_dir.c_str());
  const json_t* dns = json_object_get(ours.get(), "dnsNames");
  ASSERT_EQ(json_array_size(dns), 2u);
  EXPECT_STREQ(json_string_value(json_array_get(dns, 0)), "ca.unit.test");
  EXPECT_STREQ(json_string_value(json_array_get(dns, 1)), "127.0.0.1");

  const json_t* authority = json_object_get(ours.get(), "authority");
  EXPECT_STREQ(json_string_value(json_object_get(authority, "backdate")), "1m0s");
  EXPECT_EQ(json_object_size(json_object_get(authority, "template")), 0u);
  const json_t* provs = json_object_get(authority, "provisioners");
  ASSERT_EQ(json_array_size(provs), 2u);
  const json_t* jwk = json_array_get(provs, 0);
  const json_t* fixture_jwk =
      json_array_get(json_object_get(json_object_get(fixture.get(), "authority"), "provisioners"), 0);
  EXPECT_EQ(Keys(jwk), Keys(fixture_jwk));
  EXPECT_EQ(Keys(json_object_get(jwk, "key")), Keys(json_object_get(fixture_jwk, "key")));
  EXPECT_STREQ(json_string_value(json_object_get(jwk, "name")), "admin@unit.test");
  const json_t* acme = json_array_get(provs, 1);
  EXPECT_EQ(Keys(acme), (std::vector<std::string>{"type", "name"}));
  EXPECT_STREQ(json_string_value(json_object_get(acme, "type")), "ACME");
  EXPECT_STREQ(json_string_value(json_object_get(acme, "name")), "acme");

  // Tab indented like step, trailing newline; our printer reproduces step's
  // own file byte for byte.
  std::string text = ReadFile(r().ca_config).value();
  EXPECT_EQ(text.rfind("{\n\t\"root\": ", 0), 0u) << text.substr(0, 40);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text, FormatCaJson(ours.get()));
  std::string fixture_text = FixtureFile("pki/config/ca.json");
  EXPECT_EQ(FormatCaJson(fixture.get()), fixture_text);
}

TEST_F(CliInitTest, EncryptedKeyDecryptsToTheKidsKey) {
  JsonPtr ours = CaJson();
  const json_t* jwk = json_array_get(
      json_object_get(json_object_get(ours.get(), "authority"), "provisioners"), 0);
  const json_t* pub = json_object_get(jwk, "key");
  std::string kid = json_string_value(json_object_get(pub, "kid"));
  EXPECT_STREQ(json_string_value(json_object_get(pub, "use")), "sig");
  EXPECT_STREQ(json_string_value(json_object_get(pub, "kty")), "EC");
  EXPECT_STREQ(json_string_value(json_object_get(pub, "crv")), "P-256");
  EXPECT_STREQ(json_string_value(json_object_get(pub, "alg")), "ES256");
  EXPECT_EQ(json_object_get(pub, "d"), nullptr) << "public key only";

  std::string jwe = json_string_value(json_object_get(jwk, "encryptedKey"));
  // Header as step writes it.
  auto header = Base64UrlDecode(jwe.substr(0, jwe.find('.')));
  ASSERT_TRUE(header.has_value());
  JsonPtr h = ParseJson(*header);
  EXPECT_STREQ(json_string_value(json_object_get(h.get(), "alg")), "PBES2-HS256+A128KW");
  EXPECT_STREQ(json_string_value(json_object_get(h.get(), "enc")), "A256GCM");
  EXPECT_STREQ(json_string_value(json_object_get(h.get(), "cty")), "jwk+json");
  EXPECT_EQ(json_integer_value(json_object_get(h.get(), "p2c")), 600000);

  EXPECT_FALSE(DecryptPbes2Jwe(jwe, "wrong password").ok());
  auto plain = DecryptPbes2Jwe(jwe, kProvisionerPassword);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  JsonPtr priv = ParseJson(plain.value());
  ASSERT_TRUE(priv);
  EXPECT_EQ(Keys(priv.get()),
            (std::vector<std::string>{"use", "kty", "kid", "crv", "alg", "x", "y", "d"}));
  auto key = ParseJwkText(plain.value());
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_TRUE(key->has_private);
  EXPECT_EQ(key->kid, kid);
  auto thumb = JwkThumbprint(key->key.get());
  ASSERT_TRUE(thumb.ok());
  EXPECT_EQ(thumb.value(), kid);
  auto pub_key = ParseJwk(pub);
  ASSERT_TRUE(pub_key.ok());
  EXPECT_EQ(EVP_PKEY_eq(pub_key->key.get(), key->key.get()), 1);
}

TEST_F(CliInitTest, IntermediateVerifiesAgainstRoot) {
  X509Ptr root = ReadCert(r().root_cert);
  X509Ptr inter = ReadCert(r().intermediate_cert);
  ASSERT_TRUE(root && inter);
  EXPECT_EQ(NameEntry(root.get(), NID_commonName), "Unit CA Root CA");
  EXPECT_EQ(NameEntry(root.get(), NID_organizationName), "Unit CA");
  EXPECT_EQ(NameEntry(inter.get(), NID_commonName), "Unit CA Intermediate CA");
  EXPECT_EQ(NameEntry(inter.get(), NID_organizationName), "Unit CA");
  EXPECT_EQ(X509_check_issued(root.get(), root.get()), X509_V_OK);
  EXPECT_EQ(X509_check_issued(root.get(), inter.get()), X509_V_OK);
  EXPECT_TRUE(Verifies(inter.get(), root.get()));
  EXPECT_EQ(Lifetime(root.get()), 87600LL * 3600);
  EXPECT_EQ(Lifetime(inter.get()), 87600LL * 3600);
  EXPECT_EQ(X509_get_pathlen(root.get()), 1);
  EXPECT_EQ(X509_get_pathlen(inter.get()), 0);
  for (X509* c : {root.get(), inter.get()}) {
    EXPECT_EQ(X509_check_ca(c), 1);
    EXPECT_EQ(X509_get_key_usage(c), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    int crit = -1;
    ASN1_BIT_STRING* ku = static_cast<ASN1_BIT_STRING*>(
        X509_get_ext_d2i(c, NID_key_usage, &crit, nullptr));
    EXPECT_EQ(crit, 1);
    ASN1_BIT_STRING_free(ku);
    EXPECT_NE(X509_get0_subject_key_id(c), nullptr);
    EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(c)), EVP_PKEY_EC);
    EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(c)), 256);
  }
  EXPECT_EQ(X509_get0_authority_key_id(root.get()), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(inter.get()), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(inter.get()),
                                  X509_get0_subject_key_id(root.get())),
            0);
  // Extension order as Go writes it: KU, BC, SKI[, AKI].
  EXPECT_EQ(X509_get_ext_count(root.get()), 3);
  EXPECT_EQ(X509_get_ext_count(inter.get()), 4);
  EXPECT_EQ(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(inter.get(), 0))), NID_key_usage);
  EXPECT_EQ(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(inter.get(), 1))),
            NID_basic_constraints);
  EXPECT_EQ(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(inter.get(), 2))),
            NID_subject_key_identifier);
  EXPECT_EQ(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(inter.get(), 3))),
            NID_authority_key_identifier);
}

TEST_F(CliInitTest, CaKeysDecryptWithThePasswordAndMatchTheCertificates) {
  for (auto [key_file, cert_file] : {std::pair{r().root_key, r().root_cert},
                                     std::pair{r().intermediate_key, r().intermediate_cert}}) {
    std::string pem = ReadFile(key_file).value();
    EXPECT_EQ(pem.rfind("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                        "DEK-Info: AES-256-CBC,", 0),
              0u)
        << pem.substr(0, 100);
    EXPECT_FALSE(LoadPrivateKeyPem(pem, "wrong").ok());
    auto key = LoadPrivateKeyPem(pem, kCaPassword);
    ASSERT_TRUE(key.ok()) << key.status().message();
    X509Ptr cert = ReadCert(cert_file);
    ASSERT_TRUE(cert);
    EXPECT_EQ(EVP_PKEY_eq(key->get(), X509_get0_pubkey(cert.get())), 1) << key_file;
  }
}

TEST_F(CliInitTest, DefaultsJsonPointsAtTheCa) {
  std::string text = ReadFile(r().defaults).value();
  EXPECT_NE(text.back(), '\n') << "step writes no trailing newline";
  JsonPtr d = ParseJson(text);
  ASSERT_TRUE(d);
  EXPECT_EQ(Keys(d.get()), (std::vector<std::string>{"ca-url", "ca-config", "fingerprint", "root"}));
  EXPECT_STREQ(json_string_value(json_object_get(d.get(), "ca-url")), "https://ca.unit.test:9443");
  EXPECT_STREQ(json_string_value(json_object_get(d.get(), "ca-config")), r().ca_config.c_str());
  EXPECT_STREQ(json_string_value(json_object_get(d.get(), "root")), r().root_cert.c_str());
  X509Ptr root = ReadCert(r().root_cert);
  std::string fp = Sha256Hex(CertificateDer(root.get()));
  EXPECT_EQ(fp.size(), 64u);
  EXPECT_STREQ(json_string_value(json_object_get(d.get(), "fingerprint")), fp.c_str());
  EXPECT_EQ(r().fingerprint, fp);
  EXPECT_EQ(GoJson(d.get(), "\t"), text);
  // The fixture's defaults.json is reproduced byte for byte as well.
  std::string fixture_text = FixtureFile("pki/config/defaults.json");
  EXPECT_EQ(GoJson(ParseJson(fixture_text).get(), "\t"), fixture_text);
}

TEST_F(CliInitTest, TlsCertificateForTheListener) {
  std::string pem = ReadFile(r().tls_cert).value();
  auto chain = ParseCertificatesPem(pem);
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 2u) << "leaf + intermediate";
  X509* leaf = chain.value()[0].get();
  X509Ptr inter = ReadCert(r().intermediate_cert);
  X509Ptr root = ReadCert(r().root_cert);
  EXPECT_EQ(X509_cmp(chain.value()[1].get(), inter.get()), 0);
  EXPECT_TRUE(Verifies(leaf, root.get(), inter.get(), X509_PURPOSE_SSL_SERVER));
  EXPECT_EQ(X509_check_host(leaf, "ca.unit.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ca(leaf), 0);
  EXPECT_TRUE(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
  EXPECT_EQ(Lifetime(leaf), 90LL * 86400 + 60) << "90 days plus the 1m backdate";
  std::string key_pem = ReadFile(r().tls_key).value();
  EXPECT_EQ(key_pem.find("ENCRYPTED"), std::string::npos);
  auto key = LoadPrivateKeyPem(key_pem, "");
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), X509_get0_pubkey(leaf)), 1);
}

TEST_F(CliInitTest, TheAuthorityLoadsWhatInitWrote) {
  ScratchDir tmp;
  std::string pw = tmp.File("pw");
  ASSERT_TRUE(WriteFile(pw, std::string(kCaPassword) + "\n", 0600).ok());
  auto cfg = LoadCaConfig({r().ca_config, pw});
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_EQ(cfg->roots.size(), 1u);
  EXPECT_EQ(cfg->intermediates.size(), 1u);
  EXPECT_EQ(cfg->provisioners.size(), 2u);
}

TEST_F(CliInitTest, RefusesToOverwriteWithoutForce) {
  InitOptions o;
  o.name = "Again";
  o.dns = {"localhost"};
  o.address = ":443";
  o.provisioner = "p";
  o.password = "x";
  o.provisioner_password = "y";
  o.steppath = r().steppath;
  auto again = InitPki(o);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
}

TEST(CliInit, RequiresTheNamesAndPasswords) {
  ScratchDir dir;
  InitOptions o;
  o.steppath = dir.File("s");
  EXPECT_FALSE(InitPki(o).ok());
  o.name = "n";
  o.dns = {"localhost"};
  o.address = "localhost";  // no port
  o.provisioner = "p";
  o.password = "a";
  o.provisioner_password = "b";
  EXPECT_FALSE(InitPki(o).ok());
  o.address = ":8443";
  o.kty = "DSA";
  EXPECT_FALSE(InitPki(o).ok());
}

// A small PKI in dir, fast to make (few PBKDF2 rounds).
InitOptions QuickOptions(const ScratchDir& dir) {
  InitOptions o;
  o.name = "K";
  o.dns = {"localhost"};
  o.address = ":9000";
  o.provisioner = "p";
  o.password = "pw";
  o.provisioner_password = "ppw";
  o.steppath = dir.File("s");
  o.p2c = 1000;
  return o;
}

// Without --tls-files (and without --kms) init writes no TLS certificate:
// the nginx configuration it writes has the CA issue and renew its own, and
// a 90-day file that nothing renews would only fail on day 91.
TEST(CliInit, WritesNoTlsCertificateNobodyRenewsUnlessAsked) {
  ScratchDir dir;
  InitOptions o = QuickOptions(dir);
  auto r = InitPki(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->tls_cert.empty());
  EXPECT_TRUE(r->tls_key.empty());
  struct stat st;
  EXPECT_NE(stat((o.steppath + "/certs/tls.crt").c_str(), &st), 0);
  EXPECT_NE(stat((o.steppath + "/secrets/tls.key").c_str(), &st), 0);
  const std::string conf = ReadFile(r->nginx_conf).value();
  EXPECT_NE(conf.find("stepca_tls_certificate on;"), std::string::npos) << conf;
  EXPECT_EQ(conf.find("ssl_certificate "), std::string::npos) << conf;
  std::ostringstream summary;
  PrintInitSummary(r.value(), summary);
  EXPECT_EQ(summary.str().find("TLS certificate"), std::string::npos) << summary.str();
}

TEST(CliInit, CaUrlLeavesOut443AndBracketsIpv6) {
  EXPECT_EQ(CaUrlFor("ca.example.com", ":443").value(), "https://ca.example.com");
  EXPECT_EQ(CaUrlFor("ca.example.com", "0.0.0.0:8443").value(), "https://ca.example.com:8443");
  EXPECT_EQ(CaUrlFor("::1", "[::1]:9000").value(), "https://[::1]:9000");
  EXPECT_EQ(CaUrlFor("127.0.0.1", "127.0.0.1:443").value(), "https://127.0.0.1");
  EXPECT_FALSE(CaUrlFor("x", "nope").ok());
  EXPECT_FALSE(CaUrlFor("x", ":44a").ok());
}

TEST(CliInit, Ed25519AndRsaCaKeys) {
  for (const char* kty : {"OKP", "RSA"}) {
    ScratchDir dir;
    InitOptions o = QuickOptions(dir);
    o.kty = kty;
    auto r = InitPki(o);
    ASSERT_TRUE(r.ok()) << kty << ": " << r.status().message();
    std::string pem = ReadFile(r->intermediate_key).value();
    if (std::string(kty) == "OKP") {
      EXPECT_EQ(pem.rfind("-----BEGIN ENCRYPTED PRIVATE KEY-----", 0), 0u);
    } else {
      EXPECT_EQ(pem.rfind("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED", 0), 0u);
    }
    auto key = LoadPrivateKeyPem(pem, "pw");
    ASSERT_TRUE(key.ok()) << kty << ": " << key.status().message();
    X509Ptr inter = ReadCert(r->intermediate_cert);
    X509Ptr root = ReadCert(r->root_cert);
    EXPECT_EQ(EVP_PKEY_eq(key->get(), X509_get0_pubkey(inter.get())), 1);
    EXPECT_TRUE(Verifies(inter.get(), root.get())) << kty;
  }
}

}  // namespace
}  // namespace cli
}  // namespace stepca
