#include "authority/cloud/google_service_account.h"

#include <gtest/gtest.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <fstream>

#include "shared/base64.h"

namespace stepca::cloud {
namespace {

class ServiceAccountFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stepca-gsa-XXXXXX";
    dir_ = mkdtemp(tmpl);
    key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    pem_.assign(data, n);
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + dir_ + "'").c_str()); }

  std::string Write(const std::string& name, json_t* doc) {
    char* text = json_dumps(doc, 0);
    json_decref(doc);
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    free(text);
    return path;
  }

  std::string dir_, pem_;
  EvpPkeyPtr key_;
};

TEST_F(ServiceAccountFile, AssertionIsAnRs256GrantForTheTokenUri) {
  const std::string path = Write("sa.json", json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "service_account",
      "client_email", "ca@p.iam.gserviceaccount.com", "private_key_id", "kid1", "private_key",
      pem_.c_str(), "token_uri", "http://127.0.0.1:1/token"));
  auto sa = GoogleServiceAccount::FromFile(path, "https://www.googleapis.com/auth/cloudkms");
  ASSERT_TRUE(sa.ok()) << sa.status().message();
  auto jwt = (*sa)->Assertion(1700000000);
  ASSERT_TRUE(jwt.ok()) << jwt.status().message();
  const size_t a = jwt->find('.'), b = jwt->rfind('.');
  ASSERT_NE(a, b);
  auto header = Base64UrlDecode(jwt->substr(0, a));
  auto claims = Base64UrlDecode(jwt->substr(a + 1, b - a - 1));
  auto sig = Base64UrlDecode(jwt->substr(b + 1));
  ASSERT_TRUE(header && claims && sig);
  EXPECT_EQ(*header, R"({"alg":"RS256","typ":"JWT","kid":"kid1"})");
  JsonPtr c(json_loads(claims->c_str(), 0, nullptr));
  EXPECT_STREQ(json_string_value(json_object_get(c.get(), "iss")), "ca@p.iam.gserviceaccount.com");
  EXPECT_STREQ(json_string_value(json_object_get(c.get(), "aud")), "http://127.0.0.1:1/token");
  EXPECT_STREQ(json_string_value(json_object_get(c.get(), "scope")), "https://www.googleapis.com/auth/cloudkms");
  EXPECT_EQ(json_integer_value(json_object_get(c.get(), "iat")), 1700000000);
  EXPECT_EQ(json_integer_value(json_object_get(c.get(), "exp")), 1700003600);
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()), 1);
  const std::string input = jwt->substr(0, b);
  EXPECT_EQ(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()), 1);
}

TEST_F(ServiceAccountFile, BadFilesAreNamedWithoutTheKey) {
  EXPECT_NE(GoogleServiceAccount::FromFile(dir_ + "/absent.json", "s").status().message().find(
                "cannot read the credentials file " + dir_ + "/absent.json"),
            std::string::npos);
  const std::string user = Write("user.json", json_pack("{s:s,s:s}", "type", "authorized_user",
                                                        "private_key", pem_.c_str()));
  auto u = GoogleServiceAccount::FromFile(user, "s");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("is not a service-account key"), std::string::npos);
  const std::string nokey = Write("nokey.json", json_pack("{s:s,s:s,s:s}", "type", "service_account",
                                                          "client_email", "a@b", "private_key", "garbage"));
  auto k = GoogleServiceAccount::FromFile(nokey, "s");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("is not an RSA PEM key"), std::string::npos);
  EXPECT_EQ(k.status().message().find("garbage"), std::string::npos);
  const std::string noemail = Write("noemail.json", json_pack("{s:s,s:s}", "type", "service_account",
                                                              "private_key", pem_.c_str()));
  auto e = GoogleServiceAccount::FromFile(noemail, "s");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("has no client_email"), std::string::npos);
  EXPECT_EQ(e.status().message().find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace stepca::cloud
