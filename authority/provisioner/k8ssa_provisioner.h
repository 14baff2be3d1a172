// The K8sSA provisioner: Kubernetes service-account tokens, verified
// against the cluster's service-account signing keys (publicKeys: base64
// of a PEM bundle, as step-ca stores the bytes). Two kinds of token:
//   legacy (secret-based): iss "kubernetes/serviceaccount", the
//     kubernetes.io/serviceaccount/* claims, often no exp (step-ca's rule:
//     exp and nbf are checked when present);
//   bound (projected, TokenRequest): the cluster's own iss, a
//     "kubernetes.io" claim object, exp required, and aud must be this
//     CA's sign audience, so a token made for another audience cannot be
//     replayed here.
// As in step-ca, the CSR's names are granted (its default template is the
// request) and tokens are not one-time: they are the pod's standing
// credential. There is one K8sSA provisioner per CA; tokens find it by
// step-ca's fixed id "k8ssa/k8sSA-default".
#ifndef STEPCA_AUTHORITY_PROVISIONER_K8SSA_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_K8SSA_PROVISIONER_H

#include <memory>
#include <string>
#include <vector>

#include "authority/provisioner/provisioner_base.h"

namespace stepca {

// Who a verified token names.
struct ServiceAccount {
  std::string namespace_name;
  std::string name;
  std::string uid;
  bool bound = false;
};
// Reads the service account from a token's claims, legacy or bound;
// kUnauthenticated when neither form is there or a claim has the wrong
// type.
Result<ServiceAccount> ReadServiceAccount(const json_t* payload);

class K8sSaProvisioner : public ProvisionerBase {
 public:
  K8sSaProvisioner(std::string name, Claims claims, JsonPtr json, std::vector<EvpPkeyPtr> keys);

  std::string token_selector() const override { return "k8ssa/k8sSA-default"; }

  Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                  const Audiences& audiences, TimePoint now) const override;

 private:
  std::vector<EvpPkeyPtr> keys_;
};

// publicKeys is required: step-ca has no TokenReview integration either.
// RSA, EC and Ed25519 keys, as PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE.
Result<std::unique_ptr<Provisioner>> ParseK8sSaProvisioner(const json_t* obj,
                                                           const std::string& field,
                                                           const std::string& name,
                                                           const Claims& claims, JsonPtr json);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_K8SSA_PROVISIONER_H
