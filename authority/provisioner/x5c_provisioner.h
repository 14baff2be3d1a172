// The X5C provisioner: tokens carry an "x5c" certificate chain that must
// verify against the provisioner's own roots, and are signed by the leaf.
#ifndef STEPCA_AUTHORITY_PROVISIONER_X5C_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_X5C_PROVISIONER_H

#include <memory>
#include <string>
#include <vector>

#include "authority/provisioner/provisioner_base.h"
#include "authority/x509/validity.h"

namespace stepca {

class X5cProvisioner : public ProvisionerBase {
 public:
  X5cProvisioner(std::string name, Claims claims, JsonPtr json, std::vector<X509Ptr> roots);

  const std::vector<X509Ptr>& roots() const { return roots_; }

  // Chain verified against roots() now, with clientAuth and
  // digitalSignature on the leaf; signature by the leaf key; iss = name;
  // time claims with one minute of leeway; aud carries "#x5c/<name>"; sub
  // non-empty; one-time use by jti. The grant carries the leaf's validity
  // window.
  Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                  const Audiences& audiences, TimePoint now) const override;
  Result<SignGrant> AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                    const Audiences& audiences, TimePoint now) const override;

 private:
  Result<SignGrant> Authorize(TokenMethod method, const Jws& jws, const TokenClaims& claims,
                              const Audiences& audiences, TimePoint now) const;

  std::vector<X509Ptr> roots_;
};

// step-ca's profileLimitDuration: a requested notBefore before the window
// or notAfter after it is kPermissionDenied; otherwise notAfter is capped
// at the window's end.
Status LimitValidityToWindow(const SignGrant& grant, bool not_before_requested,
                             bool not_after_requested, Validity* validity);

// obj is an X5C entry of authority.provisioners: "roots" is the base64 of a
// PEM bundle (how Go marshals []byte). Errors name field.roots.
Result<std::unique_ptr<Provisioner>> ParseX5cProvisioner(const json_t* obj,
                                                         const std::string& field,
                                                         const std::string& name,
                                                         const Claims& claims, JsonPtr json);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_X5C_PROVISIONER_H
