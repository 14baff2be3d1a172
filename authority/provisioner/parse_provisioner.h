// ca.json's authority.provisioners: one entry to one Provisioner.
#ifndef STEPCA_AUTHORITY_PROVISIONER_PARSE_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_PARSE_PROVISIONER_H

#include <jansson.h>

#include <memory>
#include <string>
#include <vector>

#include "authority/provisioner/provisioner.h"
#include "authority/status.h"
#include "authority/x509/claims.h"

namespace stepca {

// Parses one entry of authority.provisioners. field is its path for
// errors ("authority.provisioners[1]"); global claims are the merged
// defaults and authority.claims. Adds a warning for types that are listed
// but cannot authorize yet.
Result<std::unique_ptr<Provisioner>> ParseProvisioner(
    const json_t* obj, const std::string& field, const Claims& global,
    std::vector<std::string>* warnings);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_PARSE_PROVISIONER_H
