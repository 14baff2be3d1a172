#include "authority/ra/cas_certs.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "shared/base64.h"

namespace stepca {

Result<std::vector<X509Ptr>> ParsePemChain(const std::string& pem) {
  std::vector<X509Ptr> out;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (true) {
    X509Ptr c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!c) break;
    out.push_back(std::move(c));
  }
  ERR_clear_error();
  if (out.empty()) return InvalidArgument("no PEM certificate");
  return out;
}

std::vector<X509Ptr> PemArrayCerts(const json_t* list) {
  std::vector<X509Ptr> out;
  size_t i;
  const json_t* e;
  json_array_foreach(list, i, e) {
    if (!json_is_string(e)) continue;
    auto c = ParsePemChain(json_string_value(e));
    if (c.ok())
      for (auto& x : c.value()) out.push_back(std::move(x));
  }
  return out;
}

std::string CertSha256Hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  return HexEncode(std::string(reinterpret_cast<char*>(md), n));
}

bool IsSelfSigned(X509* cert) { return X509_check_issued(cert, cert) == X509_V_OK; }

std::string CsrToPem(const Csr& csr) {
  // The client's own bytes: re-encoding a parsed request could reorder its
  // attributes and break the signature the upstream checks.
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio(bio.get(), "CERTIFICATE REQUEST", "",
                reinterpret_cast<const unsigned char*>(csr.der.data()),
                static_cast<long>(csr.der.size()));
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n > 0 ? n : 0);
}

std::vector<std::string> WithoutRoots(const std::vector<X509Ptr>& chain) {
  std::vector<std::string> out;
  for (const auto& c : chain)
    if (!IsSelfSigned(c.get())) out.push_back(CertificateToPem(c.get()));
  return out;
}

Result<X509Ptr> PickRoot(const std::vector<X509Ptr>& chain, const std::string& fingerprint,
                         const std::string& who) {
  if (!fingerprint.empty()) {
    std::string seen;
    for (const auto& c : chain) {
      const std::string fp = CertSha256Hex(c.get());
      if (fp == fingerprint) return X509Ptr(X509_dup(c.get()));
      seen += (seen.empty() ? "" : ", ") + fp;
    }
    return InvalidArgument(who + " has no CA certificate with fingerprint " + fingerprint +
                           " (its chain has " + seen + "); refusing to start");
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    if (IsSelfSigned(it->get())) return X509Ptr(X509_dup(it->get()));
  return InvalidArgument(who + " answered a CA chain without a root certificate");
}

Result<IssuedCertificate> CheckedIssued(const std::string& leaf_pem,
                                        std::vector<std::string> chain_pems, EVP_PKEY* csr_key,
                                        const std::string& who) {
  auto bad = [&](const std::string& why) {
    return Unavailable("the upstream CA gave an answer the registration authority cannot use")
        .WithDetail(who + ": " + why);
  };
  auto leaf = ParsePemChain(leaf_pem);
  if (!leaf.ok()) return bad("the certificate is not PEM");
  if (EVP_PKEY_eq(X509_get0_pubkey(leaf->front().get()), csr_key) != 1)
    return bad("the certificate does not carry the CSR's key");
  if (chain_pems.empty()) return bad("no issuing certificate in the answer");
  auto issuing = ParsePemChain(chain_pems.front());
  if (!issuing.ok()) return bad("the issuing certificate is not PEM");
  if (X509_check_issued(issuing->front().get(), leaf->front().get()) != X509_V_OK)
    return bad("the certificate is not issued by the certificate answered with it");
  IssuedCertificate out;
  out.cert = std::move(leaf->front());
  unsigned char* der = nullptr;
  int n = i2d_X509(out.cert.get(), &der);
  if (n <= 0) return bad("the certificate cannot be encoded");
  out.der.assign(reinterpret_cast<char*>(der), n);
  OPENSSL_free(der);
  out.pem = CertificateToPem(out.cert.get());
  out.serial = SerialDecimal(out.cert.get());
  out.chain_pems = std::move(chain_pems);
  return out;
}

IssuerMemory::IssuerMemory(X509* root)
    : not_after_ns_(CertNotAfter(root).time_since_epoch().count()) {}

void IssuerMemory::Note(const std::string& issuing_pem) const {
  auto c = ParsePemChain(issuing_pem);
  if (!c.ok()) return;
  const int64_t na = CertNotAfter(c->front().get()).time_since_epoch().count();
  int64_t cur = not_after_ns_.load();
  while (na < cur && !not_after_ns_.compare_exchange_weak(cur, na)) {
  }
  std::lock_guard<std::mutex> lock(mu_);
  X509* now = issuing_.load();
  if (now != nullptr && X509_cmp(now, c->front().get()) == 0) return;
  kept_.push_back(std::move(c->front()));
  issuing_.store(kept_.back().get());
}

TimePoint IssuerMemory::NotAfter() const {
  return TimePoint(std::chrono::nanoseconds(not_after_ns_.load()));
}

}  // namespace stepca
