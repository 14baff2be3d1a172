// Revoke tokens: the default (no token flow) and the JWK provisioner's.
#include <openssl/sha.h>

#include "authority/provisioner/provisioner.h"
#include "shared/base64.h"

namespace stepca {

Result<SignGrant> Provisioner::AuthorizeRevoke(const Jws&, const TokenClaims&, const Audiences&,
                                               TimePoint) const {
  return Unauthenticated("provisioner \"" + name() + "\" of type " + type_name() +
                         " does not accept revoke tokens");
}

Result<SignGrant> JwkProvisioner::AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                                  const Audiences& audiences,
                                                  TimePoint now) const {
  STEPCA_RETURN_IF_ERROR(VerifyJws(jws, key_.get()).Wrap("jwk.authorizeRevoke"));
  if (claims.issuer != name())
    return Unauthenticated("jwk.authorizeRevoke: invalid issuer \"" + claims.issuer + "\"");
  STEPCA_RETURN_IF_ERROR(CheckTimeClaims(claims, now).Wrap("jwk.authorizeRevoke"));
  if (!audiences.Matches(TokenMethod::kRevoke, claims.audience))
    return Unauthenticated("jwk.authorizeRevoke: invalid audience");
  if (claims.subject.empty()) return Unauthenticated("jwk.authorizeRevoke: token subject is empty");
  SignGrant g;
  g.subject = claims.subject;
  g.provisioner_id = id();
  const std::string jti = claims.id.empty() ? CanonicalTokenId(jws) : claims.id;
  unsigned char md[SHA256_DIGEST_LENGTH];
  const std::string in = id() + "\n" + jti;
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), md);
  g.token_key = HexEncode(std::string(reinterpret_cast<char*>(md), sizeof md));
  g.token_expiry = TimePoint(std::chrono::seconds(*claims.expiry));
  return g;
}

}  // namespace stepca
