#include "authority/ra/google_oauth.h"

#include <gtest/gtest.h>

#include <openssl/pem.h>

#include <fstream>

#include "authority/testing/fixture_pki.h"

namespace stepca {
namespace {

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

std::string WriteCredentials(const std::string& name, json_t* doc) {
  const std::string path = ::testing::TempDir() + "/" + name;
  char* text = json_dumps(doc, 0);
  std::ofstream(path) << text;
  free(text);
  json_decref(doc);
  return path;
}

json_t* ServiceAccount(EVP_PKEY* key, const char* token_uri = "https://oauth2.googleapis.com/token") {
  return json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "service_account", "client_email",
                   "sa@p.iam.gserviceaccount.com", "private_key_id", "k1", "private_key",
                   KeyPem(key).c_str(), "token_uri", token_uri);
}

TEST(GoogleOauth, LoopbackHttpIsOnlyTheLoopback) {
  EXPECT_TRUE(IsLoopbackHttp("http://127.0.0.1:8080/token"));
  EXPECT_TRUE(IsLoopbackHttp("http://localhost"));
  EXPECT_TRUE(IsLoopbackHttp("http://[::1]:9/x"));
  EXPECT_FALSE(IsLoopbackHttp("http://127.0.0.1.evil.example/token"));
  EXPECT_FALSE(IsLoopbackHttp("http://localhost.example"));
  EXPECT_FALSE(IsLoopbackHttp("https://127.0.0.1"));
  EXPECT_FALSE(IsLoopbackHttp("http://oauth2.googleapis.com"));
}

TEST(GoogleOauth, LoadsAServiceAccountKey) {
  auto key = testing::MakeKey("RSA-2048");
  auto a = GoogleServiceAccount::Load(WriteCredentials("sa.json", ServiceAccount(key.get())));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a.value()->email(), "sa@p.iam.gserviceaccount.com");
}

TEST(GoogleOauth, RefusesWhatIsNotAServiceAccountKey) {
  auto rsa = testing::MakeKey("RSA-2048");
  auto ec = testing::MakeKey("P-256");
  json_t* user = ServiceAccount(rsa.get());
  json_object_set_new(user, "type", json_string("authorized_user"));
  json_t* no_email = ServiceAccount(rsa.get());
  json_object_del(no_email, "client_email");
  json_t* bad_key = ServiceAccount(rsa.get());
  json_object_set_new(bad_key, "private_key", json_string("-----BEGIN PRIVATE KEY-----\nAAAA\n"));
  struct Case {
    std::string file;
    std::string words;
  } cases[] = {
      {WriteCredentials("user.json", user), "\"type\" must be \"service_account\""},
      {WriteCredentials("noemail.json", no_email), "\"client_email\" is required"},
      {WriteCredentials("badkey.json", bad_key), "RSA private key"},
      {WriteCredentials("ec.json", ServiceAccount(ec.get())), "RSA private key"},
      {WriteCredentials("http.json", ServiceAccount(rsa.get(), "http://oauth2.example/token")),
       "\"token_uri\" must be an https:// URL"},
      {::testing::TempDir() + "/does-not-exist.json", "does-not-exist.json"},
  };
  for (const auto& c : cases) {
    auto a = GoogleServiceAccount::Load(c.file);
    ASSERT_FALSE(a.ok()) << c.file;
    EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
    EXPECT_NE(a.status().message().find(c.words), std::string::npos) << a.status().message();
    EXPECT_NE(a.status().message().find(c.file), std::string::npos) << a.status().message();
  }
}

TEST(GoogleOauth, AnUnreachableTokenEndpointIsUnavailable) {
  auto key = testing::MakeKey("RSA-2048");
  auto a = GoogleServiceAccount::Load(
      WriteCredentials("down.json", ServiceAccount(key.get(), "http://127.0.0.1:1/token")));
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto t = a.value()->AccessToken(false);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace stepca
