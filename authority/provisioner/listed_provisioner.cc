#include "authority/provisioner/listed_provisioner.h"

namespace stepca {

ListedProvisioner::ListedProvisioner(ProvisionerType type, std::string type_name,
                                     std::string name, Claims claims, JsonPtr json)
    : ProvisionerBase(type, std::move(type_name), std::move(name), claims, std::move(json)) {}

}  // namespace stepca
