// The PKCS#11 signer: a CA key that never leaves its token. The signer
// hashes; the token signs the digest (CKM_ECDSA, CKM_RSA_PKCS over a
// DigestInfo, CKM_RSA_PKCS_PSS), which every module implements.
#ifndef STEPCA_AUTHORITY_SIGNER_PKCS11_SIGNER_H
#define STEPCA_AUTHORITY_SIGNER_PKCS11_SIGNER_H

#include <memory>
#include <string>

#include "authority/signer/key_uri.h"
#include "authority/signer/pkcs11_token.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca {

struct Pkcs11SignerOptions {
  Pkcs11Uri uri;      // kms.uri merged with the key's URI
  std::string pin;    // resolved from pin-value or pin-source
  // RSA keys sign RSASSA-PSS (SHA-256, salt 32) instead of PKCS#1 v1.5.
  bool rsa_pss = false;
  // RSA keys sign PKCS#1 v1.5 with SHA-512 (SSH's rsa-sha2-512).
  bool rsa_sha512 = false;
};

// For the nginx master and `nginx -t`: reads the public key in a child
// process (ProbePkcs11Key), so this process never initialises the module;
// InitProcess loads it in each worker. A missing module, an absent token,
// a refused PIN or a missing key is an error here, naming the key.
Result<std::unique_ptr<Signer>> MakePkcs11Signer(Pkcs11SignerOptions options);

// Over a token already open in this process (the CLI, tests): InitProcess
// does nothing.
Result<std::unique_ptr<Signer>> MakePkcs11SignerOnToken(std::shared_ptr<Pkcs11Token> token,
                                                        Pkcs11KeyRef key, bool rsa_pss,
                                                        bool rsa_sha512 = false);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_PKCS11_SIGNER_H
