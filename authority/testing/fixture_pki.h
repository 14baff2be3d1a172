// Test support: a private copy of the PKI that the real `step ca init`
// wrote (testdata/step-0.19/pki), with "$STEPPATH" replaced by the copy's
// path, and tokens minted with its provisioner key.
#ifndef STEPCA_AUTHORITY_TESTING_FIXTURE_PKI_H
#define STEPCA_AUTHORITY_TESTING_FIXTURE_PKI_H

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "authority/jose/jwe.h"
#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"
#include "authority/ossl.h"
#include "shared/base64.h"

namespace stepca {
namespace testing {

inline std::string FixturesDir() { return STEPCA_FIXTURES_DIR; }

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// A file of testdata/step-0.19 (STEPCA_FIXTURES_DIR), as it is.
inline std::string ReadFixture(const std::string& rel) {
  return ReadFile(FixturesDir() + "/" + rel);
}

// The JWK provisioner object of the fixture ca.json (unmodified).
inline JsonPtr FixtureJwkProvisioner() {
  const std::string text = ReadFixture("pki/config/ca.json");
  json_error_t err;
  JsonPtr ca(json_loadb(text.data(), text.size(), 0, &err));
  if (!ca) return nullptr;
  json_t* provs = json_object_get(json_object_get(ca.get(), "authority"), "provisioners");
  size_t i;
  json_t* p;
  json_array_foreach(provs, i, p) {
    if (std::string(json_string_value(json_object_get(p, "type"))) == "JWK")
      return JsonPtr(json_incref(p));
  }
  return nullptr;
}

inline std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

constexpr const char* kProvisionerName = "fixture@example.test";
constexpr const char* kProvisionerKid = "dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg";

class FixturePki {
 public:
  FixturePki() {
    char tmpl[] = "/tmp/stepca-pki-XXXXXX";
    dir_ = mkdtemp(tmpl);
    const std::string src = FixturesDir() + "/pki";
    std::string cmd = "cp -r '" + src + "/.' '" + dir_ + "/' && mkdir -p '" + dir_ + "/db'";
    if (std::system(cmd.c_str()) != 0) std::abort();
    ca_json_ = dir_ + "/config/ca.json";
    WriteFile(ca_json_, ReplaceAll(ReadFile(ca_json_), "$STEPPATH", dir_));
  }
  ~FixturePki() {
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)!std::system(cmd.c_str());
  }

  const std::string& dir() const { return dir_; }
  const std::string& ca_json() const { return ca_json_; }
  std::string password_file() const { return dir_ + "/password.txt"; }
  std::string store_uri() const { return "lmdb:" + dir_ + "/db"; }

  // Rewrites ca.json through f (a function of the parsed object).
  template <typename F>
  void EditCaJson(F f) {
    json_error_t err;
    JsonPtr root(json_load_file(ca_json_.c_str(), 0, &err));
    f(root.get());
    json_dump_file(root.get(), ca_json_.c_str(), JSON_INDENT(1) | JSON_PRESERVE_ORDER);
  }

  // The JWK provisioner's private key, from its encryptedKey.
  EvpPkeyPtr ProvisionerKey() const {
    json_error_t err;
    JsonPtr root(json_load_file(ca_json_.c_str(), 0, &err));
    const json_t* p = json_array_get(
        json_object_get(json_object_get(root.get(), "authority"), "provisioners"), 0);
    auto plain = DecryptPbes2Jwe(json_string_value(json_object_get(p, "encryptedKey")),
                                 "fixture-provisioner-password");
    auto jwk = ParseJwkText(plain.value());
    return std::move(jwk.value().key);
  }

 private:
  std::string dir_;
  std::string ca_json_;
};

inline int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string RandomJti() {
  unsigned char b[32];
  RAND_bytes(b, sizeof b);
  return HexEncode(std::string(reinterpret_cast<char*>(b), sizeof b));
}

// Claims as `step ca token` writes them; callers edit the object.
inline JsonPtr StepTokenClaims(const std::string& subject,
                               const std::string& aud = "https://127.0.0.1:9643/1.0/sign") {
  const int64_t now = Now();
  JsonPtr c(json_object());
  json_object_set_new(c.get(), "aud", json_string(aud.c_str()));
  json_object_set_new(c.get(), "exp", json_integer(now + 300));
  json_object_set_new(c.get(), "iat", json_integer(now));
  json_object_set_new(c.get(), "iss", json_string(kProvisionerName));
  json_object_set_new(c.get(), "jti", json_string(RandomJti().c_str()));
  json_object_set_new(c.get(), "nbf", json_integer(now));
  json_t* sans = json_array();
  json_array_append_new(sans, json_string(subject.c_str()));
  json_object_set_new(c.get(), "sans", sans);
  json_object_set_new(c.get(), "sub", json_string(subject.c_str()));
  return c;
}

inline std::string MintToken(EVP_PKEY* key, const json_t* claims,
                             const std::string& kid = kProvisionerKid) {
  JsonPtr header(json_pack("{s:s,s:s,s:s}", "alg", "ES256", "kid", kid.c_str(), "typ", "JWT"));
  return SignCompactJws(header.get(), claims, key).value();
}

// A key: "P-256", "P-384", "P-521", "ED25519", "RSA-2048", "RSA-1024".
inline EvpPkeyPtr MakeKey(const std::string& type) {
  if (type.rfind("P-", 0) == 0) return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", type.c_str()));
  if (type == "ED25519") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  size_t bits = std::stoul(type.substr(4));
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
}

// A CSR with subject CN=cn (omitted when empty) and DNS SANs.
inline std::string MakeCsrPem(const std::string& cn, const std::vector<std::string>& dns,
                              const std::string& keytype = "P-256") {
  EvpPkeyPtr key = MakeKey(keytype);
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (!cn.empty())
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key.get());
  if (!dns.empty()) {
    std::string value;
    for (auto& d : dns) value += (value.empty() ? "DNS:" : ",DNS:") + d;
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, value.c_str());
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  const bool ed = keytype == "ED25519";
  X509_REQ_sign(req.get(), key.get(), ed ? nullptr : EVP_sha256());
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

}  // namespace testing
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TESTING_FIXTURE_PKI_H
