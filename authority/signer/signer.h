// Where the CA's private key lives: a file (encrypted PEM), a PKCS#11
// token or a cloud KMS. Signing goes through this seam only; nothing above it
// ever holds private key bytes.
#ifndef STEPCA_AUTHORITY_SIGNER_SIGNER_H
#define STEPCA_AUTHORITY_SIGNER_SIGNER_H

#include <string>
#include <string_view>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {

// The signature a CA key makes. A token or KMS key reports its own; the
// certificate's AlgorithmIdentifier follows from it.
enum class SignatureAlgorithm {
  kEcdsaSha256,      // P-256
  kEcdsaSha384,      // P-384
  kEcdsaSha512,      // P-521
  kRsaPkcs1Sha256,   // RSA >= 2048, PKCS#1 v1.5
  kRsaPkcs1Sha512,   // RSA >= 2048, PKCS#1 v1.5 (SSH CA keys on a token: rsa-sha2-512)
  kRsaPssSha256,     // RSA >= 2048, RSASSA-PSS, MGF1-SHA-256, salt 32 (tokens)
  kEd25519,          // pure EdDSA: the message is signed, never a digest
};

class Signer {
 public:
  virtual ~Signer() = default;

  // The public half, valid for the signer's lifetime: the issuer's key id,
  // the check that the key matches the intermediate, and verification. A
  // file key may hand out the key pair itself; a token hands out only the
  // public key it read from the token.
  virtual EVP_PKEY* PublicKey() const = 0;

  virtual SignatureAlgorithm Algorithm() const = 0;

  // Per-process setup after fork, in each worker: PKCS#11 sessions and KMS
  // clients must not be shared across fork. Called before the first Sign.
  virtual Status InitProcess() = 0;

  // Signs message (e.g. a DER TBSCertificate) with Algorithm(): the signer
  // hashes it as the algorithm says (a digest-only token hashes first
  // itself). ECDSA signatures are DER Ecdsa-Sig-Value, RSA and Ed25519 raw,
  // as X.509 and JWS-over-DER carry them. Thread-safe.
  virtual Result<std::string> Sign(std::string_view message) const = 0;

  // Signs a fully built certificate: sets its signature AlgorithmIdentifier
  // from Algorithm() and its signature value. Thread-safe.
  virtual Status SignCertificate(X509* cert) const = 0;
  // Signs a fully built CRL (the intermediate's leaf CRL, or a root's CRL
  // of intermediates in the CLI), as SignCertificate does a certificate.
  virtual Status SignCrl(X509_CRL* crl) const = 0;
  // Signs an OCSP basic response as responder_cert (whose key this is),
  // responder id by name, no certificates attached. Thread-safe.
  virtual Status SignOcspResponse(OCSP_BASICRESP* response, X509* responder_cert) const = 0;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_SIGNER_H
