// The linkedca JSON the admin API speaks (protojson of go.step.sm/linkedca's
// Provisioner and Admin, as step's admin client sends and reads them), and
// its translation to a ca.json provisioner entry, so that a provisioner
// from the store is parsed by the same code as one from ca.json.
#ifndef STEPCA_AUTHORITY_ADMIN_LINKEDCA_H
#define STEPCA_AUTHORITY_ADMIN_LINKEDCA_H

#include <jansson.h>

#include <string>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca::admin {

// linkedca.Admin_Type; protojson writes the names, reads names or numbers.
enum class AdminType { kUnknown = 0, kAdmin = 1, kSuperAdmin = 2 };
const char* AdminTypeName(AdminType t);
// kInvalidArgument "invalid value for admin type" for anything else,
// including UNKNOWN, as step-ca's request validation says.
Result<AdminType> ReadAdminType(const json_t* value);

// The provisioner type of a linkedca Provisioner ("JWK", "X5C", ...), from
// its name or number; kInvalidArgument when missing or unknown.
Result<std::string> ReadProvisionerType(const json_t* value);

// The ca.json entry for a linkedca Provisioner: type, name, claims,
// options.x509 from x509Template, and the type's details (JWK key and
// encryptedKey; X5C roots). Types this CA cannot authorize are
// kInvalidArgument, naming the type, and so is what only ca.json can
// carry here (policy, webhooks, sshTemplate, ACME forceCn/requireEab):
// refused, never dropped.
Result<JsonPtr> ToConfigProvisioner(const json_t* linkedca);

}  // namespace stepca::admin

#endif  // STEPCA_AUTHORITY_ADMIN_LINKEDCA_H
