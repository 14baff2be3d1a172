// The file signer: a CA key read from a PEM file (encrypted as step writes
// it) and kept in process memory.
#ifndef STEPCA_AUTHORITY_SIGNER_FILE_SIGNER_H
#define STEPCA_AUTHORITY_SIGNER_FILE_SIGNER_H

#include <memory>
#include <string_view>

#include "authority/ossl.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca {

// Loads a PEM private key: "Proc-Type: 4,ENCRYPTED" (legacy, as step writes
// EC keys), encrypted PKCS#8 (as step writes Ed25519 keys), or unencrypted.
// Wrong password: kInvalidArgument "cannot decrypt key (wrong password?)".
Result<EvpPkeyPtr> LoadPrivateKeyPem(std::string_view pem,
                                     std::string_view password);

// EC P-256/P-384/P-521, RSA >= 2048 or Ed25519; anything else is
// kInvalidArgument.
Result<std::unique_ptr<Signer>> MakeFileSigner(EvpPkeyPtr private_key);

// The algorithm a key of this type signs with; kInvalidArgument for a key
// the CA does not sign with.
Result<SignatureAlgorithm> AlgorithmForKey(EVP_PKEY* key);

// The digest a CA key signs with, NULL for Ed25519.
const EVP_MD* DigestForKey(EVP_PKEY* key);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_FILE_SIGNER_H
