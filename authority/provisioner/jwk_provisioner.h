// The JWK provisioner: tokens signed by the provisioner's own key, whose
// encrypted private half step hands to clients (/provisioners/{kid}/encrypted-key).
#ifndef STEPCA_AUTHORITY_PROVISIONER_JWK_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_JWK_PROVISIONER_H

#include <memory>
#include <string>

#include "authority/provisioner/provisioner_base.h"

namespace stepca {

class JwkProvisioner : public ProvisionerBase {
 public:
  JwkProvisioner(std::string name, Claims claims, JsonPtr json, EvpPkeyPtr key,
                 std::string kid, std::string encrypted_key);

  // Also its token selector: tokens name it by iss and kid.
  std::string id() const override { return name() + ":" + kid_; }
  const std::string& kid() const { return kid_; }
  const std::string& encrypted_key() const { return encrypted_key_; }

  // Signature by the key, iss = name, time claims, audience /sign, sub
  // non-empty; one-time use by jti.
  Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                  const Audiences& audiences, TimePoint now) const override;
  // The same checks against the /revoke audience.
  Result<SignGrant> AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                    const Audiences& audiences, TimePoint now) const override;
  // The same checks against the /ssh/revoke audience.
  Result<SignGrant> AuthorizeSshRevoke(const Jws& jws, const TokenClaims& claims,
                                       const Audiences& audiences, TimePoint now) const;

 private:
  EvpPkeyPtr key_;
  std::string kid_;
  std::string encrypted_key_;
};

// obj is a JWK entry of authority.provisioners: "key" a public JWK (its kid,
// or its thumbprint when it has none), "encryptedKey" optional. Errors name
// field.key / field.encryptedKey.
Result<std::unique_ptr<Provisioner>> ParseJwkProvisioner(const json_t* obj,
                                                         const std::string& field,
                                                         const std::string& name,
                                                         const Claims& claims, JsonPtr json);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_JWK_PROVISIONER_H
