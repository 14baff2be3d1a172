#include "authority/provisioner/acme_provisioner.h"

namespace stepca {

// Sign and revoke tokens are refused (ProvisionerBase); renewal of an ACME
// certificate over /renew follows the default rule, as in step-ca.
AcmeProvisioner::AcmeProvisioner(std::string name, Claims claims, JsonPtr json)
    : ProvisionerBase(ProvisionerType::kAcme, "ACME", std::move(name), claims, std::move(json)) {}

}  // namespace stepca
