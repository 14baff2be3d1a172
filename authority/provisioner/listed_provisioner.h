// A provisioner of a type ca.json may list that this version cannot
// authorize with (SCEP, Nebula; SSHPOP, whose tokens the SSH CA handles):
// /provisioners shows it, as step-ca does; its tokens are refused.
#ifndef STEPCA_AUTHORITY_PROVISIONER_LISTED_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_LISTED_PROVISIONER_H

#include <string>

#include "authority/provisioner/provisioner_base.h"

namespace stepca {

class ListedProvisioner : public ProvisionerBase {
 public:
  ListedProvisioner(ProvisionerType type, std::string type_name, std::string name,
                    Claims claims, JsonPtr json);
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_LISTED_PROVISIONER_H
