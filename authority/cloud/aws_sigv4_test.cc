#include "authority/cloud/aws_sigv4.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

namespace stepca::cloud {
namespace {

std::string Header(const std::vector<std::string>& h, const std::string& name) {
  for (const auto& line : h)
    if (line.rfind(name + ": ", 0) == 0) return line.substr(name.size() + 2);
  return "";
}

TEST(AwsSigV4, SignsTheRequestForItsScope) {
  AwsCredentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  const std::time_t t = 1440938160;  // 2015-08-30T12:36:00Z
  auto h = SignAwsJsonPost(c, "us-east-1", "kms", "kms.us-east-1.amazonaws.com",
                           "TrentService.Sign", "{\"KeyId\":\"k\"}", t);
  EXPECT_EQ(Header(h, "X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(Header(h, "X-Amz-Target"), "TrentService.Sign");
  EXPECT_EQ(Header(h, "Content-Type"), "application/x-amz-json-1.1");
  const std::string auth = Header(h, "Authorization");
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
                       "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=", 0), 0u)
      << auth;
  EXPECT_EQ(auth.size() - auth.rfind('=') - 1, 64u);
  EXPECT_EQ(auth.find(c.secret_access_key), std::string::npos);
  // Deterministic, and every signed input changes it.
  EXPECT_EQ(auth, Header(SignAwsJsonPost(c, "us-east-1", "kms", "kms.us-east-1.amazonaws.com",
                                         "TrentService.Sign", "{\"KeyId\":\"k\"}", t), "Authorization"));
  for (auto other : {SignAwsJsonPost(c, "us-east-1", "kms", "kms.us-east-1.amazonaws.com",
                                     "TrentService.Sign", "{\"KeyId\":\"j\"}", t),
                     SignAwsJsonPost(c, "us-east-1", "kms", "kms.us-east-1.amazonaws.com",
                                     "TrentService.GetPublicKey", "{\"KeyId\":\"k\"}", t),
                     SignAwsJsonPost(c, "us-east-1", "kms", "127.0.0.1:9", "TrentService.Sign",
                                     "{\"KeyId\":\"k\"}", t),
                     SignAwsJsonPost(AwsCredentials{"AKIDEXAMPLE", "other", ""}, "us-east-1", "kms",
                                     "kms.us-east-1.amazonaws.com", "TrentService.Sign",
                                     "{\"KeyId\":\"k\"}", t)})
    EXPECT_NE(Header(other, "Authorization"), auth);
}

TEST(AwsSigV4, SessionTokenIsSentAndSigned) {
  AwsCredentials c{"ASIAEXAMPLE", "secret", "FwoGZXIvYXdzEXAMPLE"};
  auto h = SignAwsJsonPost(c, "eu-west-1", "kms", "h", "TrentService.Sign", "{}", 0);
  EXPECT_EQ(Header(h, "X-Amz-Security-Token"), "FwoGZXIvYXdzEXAMPLE");
  EXPECT_NE(Header(h, "Authorization").find("x-amz-date;x-amz-security-token;x-amz-target"),
            std::string::npos);
}

class AwsCredentialsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stepca-aws-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/credentials";
    std::ofstream(path_) << "[default]\naws_access_key_id = AKIADEFAULT\n"
                            "aws_secret_access_key = default-secret\n\n"
                            "# comment\n[ca]\naws_access_key_id=AKIACA\naws_secret_access_key=ca-secret\n"
                            "aws_session_token = tok\n[half]\naws_access_key_id = AKIAHALF\n";
    for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                          "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"})
      unsetenv(v);
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(AwsCredentialsFile, ProfilesOfTheFile) {
  auto d = LoadAwsCredentials("", path_);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->access_key_id, "AKIADEFAULT");
  auto ca = LoadAwsCredentials("ca", path_);
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  EXPECT_EQ(ca->access_key_id, "AKIACA");
  EXPECT_EQ(ca->secret_access_key, "ca-secret");
  EXPECT_EQ(ca->session_token, "tok");
  setenv("AWS_PROFILE", "ca", 1);
  EXPECT_EQ(LoadAwsCredentials("", path_)->access_key_id, "AKIACA");
  setenv("AWS_SHARED_CREDENTIALS_FILE", path_.c_str(), 1);
  EXPECT_EQ(LoadAwsCredentials("default", "")->access_key_id, "AKIADEFAULT");
  unsetenv("AWS_PROFILE");
  unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

TEST_F(AwsCredentialsFile, EnvironmentWinsWhenNoFileOrProfileIsNamed) {
  setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
  EXPECT_EQ(LoadAwsCredentials("", "")->access_key_id, "AKIAENV");
  EXPECT_EQ(LoadAwsCredentials("ca", path_)->access_key_id, "AKIACA");
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST_F(AwsCredentialsFile, MissingProfileKeysOrFileAreNamedWithoutSecrets) {
  auto none = LoadAwsCredentials("nobody", path_);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("has no profile [nobody]"), std::string::npos);
  auto half = LoadAwsCredentials("half", path_);
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("lacks aws_access_key_id or aws_secret_access_key"),
            std::string::npos);
  auto missing = LoadAwsCredentials("", dir_ + "/absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot read " + dir_ + "/absent"), std::string::npos);
  for (const auto* r : {&none, &half, &missing})
    for (const char* secret : {"default-secret", "ca-secret"})
      EXPECT_EQ(r->status().message().find(secret), std::string::npos);
}

}  // namespace
}  // namespace stepca::cloud
