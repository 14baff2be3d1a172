// Checks shared by the tokens other parties issue (OpenID Connect ID
// tokens, Kubernetes service-account tokens, Google and Azure identity
// tokens): the signature by one of the issuer's keys, with the algorithm
// the key allows (never "none", never HMAC: every key here is
// asymmetric); their time claims are CheckIdentityTimeClaims in
// token_claims.h.
#ifndef STEPCA_AUTHORITY_PROVISIONER_IDENTITY_TOKEN_H
#define STEPCA_AUTHORITY_PROVISIONER_IDENTITY_TOKEN_H

#include <memory>
#include <string>
#include <vector>

#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"
#include "authority/provisioner/token_claims.h"
#include "authority/status.h"

namespace stepca {

// True when one of keys verifies jws; a key whose JWK names an "alg" only
// verifies that alg.
bool VerifiedByOneOf(const Jws& jws, const std::vector<std::shared_ptr<const Jwk>>& keys);
bool VerifiedByOneOf(const Jws& jws, const std::vector<EVP_PKEY*>& keys);

// The one-time-use key of a token that has no jti of its own:
// sha256("<provisioner id>\n<canonical token id>").
std::string IdentityTokenUseKey(const std::string& provisioner_id, const std::string& token_id);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_IDENTITY_TOKEN_H
