#include "cli/ssh_certificate.h"

#include <gtest/gtest.h>

#include <sstream>

#include "authority/ossl.h"
#include "cli/commands.h"
#include "cli/token.h"

namespace stepca {
namespace cli {
namespace {

TEST(SshCertificateCli, DefaultPrincipalsAreSteps) {
  EXPECT_EQ(DefaultSshPrincipals(false, "alice@example.com"),
            (std::vector<std::string>{"alice", "alice@example.com"}));
  EXPECT_EQ(DefaultSshPrincipals(false, "alice"), std::vector<std::string>{"alice"});
  EXPECT_EQ(DefaultSshPrincipals(false, "@odd"), std::vector<std::string>{"@odd"});
  EXPECT_EQ(DefaultSshPrincipals(true, "web@example.com"), std::vector<std::string>{"web@example.com"});
}

TEST(SshCertificateCli, CertificatePathIsBesideTheKey) {
  EXPECT_EQ(SshCertificatePath("/etc/ssh/ssh_host_ecdsa_key.pub", true), "/etc/ssh/ssh_host_ecdsa_key-cert.pub");
  EXPECT_EQ(SshCertificatePath("id_ecdsa", false), "id_ecdsa-cert.pub");
  EXPECT_EQ(SshCertificatePath("key", true), "key-cert.pub");
}

TEST(SshCertificateCli, TokenClaimAndBodyHaveStepsShape) {
  JsonPtr c = SshTokenClaim(true, "web.example.com", {"web.example.com"}, "", "720h");
  char* s = json_dumps(c.get(), JSON_COMPACT | JSON_SORT_KEYS);
  EXPECT_STREQ(s, R"({"certType":"host","keyID":"web.example.com","principals":["web.example.com"],"validAfter":"","validBefore":"720h"})");
  free(s);
  EXPECT_EQ(BuildSshSignBody("\x01\x02", "tok", false, "alice", {"alice"}, "", ""),
            R"({"publicKey":"AQI=","ott":"tok","certType":"user","keyID":"alice","principals":["alice"]})");
  EXPECT_EQ(BuildSshSignBody("k", "t", true, "h", {}, "1m", "2h"),
            R"({"publicKey":"aw==","ott":"t","certType":"host","keyID":"h","principals":[],"validAfter":"1m","validBefore":"2h"})");
}

TEST(SshCertificateCli, SshTokenClaimsCarryStepSshAndTheSshAudience) {
  JsonPtr ssh = SshTokenClaim(false, "alice@example.com", {"alice"}, "", "");
  TokenClaimsRequest r;
  r.subject = "alice@example.com";
  r.ca_url = "https://ca.example.com:9000/";
  r.issuer = "admin";
  r.ssh = ssh.get();
  auto c = BuildTokenClaims(r);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_STREQ(json_string_value(json_object_get(c->get(), "aud")), "https://ca.example.com:9000/1.0/ssh/sign");
  EXPECT_EQ(json_object_get(c->get(), "sans"), nullptr);
  EXPECT_TRUE(json_equal(json_object_get(json_object_get(c->get(), "step"), "ssh"), ssh.get()));
}

TEST(SshCertificateCli, BadArgumentsAreRefusedBeforeAnyRequest) {
  std::ostringstream out, err;
  const char* none[] = {"stepca", "ssh"};
  EXPECT_EQ(RunCli(2, none, out, err), 1);
  EXPECT_NE(err.str().find("usage: stepca ssh certificate"), std::string::npos);
  err.str("");
  const char* one[] = {"stepca", "ssh", "certificate", "alice"};
  EXPECT_EQ(RunCli(4, one, out, err), 1);
  EXPECT_NE(err.str().find("requires the KEY_ID and KEY_FILE"), std::string::npos);
  err.str("");
  const char* okp[] = {"stepca", "ssh", "certificate", "alice", "/nonexistent/k", "--kty", "OKP",
                       "--ca-url", "https://127.0.0.1:1", "--root", "/nonexistent/root.crt",
                       "--provisioner-password-file", "/nonexistent/pw"};
  EXPECT_EQ(RunCli(13, okp, out, err), 1);
  EXPECT_NE(err.str().find("error: "), std::string::npos) << err.str();
  err.str("");
  const char* unknown[] = {"stepca", "ssh", "certificate", "a", "k", "--bogus"};
  EXPECT_EQ(RunCli(6, unknown, out, err), 1);
}

}  // namespace
}  // namespace cli
}  // namespace stepca
