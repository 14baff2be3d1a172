// step-ca's authorizeToken: a one-time token to the provisioner it names
// (by the audience's fragment, or by iss and kid) and that provisioner's
// own verdict. No I/O: spending the token is the caller's next step.
#ifndef STEPCA_AUTHORITY_POLICY_TOKEN_AUTHORIZATION_H
#define STEPCA_AUTHORITY_POLICY_TOKEN_AUTHORIZATION_H

#include <string_view>

#include "authority/jose/jws.h"
#include "authority/provisioner/provisioner.h"
#include "authority/provisioner/provisioner_collection.h"
#include "authority/provisioner/token_claims.h"
#include "authority/status.h"

namespace stepca {

struct AuthorizedToken {
  Jws jws;
  TokenClaims claims;
  const Provisioner* provisioner = nullptr;  // in the collection
  SignGrant grant;
};

// method: TokenMethod::kSign or kRevoke. Errors carry step-ca's contexts
// (authority.authorizeToken / authorizeSign, authority.authorizeRevoke).
Result<AuthorizedToken> AuthorizeToken(TokenMethod method, std::string_view token,
                                       const ProvisionerCollection& provisioners,
                                       const Audiences& audiences, TimePoint now);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_POLICY_TOKEN_AUTHORIZATION_H
