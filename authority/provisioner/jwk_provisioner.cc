#include "authority/provisioner/jwk_provisioner.h"

#include "authority/jose/jwk.h"

namespace stepca {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

JwkProvisioner::JwkProvisioner(std::string name, Claims claims, JsonPtr json, EvpPkeyPtr key,
                               std::string kid, std::string encrypted_key)
    : ProvisionerBase(ProvisionerType::kJwk, "JWK", std::move(name), claims, std::move(json)),
      key_(std::move(key)),
      kid_(std::move(kid)),
      encrypted_key_(std::move(encrypted_key)) {}

Result<SignGrant> JwkProvisioner::AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                                const Audiences& audiences,
                                                TimePoint now) const {
  // The signature first: nothing a forger wrote is believed before it.
  STEPCA_RETURN_IF_ERROR(VerifyJws(jws, key_.get()).Wrap("jwk.authorizeToken"));
  if (claims.issuer != name())
    return Unauthenticated("jwk.authorizeToken: invalid issuer " + Quote(claims.issuer));
  STEPCA_RETURN_IF_ERROR(CheckTimeClaims(claims, now).Wrap("jwk.authorizeToken"));
  if (!audiences.Matches(TokenMethod::kSign, claims.audience))
    return Unauthenticated("jwk.authorizeToken: invalid audience");
  if (claims.subject.empty()) return Unauthenticated("jwk.authorizeToken: token subject is empty");

  SignGrant g;
  g.subject = claims.subject;
  g.sans = claims.sans.empty() ? std::vector<std::string>{claims.subject} : claims.sans;
  g.info.type = ProvisionerType::kJwk;
  g.info.name = name();
  g.info.credential_id = kid_;
  g.provisioner_id = id();
  g.cnf_x5rt = claims.cnf_x5rt;
  STEPCA_ASSIGN_OR_RETURN(g.token_key, TokenUseKey(id(), claims, "jwk.authorizeToken"));
  g.token_expiry = TimePoint(std::chrono::seconds(*claims.expiry));
  return g;
}

Result<SignGrant> JwkProvisioner::AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                                  const Audiences& audiences,
                                                  TimePoint now) const {
  STEPCA_RETURN_IF_ERROR(VerifyJws(jws, key_.get()).Wrap("jwk.authorizeRevoke"));
  if (claims.issuer != name())
    return Unauthenticated("jwk.authorizeRevoke: invalid issuer " + Quote(claims.issuer));
  STEPCA_RETURN_IF_ERROR(CheckTimeClaims(claims, now).Wrap("jwk.authorizeRevoke"));
  if (!audiences.Matches(TokenMethod::kRevoke, claims.audience))
    return Unauthenticated("jwk.authorizeRevoke: invalid audience");
  if (claims.subject.empty()) return Unauthenticated("jwk.authorizeRevoke: token subject is empty");
  SignGrant g;
  g.subject = claims.subject;
  g.provisioner_id = id();
  STEPCA_ASSIGN_OR_RETURN(g.token_key, TokenUseKey(id(), claims, "jwk.authorizeRevoke"));
  g.token_expiry = TimePoint(std::chrono::seconds(*claims.expiry));
  return g;
}

Result<SignGrant> JwkProvisioner::AuthorizeSshRevoke(const Jws& jws, const TokenClaims& claims,
                                                     const Audiences& audiences,
                                                     TimePoint now) const {
  STEPCA_RETURN_IF_ERROR(VerifyJws(jws, key_.get()).Wrap("jwk.AuthorizeSSHRevoke"));
  if (claims.issuer != name())
    return Unauthenticated("jwk.AuthorizeSSHRevoke: invalid issuer " + Quote(claims.issuer));
  STEPCA_RETURN_IF_ERROR(CheckTimeClaims(claims, now).Wrap("jwk.AuthorizeSSHRevoke"));
  if (!audiences.Matches(TokenMethod::kSshRevoke, claims.audience))
    return Unauthenticated("jwk.AuthorizeSSHRevoke: invalid audience");
  if (claims.subject.empty()) return Unauthenticated("jwk.AuthorizeSSHRevoke: token subject is empty");
  SignGrant g;
  g.subject = claims.subject;
  g.provisioner_id = id();
  STEPCA_ASSIGN_OR_RETURN(g.token_key, TokenUseKey(id(), claims, "jwk.AuthorizeSSHRevoke"));
  g.token_expiry = TimePoint(std::chrono::seconds(*claims.expiry));
  return g;
}

Result<std::unique_ptr<Provisioner>> ParseJwkProvisioner(const json_t* obj,
                                                         const std::string& field,
                                                         const std::string& name,
                                                         const Claims& claims, JsonPtr json) {
  const json_t* key_j = json_object_get(obj, "key");
  if (!json_is_object(key_j))
    return InvalidArgument("field " + Quote(field + ".key") + ": missing or not a JWK object");
  Result<Jwk> jwk = ParseJwk(key_j);
  if (!jwk.ok())
    return InvalidArgument("field " + Quote(field + ".key") + ": " + jwk.status().message());
  if (jwk->has_private)
    return InvalidArgument("field " + Quote(field + ".key") +
                           ": holds a private key; only the public key belongs here");
  std::string kid = jwk->kid;
  if (kid.empty()) {
    STEPCA_ASSIGN_OR_RETURN(kid, JwkThumbprint(jwk->key.get()));
  }
  std::string encrypted;
  const json_t* enc_j = json_object_get(obj, "encryptedKey");
  if (enc_j != nullptr && !json_is_null(enc_j)) {
    if (!json_is_string(enc_j))
      return InvalidArgument("field " + Quote(field + ".encryptedKey") + ": not a string");
    encrypted = json_string_value(enc_j);
  }
  return std::unique_ptr<Provisioner>(new JwkProvisioner(
      name, claims, std::move(json), std::move(jwk->key), kid, encrypted));
}

}  // namespace stepca
