// The OIDC provisioner: ID tokens of an OpenID Connect issuer (Google,
// Okta, Keycloak, Azure AD, ...) whose client is clientID. Its keys come
// from the issuer's discovery document (remote_key_set.h). Admins (by
// e-mail or group) may ask for any name; everyone else gets a certificate
// for their own identity: subject the token's sub, SANs its e-mail and the
// URI <iss>#<sub>.
#ifndef STEPCA_AUTHORITY_PROVISIONER_OIDC_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_OIDC_PROVISIONER_H

#include <memory>
#include <string>
#include <vector>

#include "authority/provisioner/provisioner_base.h"
#include "authority/provisioner/remote_key_set.h"

namespace stepca {

struct OidcSettings {
  std::string client_id;
  std::string client_secret;  // given to step for the OAuth flow; never logged
  std::string configuration_endpoint;
  std::string tenant_id;
  std::vector<std::string> admins;
  std::vector<std::string> domains;
  std::vector<std::string> groups;
  std::string listen_address;
};

// The ID-token claims beyond the registered ones.
struct OidcClaims {
  std::string email;
  std::string authorized_party;  // azp
  std::string nonce;
  std::vector<std::string> groups;
};
// Type-checked read: a claim of the wrong type is kUnauthenticated.
Result<OidcClaims> ReadOidcClaims(const json_t* payload);

// step-ca's sanitizeEmail: the domain part compared in lower case.
std::string SanitizeEmail(const std::string& email);

// step-ca's default SSH identity of an e-mail: the local part in lower
// case with dots dropped and other characters outside [a-z0-9_-] turned
// into "_" (it must then match ^[a-z][-a-z0-9_]*$), the raw local part,
// and the e-mail, without duplicates. kUnauthenticated for an e-mail whose
// principal would not be a valid user name.
Result<std::vector<std::string>> OidcSshPrincipals(const std::string& email);

// What a verified ID token grants for /ssh/sign.
struct OidcSshIdentity {
  bool admin = false;  // admins sign the certificate they ask for
  std::string email;   // the key id of a user certificate
  std::vector<std::string> principals;
};

class OidcProvisioner : public ProvisionerBase {
 public:
  OidcProvisioner(std::string name, Claims claims, JsonPtr json, OidcSettings settings,
                  std::shared_ptr<RemoteKeySet> keys);

  // step-ca names an OIDC provisioner, and finds it for a token, by its
  // clientID (the token's azp or aud).
  std::string id() const override { return settings_.client_id; }
  std::string token_selector() const override { return settings_.client_id; }
  const OidcSettings& settings() const { return settings_; }

  bool IsAdmin(const OidcClaims& c) const;

  // For a token AuthorizeSign accepted: the e-mail is required (step-ca's
  // AuthorizeSSHSign), then its identity.
  Result<OidcSshIdentity> SshIdentity(const Jws& jws) const;

  // Signature by a key of the issuer's JWKS with that key's algorithm;
  // iss the discovered issuer, aud holding clientID, azp (if any)
  // clientID, time claims; then domains (non-admins) and groups. One-time
  // use by nonce, or by the token itself when it has none.
  Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                  const Audiences& audiences, TimePoint now) const override;
  // The same checks; only admins may revoke.
  Result<SignGrant> AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                    const Audiences& audiences, TimePoint now) const override;

 private:
  Result<OidcClaims> Authorize(const Jws& jws, const TokenClaims& claims, TimePoint now,
                               const char* ctx) const;
  SignGrant BaseGrant(const Jws& jws, const TokenClaims& claims, const OidcClaims& oc) const;

  OidcSettings settings_;
  std::shared_ptr<RemoteKeySet> keys_;
};

// obj: an OIDC entry of authority.provisioners. clientID and
// configurationEndpoint are required; the discovery document and keys are
// fetched now with get. A fetch that fails does not fail the load (the
// issuer may be down while nginx starts): it adds a warning and tokens are
// refused until a background refresh succeeds.
Result<std::unique_ptr<Provisioner>> ParseOidcProvisioner(
    const json_t* obj, const std::string& field, const std::string& name, const Claims& claims,
    JsonPtr json, std::vector<std::string>* warnings, const HttpGetter& get = DefaultHttpGetter());

// The discovery URL of a configurationEndpoint: the well-known path is
// added when the endpoint lacks it (step-ca's rule).
std::string DiscoveryUrl(const std::string& configuration_endpoint);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_OIDC_PROVISIONER_H
