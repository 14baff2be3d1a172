// JWS request authentication (RFC 8555 section 6.2): the flattened JWS,
// its url against the request URL, the key (jwk, or kid naming an account
// of this provisioner), the signature, and last the nonce, so a forged
// request cannot burn an honest client's nonce.
#ifndef STEPCA_AUTHORITY_ACME_AUTHENTICATE_H
#define STEPCA_AUTHORITY_ACME_AUTHENTICATE_H

#include "authority/acme/jws.h"
#include "authority/acme/problem.h"
#include "authority/acme/request.h"

namespace stepca {
namespace acme {

// Fills r->jws, and with a kid r->account and r->account_key. An account
// that is not "valid" may not sign (except with jwk, which carries no
// account).
Problem Authenticate(Request* r, KeyMode mode);

// The JWS payload as a JSON object (malformed otherwise).
Problem PayloadObject(const Request& r, JsonPtr* out);

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_AUTHENTICATE_H
