#include "authority/policy/token_authorization.h"

namespace stepca {

Result<AuthorizedToken> AuthorizeToken(TokenMethod method, std::string_view token,
                                       const ProvisionerCollection& provisioners,
                                       const Audiences& audiences, TimePoint now) {
  const bool revoke = method == TokenMethod::kRevoke;
  const std::string ctx = revoke ? "authority.authorizeRevoke" : "authority.authorizeToken";
  AuthorizedToken out;
  auto jws = ParseCompactJws(token);
  if (!jws.ok())
    return Unauthenticated(ctx + ": error parsing token").WithDetail(jws.status().message());
  out.jws = std::move(jws).value();
  auto claims = ReadTokenClaims(out.jws.payload.get());
  if (!claims.ok()) return claims.status().Wrap(ctx);
  out.claims = std::move(claims).value();

  // X5C and other fragment-bearing audiences name "<type>/<name>"; JWK
  // tokens are found by "<iss>:<kid>".
  const std::string fragment = audiences.Fragment(method, out.claims.audience);
  std::string selector = fragment;
  if (selector.empty()) {
    const json_t* kid = json_object_get(out.jws.header.get(), "kid");
    selector = out.claims.issuer + ":" + (json_is_string(kid) ? json_string_value(kid) : "");
  }
  out.provisioner = audiences.Matches(method, out.claims.audience, fragment)
                        ? provisioners.BySelector(selector)
                        : nullptr;
  if (out.provisioner == nullptr)
    return Unauthenticated(ctx + ": provisioner not found or invalid audience");
  auto grant = revoke ? out.provisioner->AuthorizeRevoke(out.jws, out.claims, audiences, now)
                      : out.provisioner->AuthorizeSign(out.jws, out.claims, audiences, now);
  if (!grant.ok()) return grant.status().Wrap(revoke ? ctx : "authority.authorizeSign");
  out.grant = std::move(grant).value();
  return out;
}

}  // namespace stepca
