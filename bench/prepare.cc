// Off the clock: one distinct one-time token and one distinct CSR (its own
// key) per certificate, as `step ca token` and `step ca certificate` make
// them, minted with the library's JOSE functions.
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <mutex>
#include <thread>

#include "authority/jose/jwe.h"
#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"
#include "authority/ossl.h"
#include "bench/bench.h"
#include "shared/base64.h"

namespace stepca {
namespace bench {
namespace {

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Str(const json_t* obj, const char* key) {
  const char* s = json_string_value(json_object_get(obj, key));
  return s != nullptr ? s : "";
}

struct Provisioner {
  std::string name, kid, alg;
  EvpPkeyPtr key;
  std::string root_sha;  // hex SHA-256 of the root certificate (the "sha" claim)
};

Result<Provisioner> LoadProvisioner(const std::string& ca_json, const std::string& pw_file) {
  json_error_t err;
  JsonPtr root(json_load_file(ca_json.c_str(), 0, &err));
  if (!root) return InvalidArgument(ca_json + ": " + err.text);
  const json_t* provs =
      json_object_get(json_object_get(root.get(), "authority"), "provisioners");
  const json_t* jwk_prov = nullptr;
  size_t i;
  json_t* p;
  json_array_foreach(provs, i, p) {
    if (Str(p, "type") == "JWK" && !Str(p, "encryptedKey").empty()) {
      jwk_prov = p;
      break;
    }
  }
  if (jwk_prov == nullptr) return NotFound(ca_json + ": no JWK provisioner with an encryptedKey");
  STEPCA_ASSIGN_OR_RETURN(std::string password, ReadText(pw_file));
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
    password.pop_back();
  auto plain = DecryptPbes2Jwe(Str(jwk_prov, "encryptedKey"), password);
  Wipe(password);
  if (!plain.ok()) return plain.status();
  auto jwk = ParseJwkText(plain.value());
  Wipe(plain.value());
  if (!jwk.ok()) return jwk.status();

  Provisioner out;
  out.name = Str(jwk_prov, "name");
  out.kid = Str(json_object_get(jwk_prov, "key"), "kid");
  out.alg = jwk->alg.empty() ? "ES256" : jwk->alg;
  out.key = std::move(jwk->key);

  // The root's fingerprint, as step puts it in the token.
  STEPCA_ASSIGN_OR_RETURN(std::string root_pem, ReadText(Str(root.get(), "root")));
  BioPtr bio(BIO_new_mem_buf(root_pem.data(), static_cast<int>(root_pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return InvalidArgument("cannot parse the root certificate");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert.get(), EVP_sha256(), md, &n);
  out.root_sha = HexEncode(std::string(reinterpret_cast<char*>(md), n));
  return out;
}

EvpPkeyPtr MakeKey(const std::string& type) {
  if (type.rfind("P-", 0) == 0)
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", type.c_str()));
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
}

Result<std::string> MakeCsrPem(const std::string& name, const std::string& keytype) {
  EvpPkeyPtr key = MakeKey(keytype);
  if (!key) return Internal("keygen: " + OpensslError());
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key.get());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  const std::string san = "DNS:" + name;
  sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name,
                                                   san.c_str()));
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0)
    return Internal("CSR signature: " + OpensslError());
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

std::string RandomHex(size_t bytes) {
  std::string b(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(&b[0]), static_cast<int>(bytes));
  return HexEncode(b);
}

Result<std::string> MakeToken(const Provisioner& p, const PrepareOptions& o,
                              const std::string& name) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  JsonPtr c(json_object());
  json_object_set_new(c.get(), "aud", json_string(o.audience.c_str()));
  json_object_set_new(c.get(), "exp", json_integer(now + o.token_lifetime));
  json_object_set_new(c.get(), "iat", json_integer(now));
  json_object_set_new(c.get(), "iss", json_string(p.name.c_str()));
  json_object_set_new(c.get(), "jti", json_string(RandomHex(32).c_str()));
  json_object_set_new(c.get(), "nbf", json_integer(now));
  json_t* sans = json_array();
  json_array_append_new(sans, json_string(name.c_str()));
  json_object_set_new(c.get(), "sans", sans);
  json_object_set_new(c.get(), "sha", json_string(p.root_sha.c_str()));
  json_object_set_new(c.get(), "sub", json_string(name.c_str()));
  JsonPtr h(json_pack("{s:s,s:s,s:s}", "alg", p.alg.c_str(), "kid", p.kid.c_str(), "typ", "JWT"));
  return SignCompactJws(h.get(), c.get(), p.key.get(), p.alg);
}

}  // namespace

Result<std::vector<std::string>> PrepareSignBodies(const PrepareOptions& o, size_t n) {
  STEPCA_ASSIGN_OR_RETURN(Provisioner prov, LoadProvisioner(o.ca_json, o.password_file));
  std::vector<std::string> bodies(n);
  const std::string prefix = o.name_prefix.empty() ? "b" + RandomHex(4) + "-" : o.name_prefix;
  int threads = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (threads < 1) threads = 1;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  Status first_error;
  std::mutex mu;
  auto work = [&] {
    for (size_t i; !failed && (i = next.fetch_add(1)) < n;) {
      const std::string name = prefix + std::to_string(i) + ".bench.test";
      auto csr = MakeCsrPem(name, o.csr_key);
      auto ott = csr.ok() ? MakeToken(prov, o, name) : Result<std::string>(csr.status());
      if (!ott.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (!failed.exchange(true)) first_error = ott.status();
        return;
      }
      JsonPtr body(json_object());
      json_object_set_new(body.get(), "csr", json_string(csr->c_str()));
      json_object_set_new(body.get(), "ott", json_string(ott->c_str()));
      char* text = json_dumps(body.get(), JSON_COMPACT);
      bodies[i] = text;
      free(text);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (failed) return first_error;
  return bodies;
}

}  // namespace bench
}  // namespace stepca
