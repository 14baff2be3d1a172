// What `stepca init` writes loads in our authority, and what `stepca token`
// and the certificate flow send is accepted by it: the CLI and the server
// agree on ca.json, the provisioner key, the token and the sign body.
#include <gtest/gtest.h>

#include "authority/api/router.h"
#include "authority/authority.h"
#include "authority/x509/csr.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "cli/init.h"
#include "cli/sign_flow.h"
#include "cli/testing_util.h"
#include "cli/token.h"

namespace stepca {
namespace cli {
namespace {

using testing::ScratchDir;

class CliAuthorityCompat : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions o;
    o.name = "Compat CA";
    o.dns = {"localhost", "127.0.0.1"};
    o.address = ":9443";
    o.provisioner = "jwk@compat.test";
    o.password = "ca-pass";
    o.provisioner_password = "prov-pass";
    o.steppath = dir_.File("step");
    o.p2c = 1000;
    o.acme = true;
    auto r = InitPki(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    pki_ = r.value();
    ASSERT_TRUE(WriteFile(dir_.File("pw"), "ca-pass\n", 0600).ok());
    ASSERT_TRUE(MakeDirs(dir_.File("store"), 0700).ok());
    auto a = Authority::Load({pki_.ca_config, dir_.File("pw"),
                              "lmdb:" + dir_.File("store"), "test"});
    ASSERT_TRUE(a.ok()) << a.status().message();
    authority_ = std::move(a).value();
    Status st = authority_->InitProcess();
    ASSERT_TRUE(st.ok()) << st.message();
  }

  Result<std::string> Token(const std::string& subject, std::vector<std::string> sans,
                            bool revoke = false) {
    TokenFlowOptions o;
    o.subject = subject;
    o.sans = std::move(sans);
    o.revoke = revoke;
    o.provisioner = "jwk@compat.test";
    o.password = "prov-pass";
    o.ca_url = pki_.ca_url;
    o.root = pki_.root_cert;
    o.ca_config = pki_.ca_config;
    o.offline = true;
    return GenerateToken(o);
  }

  ScratchDir dir_;
  InitResult pki_;
  std::unique_ptr<Authority> authority_;
};

TEST_F(CliAuthorityCompat, TheAuthoritySignsWhatTheCliSends) {
  EXPECT_EQ(authority_->fingerprints().at(0), pki_.fingerprint);
  auto key = GenerateKey("EC", "P-256");
  std::vector<std::string> names = {"svc.compat.test", "127.0.0.1"};
  auto csr = MakeCsr(key->get(), "svc.compat.test", names);
  ASSERT_TRUE(csr.ok());
  auto token = Token("svc.compat.test", names);
  ASSERT_TRUE(token.ok()) << token.status().message();

  ::stepca::HttpRequest req;
  req.method = "POST";
  req.path = "/1.0/sign";
  std::string body = BuildSignBody(CsrToPem(csr->get()), token.value(), "", "1h");
  req.body = body;
  ::stepca::HttpResponse resp = HandleHttp(*authority_, req);
  ASSERT_EQ(resp.status, 201) << resp.body << " " << resp.log_message;
  json_error_t err;
  JsonPtr j(json_loadb(resp.body.data(), resp.body.size(), 0, &err));
  ASSERT_TRUE(j);
  auto chain = ChainFromSignResponse(j.get());
  ASSERT_TRUE(chain.ok());
  auto certs = ParseCertificatesPem(chain.value());
  ASSERT_TRUE(certs.ok());
  ASSERT_EQ(certs->size(), 2u);
  X509* leaf = certs.value()[0].get();
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf), key->get()), 1);
  EXPECT_EQ(X509_check_host(leaf, "svc.compat.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);

  // The same token again is refused (one-time use).
  resp = HandleHttp(*authority_, req);
  EXPECT_EQ(resp.status, 401);
}

TEST_F(CliAuthorityCompat, RevokeTokenIsAccepted) {
  auto key = GenerateKey("EC", "P-256");
  auto csr = MakeCsr(key->get(), "rev.compat.test", {"rev.compat.test"});
  auto token = Token("rev.compat.test", {});
  ASSERT_TRUE(token.ok());
  SignRequest sr;
  sr.csr_pem = CsrToPem(csr->get());
  sr.ott = token.value();
  auto signed_cert = authority_->policy().Sign(sr, Clock::now());
  ASSERT_TRUE(signed_cert.ok()) << signed_cert.status().message();

  auto revoke = Token(signed_cert->leaf.serial, {}, true);
  ASSERT_TRUE(revoke.ok());
  std::string body = "{\"serial\":\"" + signed_cert->leaf.serial +
                     "\",\"ott\":\"" + revoke.value() + "\",\"reasonCode\":4,\"passive\":true}";
  ::stepca::HttpRequest req;
  req.method = "POST";
  req.path = "/1.0/revoke";
  req.body = body;
  ::stepca::HttpResponse resp = HandleHttp(*authority_, req);
  if (resp.status == 501) GTEST_SKIP() << "the authority does not serve revoke yet: " << resp.body;
  EXPECT_EQ(resp.status, 200) << resp.body << " " << resp.log_message;
}

}  // namespace
}  // namespace cli
}  // namespace stepca
