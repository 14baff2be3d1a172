// Reading a token's key from a process that must not load the module: the
// nginx master forks workers, and a PKCS#11 module initialised before fork
// is undefined in the children.
#ifndef STEPCA_AUTHORITY_SIGNER_PKCS11_PROBE_H
#define STEPCA_AUTHORITY_SIGNER_PKCS11_PROBE_H

#include <string>

#include "authority/ossl.h"
#include "authority/signer/key_uri.h"
#include "authority/signer/pkcs11_token.h"
#include "authority/status.h"

namespace stepca {

// Forks a child that opens the token, logs in, checks that the private key
// is there and returns its public key through a pipe, then exits. The
// child's error comes back as it was (never with the PIN); a child that
// does not answer within timeout_seconds is killed.
Result<EvpPkeyPtr> ProbePkcs11Key(const Pkcs11Uri& uri, const std::string& pin,
                                  const Pkcs11KeyRef& key, int timeout_seconds = 30);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_PKCS11_PROBE_H
