// A CA key held outside this process (a PKCS#11 token, a cloud KMS): it
// signs a digest it is handed. The certificate, CRL and OCSP structures
// around the signature are built here, the same for every such key.
#ifndef STEPCA_AUTHORITY_SIGNER_REMOTE_SIGNER_H
#define STEPCA_AUTHORITY_SIGNER_REMOTE_SIGNER_H

#include <string>
#include <string_view>

#include "authority/ossl.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca {

class RemoteSigner : public Signer {
 public:
  RemoteSigner(EvpPkeyPtr public_key, SignatureAlgorithm algorithm);

  EVP_PKEY* PublicKey() const override;
  SignatureAlgorithm Algorithm() const override;
  // Hashes message with Algorithm()'s digest and hands it to SignDigest.
  Result<std::string> Sign(std::string_view message) const override;
  Status SignCertificate(X509* cert) const override;
  Status SignCrl(X509_CRL* crl) const override;
  Status SignOcspResponse(OCSP_BASICRESP* response, X509* responder_cert) const override;

 protected:
  // The signature over digest as Signer::Sign returns it: ECDSA as DER
  // Ecdsa-Sig-Value, RSA raw. Thread-safe.
  virtual Result<std::string> SignDigest(std::string_view digest) const = 0;

 private:
  EvpPkeyPtr public_key_;
  SignatureAlgorithm algorithm_;
};

// The digest algorithm signs over: SHA-256, SHA-384 or SHA-512.
const EVP_MD* DigestOf(SignatureAlgorithm algorithm);

// The DER DigestInfo (RFC 8017 9.2) PKCS#1 v1.5 pads: prefix || digest.
std::string RsaDigestInfo(SignatureAlgorithm algorithm, std::string_view digest);

// r || s (each half the length), as PKCS#11 and JOSE give ECDSA
// signatures, as DER Ecdsa-Sig-Value.
Result<std::string> EcdsaRawToDer(std::string_view raw);

// The algorithm a remote public key signs with: ECDSA by its curve
// (P-256/P-384/P-521), RSA >= 2048 as PKCS#1 v1.5 SHA-256 (SHA-512 with
// rsa_sha512) or PSS SHA-256 (rsa_pss). Other keys are kInvalidArgument.
Result<SignatureAlgorithm> RemoteAlgorithmFor(EVP_PKEY* public_key, bool rsa_pss, bool rsa_sha512);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_REMOTE_SIGNER_H
