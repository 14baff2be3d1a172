#include "cli/template_cert.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <sstream>

#include "cli/commands.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "cli/init.h"
#include "cli/testing_util.h"

namespace stepca {
namespace cli {
namespace {

using testing::ScratchDir;

// The production guide's intermediate template, as printed there (with
// its stray closing brace, which step's JSON decoder leaves unread).
constexpr char kSeedTemplate[] =
    R"({ "subject": {{ toJson .Subject }}, "keyUsage": ["certSign", "crlSign"], )"
    R"("basicConstraints": { "isCA": true, "maxPathLen": 0 }, )"
    R"("crlDistributionPoints": ["http://crl.example.com/crl/ca.crl"] } })";

std::string CrlUri(X509* cert) {
  auto* dps = static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr));
  if (dps == nullptr) return "";
  std::string out;
  const DIST_POINT* dp = sk_DIST_POINT_value(dps, 0);
  const GENERAL_NAME* gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
  out.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)),
             static_cast<size_t>(ASN1_STRING_length(gn->d.uniformResourceIdentifier)));
  CRL_DIST_POINTS_free(dps);
  return out;
}

struct Root {
  EvpPkeyPtr key;
  X509Ptr cert;
};

Root MakeRoot() {
  Root r;
  r.key = GenerateKey("EC", "").value();
  CaCertificateRequest req;
  req.organization = "T";
  req.common_name = "T Root CA";
  req.path_len = 1;
  req.key = r.key.get();
  req.issuer_key = r.key.get();
  req.not_before = Clock::now() - std::chrono::hours(1);
  req.not_after = Clock::now() + std::chrono::hours(100000);
  r.cert = MakeCaCertificate(req).value();
  return r;
}

TEST(MakeCertificateFromTemplate, SeedIntermediateHasTheCrlDistributionPoint) {
  Root root = MakeRoot();
  EvpPkeyPtr key = GenerateKey("EC", "").value();
  TemplateCertificateRequest r;
  r.template_text = kSeedTemplate;
  r.template_name = "intermediate.tpl";
  r.common_name = "Example Intermediate CA";
  r.key = key.get();
  r.issuer = root.cert.get();
  r.issuer_key = root.key.get();
  r.not_before = Clock::now();
  r.not_after = Clock::now() + std::chrono::hours(87660);
  auto cert = MakeCertificateFromTemplate(r);
  ASSERT_TRUE(cert.ok()) << cert.status().message();
  X509* c = cert->get();
  EXPECT_EQ(CrlUri(c), "http://crl.example.com/crl/ca.crl");
  EXPECT_EQ(X509_check_ca(c), 1);
  EXPECT_EQ(X509_get_pathlen(c), 0);
  EXPECT_EQ(X509_get_key_usage(c), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(X509_verify(c, X509_get0_pubkey(root.cert.get())), 1);
  char cn[128];
  X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "Example Intermediate CA");
  // No provisioner extension outside the CA.
  EXPECT_LT(X509_get_ext_by_OBJ(c, OBJ_txt2obj("1.3.6.1.4.1.37476.9000.64.1", 1), -1), 0);

  r.template_text = "{{ fail \"no\" }}";
  auto failed = MakeCertificateFromTemplate(r);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "no");
  r.template_text = "{ {{ if }} }";
  auto broken = MakeCertificateFromTemplate(r);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("intermediate.tpl:1:"), std::string::npos);
}

TEST(RunCertificateCreate, WritesTheCertificateAndAnEncryptedKey) {
  ScratchDir dir;
  Root root = MakeRoot();
  ASSERT_TRUE(WriteFile(dir.File("root.crt"), CertificateToPemText(root.cert.get()), 0644).ok());
  ASSERT_TRUE(WriteFile(dir.File("root.key"), PrivateKeyToPem(root.key.get(), "rootpw").value(), 0600).ok());
  ASSERT_TRUE(WriteFile(dir.File("root.pw"), "rootpw\n", 0600).ok());
  ASSERT_TRUE(WriteFile(dir.File("int.pw"), "intpw\n", 0600).ok());
  ASSERT_TRUE(WriteFile(dir.File("intermediate.tpl"), kSeedTemplate, 0644).ok());
  const char* argv[] = {"stepca", "certificate", "create", "Example Intermediate CA",
                        nullptr, nullptr, "--template", nullptr, "--ca", nullptr, "--ca-key",
                        nullptr, "--ca-password-file", nullptr, "--password-file", nullptr,
                        "--not-after", "87660h"};
  const std::string crt = dir.File("int.crt"), key = dir.File("int.key"),
                    tpl = dir.File("intermediate.tpl"), rc = dir.File("root.crt"),
                    rk = dir.File("root.key"), rpw = dir.File("root.pw"), ipw = dir.File("int.pw");
  argv[4] = crt.c_str();
  argv[5] = key.c_str();
  argv[7] = tpl.c_str();
  argv[9] = rc.c_str();
  argv[11] = rk.c_str();
  argv[13] = rpw.c_str();
  argv[15] = ipw.c_str();
  std::ostringstream out, err;
  ASSERT_EQ(RunCli(18, argv, out, err), 0) << err.str();
  auto pem = ReadFile(crt);
  ASSERT_TRUE(pem.ok());
  auto certs = ParseCertificatesPem(pem.value());
  ASSERT_TRUE(certs.ok());
  EXPECT_EQ(CrlUri(certs->front().get()), "http://crl.example.com/crl/ca.crl");
  EXPECT_NE(ReadFile(key).value().find("ENCRYPTED"), std::string::npos);

  // Without the CA key the command refuses.
  std::ostringstream out2, err2;
  const char* missing[] = {"stepca", "certificate", "create", "x", "a.crt", "a.key",
                           "--template", tpl.c_str(), "--ca", rc.c_str(), "--no-password", "--insecure"};
  EXPECT_EQ(RunCli(12, missing, out2, err2), 1);
  EXPECT_NE(err2.str().find("--ca-key"), std::string::npos) << err2.str();
}

TEST(InitPki, IntermediateFromATemplate) {
  ScratchDir dir;
  InitOptions o;
  o.name = "Tpl";
  o.dns = {"ca.example.test"};
  o.address = ":443";
  o.provisioner = "admin";
  o.password = "pw";
  o.provisioner_password = "ppw";
  o.steppath = dir.File("step");
  o.p2c = 1000;
  o.intermediate_template = kSeedTemplate;
  o.intermediate_template_name = "intermediate.tpl";
  auto r = InitPki(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto certs = ParseCertificatesPem(ReadFile(r->intermediate_cert).value());
  ASSERT_TRUE(certs.ok());
  X509* c = certs->front().get();
  EXPECT_EQ(CrlUri(c), "http://crl.example.com/crl/ca.crl");
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(c), buf, sizeof buf);
  EXPECT_STREQ(buf, "/O=Tpl/CN=Tpl Intermediate CA");

  o.force = true;
  o.intermediate_template = "{ {{ fail \"refused\" }} }";
  auto bad = InitPki(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "intermediate.tpl: refused");
}

}  // namespace
}  // namespace cli
}  // namespace stepca
