// The JWT a step-ca provisioner accepts (iss = provisioner name, aud, sub,
// sans, iat/nbf/exp, jti), signed with the issuer's key.
#ifndef STEPCA_AUTHORITY_RA_UPSTREAM_TOKEN_H
#define STEPCA_AUTHORITY_RA_UPSTREAM_TOKEN_H

#include <jansson.h>

#include <string>

#include "authority/ossl.h"
#include "authority/ra/upstream_issuer.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

// header: the protected header members besides alg (kid or x5c, typ).
// The token is valid for 5 minutes from now (step's default).
Result<std::string> MintUpstreamToken(const json_t* header, const std::string& provisioner,
                                      const UpstreamTokenRequest& request, EVP_PKEY* key,
                                      TimePoint now);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_UPSTREAM_TOKEN_H
