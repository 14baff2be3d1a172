// Provisioners authorize requests: one interface; each type decides what
// its own credential proves, for sign, renew and revoke. Implementations:
// jwk_provisioner.h, x5c_provisioner.h, acme_provisioner.h,
// oidc_provisioner.h, k8ssa_provisioner.h, aws/gcp/azure_provisioner.h, and
// listed_provisioner.h for the types ca.json may list that cannot authorize
// yet. The collection is provisioner_collection.h; ca.json parsing is
// parse_provisioner.h.
#ifndef STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_H

#include <jansson.h>

#include <memory>
#include <string>
#include <vector>

#include "authority/jose/jws.h"
#include "authority/ossl.h"
#include "authority/provisioner/token_claims.h"
#include "authority/status.h"
#include "authority/x509/claims.h"
#include "authority/x509/issuer.h"
#include "authority/x509/template_profile.h"
#include "shared/duration.h"

namespace stepca {

// How the names of the CSR relate to the grant's.
enum class CsrNames {
  kMustMatch,  // the CSR may only ask for the grant's names (JWK, X5C)
  kReplaced,   // the grant's names are used whatever the CSR asks (OIDC user, cloud)
  kGranted,    // the CSR's names are used (OIDC admin, K8sSA: step-ca's admin template)
  kGrantedSameSubject,  // the CSR's names, its common name (if any) the grant's subject (cloud)
};

// What a verified sign or revoke token grants.
struct SignGrant {
  std::string subject;
  std::vector<std::string> sans;  // the token's sans, [sub] when empty
  ProvisionerInfo info;           // for the provisioner extension
  std::string provisioner_id;
  std::string cnf_x5rt;           // when set, the CSR must have this hash
  CsrNames csr_names = CsrNames::kMustMatch;
  std::string token_key;          // one-time-use key: sha256("<provisioner id>\n<jti>"); "" none
  std::string instance_key;       // cloud trust on first use: the instance, claimed for good
  TimePoint token_expiry;
  // X5C: the x5c leaf's validity, which the new certificate must not leave.
  bool has_window = false;
  TimePoint window_not_before{}, window_not_after{};
  // X5C: the x5c leaf, the template's .AuthorizationCrt.
  std::shared_ptr<X509> authorization_crt;
};

class Provisioner {
 public:
  virtual ~Provisioner() = default;

  virtual ProvisionerType type() const = 0;
  // As ca.json spells the type ("JWK", "X5C", "ACME", ...).
  virtual const std::string& type_name() const = 0;
  virtual const std::string& name() const = 0;
  // The merged claims: defaults, authority.claims, then this provisioner's.
  virtual const Claims& claims() const = 0;
  // The provisioner object from ca.json, for /provisioners and for settings
  // of its own (ACME's).
  virtual const json_t* json() const = 0;
  // options.x509: the certificate template (step-ca's default leaf
  // template when the provisioner has none) and its templateData.
  virtual const X509TemplateOptions& x509_template() const = 0;

  // step-ca's provisioner ID (JWK: "<name>:<kid>", others "<type>/<name>").
  virtual std::string id() const = 0;
  // The key tokens select this provisioner by: JWK "<name>:<kid>", others
  // the audience fragment "<type>/<name>".
  virtual std::string token_selector() const = 0;

  // Verifies a sign token (audience /sign): signature first, then issuer,
  // time claims, audience and subject. kUnauthenticated for a type that
  // takes no sign tokens.
  virtual Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                          const Audiences& audiences,
                                          TimePoint now) const = 0;

  // May cert, issued by this provisioner and already proven to be the
  // client's (TLS or renew token), be renewed or rekeyed now?
  virtual Status AuthorizeRenew(X509* cert, TimePoint now) const = 0;

  // Verifies a revoke token (audience /revoke); the caller checks that sub
  // is the serial. kUnauthenticated for a type that takes no revoke tokens.
  virtual Result<SignGrant> AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                            const Audiences& audiences,
                                            TimePoint now) const = 0;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_H
