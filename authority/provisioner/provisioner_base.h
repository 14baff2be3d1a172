// What every provisioner type shares: its ca.json identity and claims, the
// default renew rule, and refusals for the token flows a type lacks.
#ifndef STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_BASE_H
#define STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_BASE_H

#include <string>

#include "authority/provisioner/provisioner.h"

namespace stepca {

// step-ca's DefaultAuthorizeRenew: renewal not disabled by claims, cert
// valid now or expired with allowRenewalAfterExpiry. name is the
// provisioner's, for the message ("" for a certificate without one).
Status DefaultAuthorizeRenew(const Claims& claims, const std::string& name, X509* cert,
                             TimePoint now);

class ProvisionerBase : public Provisioner {
 public:
  ProvisionerType type() const override { return type_; }
  const std::string& type_name() const override { return type_name_; }
  const std::string& name() const override { return name_; }
  const Claims& claims() const override { return claims_; }
  const json_t* json() const override { return json_.get(); }
  const X509TemplateOptions& x509_template() const override { return *x509_template_; }
  // Set once, while ca.json is parsed (ParseProvisioner).
  void set_x509_template(std::shared_ptr<const X509TemplateOptions> t) { x509_template_ = std::move(t); }

  // "<type in lower case>/<name>".
  std::string id() const override;
  std::string token_selector() const override { return id(); }

  // Refusals: this type has no sign / revoke token flow.
  Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                  const Audiences& audiences, TimePoint now) const override;
  Result<SignGrant> AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                    const Audiences& audiences, TimePoint now) const override;
  // DefaultAuthorizeRenew with this provisioner's claims.
  Status AuthorizeRenew(X509* cert, TimePoint now) const override;

 protected:
  // json: the provisioner object from ca.json.
  ProvisionerBase(ProvisionerType type, std::string type_name, std::string name, Claims claims,
                  JsonPtr json);

 private:
  ProvisionerType type_;
  std::string type_name_;
  std::string name_;
  Claims claims_;
  JsonPtr json_;
  std::shared_ptr<const X509TemplateOptions> x509_template_ = DefaultX509TemplateOptions();
};

// The one-time-use key of a token: sha256hex("<provisioner id>\n<jti>").
// A token without a jti is refused (kUnauthenticated, `where` names the
// check in the log): a one-time token must say which one it is (step-ca
// 0.19 accepts it; this CA is stricter).
[[nodiscard]] Result<std::string> TokenUseKey(const std::string& provisioner_id,
                                              const TokenClaims& claims, const char* where);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_BASE_H
