// The name policies of one CA: authority.policy and each provisioner's
// policy. A certificate must pass both (step-ca checks the provisioner's
// first, then the authority's); either missing allows everything.
#ifndef STEPCA_AUTHORITY_POLICY_NAME_POLICIES_H
#define STEPCA_AUTHORITY_POLICY_NAME_POLICIES_H

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "authority/policy/name_policy.h"
#include "authority/status.h"
#include "authority/x509/csr.h"

namespace stepca {

class Provisioner;

class NamePolicies {
 public:
  void SetAuthority(std::unique_ptr<const NamePolicy> policy) { authority_ = std::move(policy); }
  // provisioner_id: Provisioner::id().
  void SetProvisioner(const std::string& provisioner_id, std::unique_ptr<const NamePolicy> policy) {
    by_provisioner_[provisioner_id] = std::move(policy);
  }

  // provisioner may be nullptr (a certificate without one: the authority's
  // policy alone). Refusals are kPermissionDenied (403); the HTTP edge puts
  // step-ca's "The request was forbidden by the certificate authority: "
  // before the message (name_policy.h).
  Status CheckX509(const Provisioner* provisioner, const std::string& common_name,
                   const SanSet& sans) const;
  // An ACME order identifier; the refusal's message is the detail of a
  // rejectedIdentifier problem.
  Status CheckIdentifier(const Provisioner* provisioner, const std::string& type,
                         const std::string& value) const;
  // SSH certificates (the SSH CA calls this before signing).
  Status CheckSsh(const Provisioner* provisioner, SshCertType type,
                  const std::vector<std::string>& principals) const;

 private:
  const NamePolicy* Of(const Provisioner* provisioner) const;

  std::unique_ptr<const NamePolicy> authority_;
  std::map<std::string, std::unique_ptr<const NamePolicy>> by_provisioner_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_POLICY_NAME_POLICIES_H
