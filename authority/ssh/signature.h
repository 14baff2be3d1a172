// SSH signatures (RFC 4253 6.6, RFC 5656 3.1.2, RFC 8332, RFC 8709): a
// signature blob made by a CA signer, and the check of one. RSA signs as
// rsa-sha2-256 or rsa-sha2-512, never ssh-rsa (SHA-1).
#ifndef STEPCA_AUTHORITY_SSH_SIGNATURE_H
#define STEPCA_AUTHORITY_SSH_SIGNATURE_H

#include <string>
#include <string_view>

#include "authority/ossl.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca::ssh {

// The signature algorithm name a signer's algorithm has in SSH.
const char* SignatureAlgorithmName(SignatureAlgorithm alg);

// string(algorithm name) || string(signature) over message.
Result<std::string> MakeSignature(const Signer& signer, std::string_view message);

// Verifies a signature blob over message with key; the blob's algorithm
// must suit the key. kUnauthenticated when it does not verify.
Status VerifySignature(EVP_PKEY* key, std::string_view signature_blob, std::string_view message);

}  // namespace stepca::ssh

#endif  // STEPCA_AUTHORITY_SSH_SIGNATURE_H
