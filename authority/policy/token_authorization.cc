#include "authority/policy/token_authorization.h"

namespace stepca {
namespace {

std::string StringClaim(const json_t* payload, const char* name) {
  const json_t* v = json_object_get(payload, name);
  return json_is_string(v) ? json_string_value(v) : "";
}

// step-ca's LoadByToken for tokens another party issued, whose audience is
// not this CA: Kubernetes service-account tokens by their issuer (legacy)
// or their kubernetes.io claim (bound), OIDC ID tokens by azp or aud,
// Azure tokens by tid. Only those types are found this way.
const Provisioner* ForeignTokenProvisioner(const Jws& jws, const TokenClaims& claims,
                                           const ProvisionerCollection& provisioners) {
  const json_t* payload = jws.payload.get();
  auto only = [](const Provisioner* p, std::initializer_list<ProvisionerType> types) -> const Provisioner* {
    if (p == nullptr) return nullptr;
    for (ProvisionerType t : types)
      if (p->type() == t) return p;
    return nullptr;
  };
  if (claims.issuer == "kubernetes/serviceaccount" || json_object_get(payload, "kubernetes.io") != nullptr)
    return only(provisioners.BySelector("k8ssa/k8sSA-default"), {ProvisionerType::kK8sSa});
  if (claims.audience.empty()) return nullptr;
  const std::string azp = StringClaim(payload, "azp"), tid = StringClaim(payload, "tid");
  if (!azp.empty()) {
    if (const Provisioner* p = only(provisioners.BySelector(azp), {ProvisionerType::kOidc})) return p;
  }
  if (!tid.empty()) {
    if (!StringClaim(payload, "email").empty()) {
      if (const Provisioner* p = only(provisioners.BySelector(claims.audience[0]), {ProvisionerType::kOidc}))
        return p;
    }
    if (const Provisioner* p = only(provisioners.BySelector(tid), {ProvisionerType::kAzure})) return p;
  }
  return only(provisioners.BySelector(claims.audience[0]), {ProvisionerType::kOidc});
}

}  // namespace

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
  // A bound service-account token is made for this CA's audience but names
  // no provisioner of its own.
  if (out.provisioner == nullptr)
    out.provisioner = ForeignTokenProvisioner(out.jws, out.claims, provisioners);
  if (out.provisioner == nullptr)
    return Unauthenticated(ctx + ": provisioner not found or invalid audience");
  auto grant = revoke ? out.provisioner->AuthorizeRevoke(out.jws, out.claims, audiences, now)
                      : out.provisioner->AuthorizeSign(out.jws, out.claims, audiences, now);
  if (!grant.ok()) return grant.status().Wrap(revoke ? ctx : "authority.authorizeSign");
  out.grant = std::move(grant).value();
  return out;
}

}  // namespace stepca
