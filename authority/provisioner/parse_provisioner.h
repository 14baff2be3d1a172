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
// defaults and authority.claims; config_dir is ca.json's directory, where
// a relative options.x509.templateFile is looked for. Adds a warning for
// types that are listed but cannot authorize yet.
Result<std::unique_ptr<Provisioner>> ParseProvisioner(
    const json_t* obj, const std::string& field, const Claims& global,
    std::vector<std::string>* warnings, const std::string& config_dir = ".");

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_PARSE_PROVISIONER_H
