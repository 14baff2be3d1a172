// Where the CA's private key lives: a file (encrypted PEM) now, a PKCS#11
// token or a KMS later. Signing goes through this seam only.
#ifndef STEPCA_AUTHORITY_SIGNER_SIGNER_H
#define STEPCA_AUTHORITY_SIGNER_SIGNER_H

#include <memory>
#include <string>
#include <string_view>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {

class Signer {
 public:
  virtual ~Signer() = default;
  virtual EVP_PKEY* PublicKey() const = 0;
  // Signs a fully built certificate with the digest the key type calls for
  // (P-256: SHA-256, P-384: SHA-384, P-521: SHA-512, RSA: SHA-256,
  // Ed25519: none). Thread-safe.
  virtual Status SignCertificate(X509* cert) const = 0;
};

// Loads a PEM private key: "Proc-Type: 4,ENCRYPTED" (legacy, as step writes
// EC keys), encrypted PKCS#8 (as step writes Ed25519 keys), or unencrypted.
// Wrong password: kInvalidArgument "cannot decrypt key (wrong password?)".
Result<EvpPkeyPtr> LoadPrivateKeyPem(std::string_view pem,
                                     std::string_view password);

Result<std::unique_ptr<Signer>> MakeFileSigner(EvpPkeyPtr private_key);

// The digest a CA key signs with, NULL for Ed25519.
const EVP_MD* DigestForKey(EVP_PKEY* key);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_SIGNER_H
