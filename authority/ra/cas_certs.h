// Certificates as the Vault and Google CAS backends receive them: PEM
// chains parsed, the root picked by its fingerprint, a signed answer
// checked against the CSR before it is handed back, and the issuing
// certificate remembered from answer to answer.
#ifndef STEPCA_AUTHORITY_RA_CAS_CERTS_H
#define STEPCA_AUTHORITY_RA_CAS_CERTS_H

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "authority/ossl.h"
#include "authority/status.h"
#include "authority/x509/chain.h"
#include "authority/x509/csr.h"
#include "authority/x509/issuer.h"
#include "shared/duration.h"

namespace stepca {

// Every certificate of a PEM text, in order; a text with none is an error.
Result<std::vector<X509Ptr>> ParsePemChain(const std::string& pem);

// Every certificate of a JSON array of PEM texts, in order; entries that
// are not strings or hold no certificate are skipped.
std::vector<X509Ptr> PemArrayCerts(const json_t* list);

std::string CertSha256Hex(X509* cert);
bool IsSelfSigned(X509* cert);
std::string CsrToPem(const Csr& csr);

// The chain's certificates other than its self-signed roots (what a
// client is answered with after the leaf), as PEM.
std::vector<std::string> WithoutRoots(const std::vector<X509Ptr>& chain);

// The root of a CA's chain: the one whose SHA-256 is fingerprint when it is
// set (an error when none is), else the last self-signed one.
// who: the upstream as the error should name it.
Result<X509Ptr> PickRoot(const std::vector<X509Ptr>& chain, const std::string& fingerprint,
                         const std::string& who);

// A leaf the upstream signed: it must carry csr_key and be issued by
// chain_pems[0]. Failures are kUnavailable (the upstream misbehaved).
Result<IssuedCertificate> CheckedIssued(const std::string& leaf_pem,
                                        std::vector<std::string> chain_pems, EVP_PKEY* csr_key,
                                        const std::string& who);

// The issuing certificate as the upstream answered with it last (for
// IssuingCertificate()) and the earliest notAfter seen (IssuerNotAfter()).
class IssuerMemory {
 public:
  explicit IssuerMemory(X509* root);
  void Note(const std::string& issuing_pem) const;
  X509* Issuing() const { return issuing_.load(); }
  TimePoint NotAfter() const;

 private:
  mutable std::atomic<int64_t> not_after_ns_{0};
  mutable std::mutex mu_;
  mutable std::vector<X509Ptr> kept_;  // never shrinks: Issuing() may be in use
  mutable std::atomic<X509*> issuing_{nullptr};
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_CAS_CERTS_H
