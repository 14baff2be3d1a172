// The crypto bound: what one certificate must cost at the least. Every
// /1.0/sign verifies one token signature (the provisioner's key), verifies
// one CSR signature and makes one signature with the CA's key, so one core
// can issue at most 1 / (t_token_verify + t_csr_verify + t_sign) per second.
// Timed here with OpenSSL alone, single-threaded, on this machine, in CPU
// time (a busy machine does not inflate it).
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <time.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "authority/jose/jwk.h"
#include "authority/ossl.h"
#include "bench/bench.h"

namespace stepca {
namespace bench {
namespace {

// A fresh key of the same kind as `like` (curve or modulus size), and a
// name for it.
Result<std::pair<EvpPkeyPtr, std::string>> KeyLike(EVP_PKEY* like) {
  const int id = EVP_PKEY_get_base_id(like);
  if (id == EVP_PKEY_EC) {
    char group[64] = {0};
    size_t len = 0;
    EVP_PKEY_get_group_name(like, group, sizeof group, &len);
    std::string g = group;
    std::string name = g == "prime256v1" ? "P-256" : g == "secp384r1" ? "P-384"
                     : g == "secp521r1"  ? "P-521" : g;
    EvpPkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", g.c_str()));
    if (!k) return Internal("keygen " + g + ": " + OpensslError());
    return std::make_pair(std::move(k), "ECDSA " + name);
  }
  if (id == EVP_PKEY_RSA) {
    const size_t bits = static_cast<size_t>(EVP_PKEY_get_bits(like));
    EvpPkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
    if (!k) return Internal("keygen RSA: " + OpensslError());
    return std::make_pair(std::move(k), "RSA-" + std::to_string(bits));
  }
  if (id == EVP_PKEY_ED25519) {
    EvpPkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    return std::make_pair(std::move(k), std::string("Ed25519"));
  }
  return InvalidArgument("unsupported key type");
}

const EVP_MD* DigestFor(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) return nullptr;
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits > 384) return EVP_sha512();
    if (bits > 256) return EVP_sha384();
  }
  return EVP_sha256();
}

std::string Sign(EVP_PKEY* key, const std::string& msg) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx.get(), &pctx, DigestFor(key), nullptr, key);
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  size_t len = 0;
  EVP_DigestSign(ctx.get(), nullptr, &len,
                 reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(&sig[0]), &len,
                 reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
  sig.resize(len);
  return sig;
}

bool Verify(EVP_PKEY* key, const std::string& msg, const std::string& sig) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestVerifyInit(ctx.get(), &pctx, DigestFor(key), nullptr, key);
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                          sig.size(), reinterpret_cast<const unsigned char*>(msg.data()),
                          msg.size()) == 1;
}

double ThreadCpuNow() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Mean microseconds of this thread's CPU time per call of f, over about
// `seconds` of CPU time. CPU time, not wall time: on a shared machine the
// thread may wait for a core, and the bound is what the work costs a core.
template <typename F>
double TimeUs(double seconds, F f) {
  for (int i = 0; i < 20; ++i) f();  // warm
  size_t n = 0;
  const double start = ThreadCpuNow();
  double elapsed = 0;
  do {
    for (int i = 0; i < 50; ++i) f();
    n += 50;
    elapsed = ThreadCpuNow() - start;
  } while (elapsed < seconds);
  return elapsed * 1e6 / static_cast<double>(n);
}

std::string RandomBytes(size_t n) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(&s[0]), static_cast<int>(n));
  return s;
}

}  // namespace

Result<CryptoBound> MeasureCryptoBound(const std::string& ca_json, const std::string& csr_key,
                                       double seconds_each) {
  json_error_t err;
  JsonPtr root(json_load_file(ca_json.c_str(), 0, &err));
  if (!root) return InvalidArgument(ca_json + ": " + err.text);
  const char* crt = json_string_value(json_object_get(root.get(), "crt"));
  if (crt == nullptr) return InvalidArgument(ca_json + ": no \"crt\"");
  BioPtr bio(BIO_new_file(crt, "r"));
  X509Ptr inter(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!inter) return InvalidArgument("cannot read the intermediate certificate " + std::string(crt));

  // The provisioner's public key: the token's signature algorithm.
  const json_t* prov = json_array_get(
      json_object_get(json_object_get(root.get(), "authority"), "provisioners"), 0);
  auto jwk = ParseJwk(json_object_get(prov, "key"));
  if (!jwk.ok()) return jwk.status();

  CryptoBound b;
  STEPCA_ASSIGN_OR_RETURN(auto ca, KeyLike(X509_get0_pubkey(inter.get())));
  STEPCA_ASSIGN_OR_RETURN(auto tok, KeyLike(jwk->key.get()));
  b.ca_key = ca.second;
  b.token_alg = jwk->alg.empty() ? tok.second : jwk->alg;
  b.csr_key = csr_key;

  // A token's signing input is ~600 bytes; a leaf's TBSCertificate ~700.
  const std::string token_input = RandomBytes(600);
  const std::string token_sig = Sign(tok.first.get(), token_input);
  b.token_verify_us = TimeUs(seconds_each, [&] {
    if (!Verify(tok.first.get(), token_input, token_sig)) abort();
  });

  // CSR: X509_REQ_verify, as the CA checks a request's proof of possession.
  EvpPkeyPtr csr_k(csr_key.rfind("P-", 0) == 0
                       ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", csr_key.c_str())
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  X509ReqPtr req(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("bound.bench.test"), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), csr_k.get());
  X509_REQ_sign(req.get(), csr_k.get(), EVP_sha256());
  b.csr_verify_us = TimeUs(seconds_each, [&] {
    if (X509_REQ_verify(req.get(), X509_REQ_get0_pubkey(req.get())) != 1) abort();
  });

  const std::string tbs = RandomBytes(700);
  b.sign_us = TimeUs(seconds_each, [&] { Sign(ca.first.get(), tbs); });
  return b;
}

}  // namespace bench
}  // namespace stepca
