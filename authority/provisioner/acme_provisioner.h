// The ACME provisioner: served by the ACME endpoints (authority/acme/),
// which authenticate accounts themselves; it takes no one-time tokens.
// Its settings (challenges, EAB, ...) are read from json() by the ACME
// service.
#ifndef STEPCA_AUTHORITY_PROVISIONER_ACME_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_ACME_PROVISIONER_H

#include <string>

#include "authority/provisioner/provisioner_base.h"

namespace stepca {

class AcmeProvisioner : public ProvisionerBase {
 public:
  AcmeProvisioner(std::string name, Claims claims, JsonPtr json);
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_ACME_PROVISIONER_H
