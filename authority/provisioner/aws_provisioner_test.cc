#include "authority/provisioner/aws_provisioner.h"

#include <gtest/gtest.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "authority/jose/jws.h"
#include "shared/base64.h"

namespace stepca {
namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A stand-in for AWS: an RSA key and a self-signed certificate for it.
struct FakeAws {
  EvpPkeyPtr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", 2048)};
  X509Ptr cert{X509_new()};
  std::string dir;
  FakeAws() {
    X509_set_version(cert.get(), X509_VERSION_3);
    ASN1_TIME_set(X509_getm_notBefore(cert.get()), Now() - 3600);
    ASN1_TIME_set(X509_getm_notAfter(cert.get()), Now() + 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_sign(cert.get(), key.get(), EVP_sha256());
    char tmpl[] = "/tmp/aws-test-XXXXXX";
    dir = mkdtemp(tmpl);
    FILE* f = fopen((dir + "/aws.pem").c_str(), "w");
    PEM_write_X509(f, cert.get());
    fclose(f);
  }
  ~FakeAws() {
    unlink((dir + "/aws.pem").c_str());
    rmdir(dir.c_str());
  }
  std::string SignDoc(const std::string& doc) {
    OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
    size_t n = 0;
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get());
    EVP_DigestSign(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(doc.data()), doc.size());
    std::string sig(n, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(&sig[0]), &n,
                   reinterpret_cast<const unsigned char*>(doc.data()), doc.size());
    sig.resize(n);
    return sig;
  }
};

std::string Document(const char* pending = "2026-01-01T00:00:00Z") {
  return std::string(R"({"accountId":"123456789012","instanceId":"i-0abc","privateIp":"10.0.1.2",)") +
         R"("region":"us-east-1","pendingTime":")" + pending + "\"}";
}

// The token step builds: HS256 keyed with the document signature.
std::string Token(const std::string& doc, const std::string& sig, const char* sub = "i-0abc",
                  const char* aud = "https://ca.test/1.0/sign#aws/aws") {
  JsonPtr h(json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT"));
  JsonPtr p(json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:{s:s,s:s}}", "iss", "ec2.amazonaws.com", "sub", sub,
                      "aud", aud, "nbf", (json_int_t)Now(), "exp", (json_int_t)(Now() + 300), "jti", "j1",
                      "amazon", "document", Base64Encode(doc).c_str(), "signature",
                      Base64Encode(sig).c_str()));
  auto dump = [](json_t* j) {
    char* s = json_dumps(j, JSON_COMPACT);
    std::string out(s);
    free(s);
    return out;
  };
  const std::string input = Base64UrlEncode(dump(h.get())) + "." + Base64UrlEncode(dump(p.get()));
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), sig.data(), static_cast<int>(sig.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
}

class AwsTest : public ::testing::Test {
 protected:
  void Load(const std::string& extra = "") {
    const std::string entry = R"({"type":"AWS","name":"aws","iidRoots":"aws.pem")" + extra + "}";
    JsonPtr obj(json_loads(entry.c_str(), 0, nullptr));
    ASSERT_TRUE(obj) << entry;
    auto p = ParseAwsProvisioner(obj.get(), "p", "aws", Claims{}, JsonPtr(json_deep_copy(obj.get())), aws_.dir);
    ASSERT_TRUE(p.ok()) << p.status().message();
    prov_ = std::move(p).value();
  }
  Result<SignGrant> Sign(const std::string& token) {
    auto jws = ParseCompactJws(token);
    if (!jws.ok()) return jws.status();
    auto claims = ReadTokenClaims(jws->payload.get());
    if (!claims.ok()) return claims.status();
    return prov_->AuthorizeSign(*jws, *claims, Audiences({"ca.test"}), TimePoint(std::chrono::seconds(Now())));
  }
  FakeAws aws_;
  std::unique_ptr<Provisioner> prov_;
};

TEST_F(AwsTest, DocumentSignedByAwsIsTrustedOnFirstUse) {
  Load();
  const std::string doc = Document();
  auto g = Sign(Token(doc, aws_.SignDoc(doc)));
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->subject, "i-0abc");
  EXPECT_EQ(g->csr_names, CsrNames::kGrantedSameSubject);
  EXPECT_FALSE(g->instance_key.empty());
  EXPECT_TRUE(g->token_key.empty());
  EXPECT_EQ(g->info.credential_id, "123456789012");
}

TEST_F(AwsTest, DisableCustomSansAndTofu) {
  Load(R"(,"disableCustomSANs":true,"disableTrustOnFirstUse":true,"accounts":["123456789012"])");
  const std::string doc = Document();
  auto g = Sign(Token(doc, aws_.SignDoc(doc)));
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->csr_names, CsrNames::kMustMatch);
  EXPECT_EQ(g->sans, (std::vector<std::string>{"ip-10-0-1-2.us-east-1.compute.internal", "10.0.1.2"}));
  EXPECT_TRUE(g->instance_key.empty());
  EXPECT_FALSE(g->token_key.empty());
  // With disableCustomSANs the subject must be one of the instance's names.
  EXPECT_FALSE(Sign(Token(doc, aws_.SignDoc(doc), "www.example.com")).ok());
}

TEST_F(AwsTest, RefusesBadDocuments) {
  Load(R"(,"accounts":["999"],"instanceAge":"1h")");
  const std::string doc = Document();
  auto wrong_account = Sign(Token(doc, aws_.SignDoc(doc)));
  ASSERT_FALSE(wrong_account.ok());
  EXPECT_NE(wrong_account.status().message().find("accountId is not valid"), std::string::npos);
  Load(R"(,"instanceAge":"1h")");
  auto old = Sign(Token(doc, aws_.SignDoc(doc)));
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("pendingTime is too old"), std::string::npos);
  Load();
  // A document changed after AWS signed it.
  std::string tampered = doc;
  tampered.replace(tampered.find("10.0.1.2"), 8, "10.9.9.9");
  EXPECT_FALSE(Sign(Token(tampered, aws_.SignDoc(doc))).ok());
  // Signed by someone who is not AWS.
  FakeAws other;
  EXPECT_FALSE(Sign(Token(doc, other.SignDoc(doc))).ok());
  // Wrong audience.
  EXPECT_FALSE(Sign(Token(doc, aws_.SignDoc(doc), "i-0abc", "https://ca.test/1.0/sign#aws/other")).ok());
  EXPECT_FALSE(ParseAwsIdentityDocument(R"({"accountId":"1"})").ok());
}

TEST(AwsParse, BuiltInCertificatesAndBadRoots) {
  JsonPtr obj(json_loads(R"({"type":"AWS","name":"a"})", 0, nullptr));
  EXPECT_TRUE(ParseAwsProvisioner(obj.get(), "p", "a", Claims{}, JsonPtr(json_object()), "/").ok());
  JsonPtr bad(json_loads(R"({"type":"AWS","name":"a","iidRoots":"/nonexistent.pem"})", 0, nullptr));
  EXPECT_FALSE(ParseAwsProvisioner(bad.get(), "p", "a", Claims{}, JsonPtr(json_object()), "/").ok());
}

}  // namespace
}  // namespace stepca
