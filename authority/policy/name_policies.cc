#include "authority/policy/name_policies.h"

#include "authority/provisioner/provisioner.h"

namespace stepca {

const NamePolicy* NamePolicies::Of(const Provisioner* provisioner) const {
  if (provisioner == nullptr) return nullptr;
  auto it = by_provisioner_.find(provisioner->id());
  return it == by_provisioner_.end() ? nullptr : it->second.get();
}

Status NamePolicies::CheckX509(const Provisioner* provisioner, const std::string& common_name,
                               const SanSet& sans) const {
  for (const NamePolicy* p : {Of(provisioner), authority_.get()})
    if (p != nullptr) STEPCA_RETURN_IF_ERROR(p->CheckX509(common_name, sans));
  return Status::Ok();
}

Status NamePolicies::CheckIdentifier(const Provisioner* provisioner, const std::string& type,
                                     const std::string& value) const {
  for (const NamePolicy* p : {Of(provisioner), authority_.get()})
    if (p != nullptr) STEPCA_RETURN_IF_ERROR(p->CheckIdentifier(type, value));
  return Status::Ok();
}

Status NamePolicies::CheckSsh(const Provisioner* provisioner, SshCertType type,
                              const std::vector<std::string>& principals) const {
  for (const NamePolicy* p : {Of(provisioner), authority_.get()})
    if (p != nullptr) STEPCA_RETURN_IF_ERROR(p->CheckSsh(type, principals));
  return Status::Ok();
}

}  // namespace stepca
