#include "authority/provisioner/parse_provisioner.h"

#include <strings.h>

#include "authority/provisioner/acme_provisioner.h"
#include "authority/provisioner/jwk_provisioner.h"
#include "authority/provisioner/listed_provisioner.h"
#include "authority/provisioner/x5c_provisioner.h"

namespace stepca {
namespace {

struct TypeName {
  const char* name;
  ProvisionerType type;
};

constexpr TypeName kTypes[] = {
    {"JWK", ProvisionerType::kJwk},     {"OIDC", ProvisionerType::kOidc},
    {"GCP", ProvisionerType::kGcp},     {"AWS", ProvisionerType::kAws},
    {"Azure", ProvisionerType::kAzure}, {"ACME", ProvisionerType::kAcme},
    {"X5C", ProvisionerType::kX5c},     {"K8sSA", ProvisionerType::kK8sSa},
    {"SSHPOP", ProvisionerType::kSshPop}, {"SCEP", ProvisionerType::kScep},
    {"Nebula", ProvisionerType::kNebula},
};

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

Result<std::unique_ptr<Provisioner>> ParseProvisioner(const json_t* obj, const std::string& field,
                                                      const Claims& global,
                                                      std::vector<std::string>* warnings) {
  if (!json_is_object(obj)) return InvalidArgument("field " + Quote(field) + ": not an object");
  const json_t* type_j = json_object_get(obj, "type");
  if (!json_is_string(type_j))
    return InvalidArgument("field " + Quote(field + ".type") + ": missing or not a string");
  const char* type_s = json_string_value(type_j);
  const TypeName* tn = nullptr;
  for (const auto& t : kTypes) {
    if (strcasecmp(t.name, type_s) == 0) tn = &t;
  }
  if (tn == nullptr)
    return InvalidArgument("field " + Quote(field + ".type") + ": unknown provisioner type " +
                           Quote(type_s));
  const json_t* name_j = json_object_get(obj, "name");
  if (!json_is_string(name_j) || json_string_length(name_j) == 0)
    return InvalidArgument("field " + Quote(field + ".name") + ": missing or empty");
  std::string name = json_string_value(name_j);

  STEPCA_ASSIGN_OR_RETURN(Claims claims,
                          ApplyClaims(global, json_object_get(obj, "claims"), true, field + ".claims"));
  JsonPtr json(json_deep_copy(obj));

  // Certificate templates are not applied at issuance yet: a migrating
  // user must hear that the certificates will differ.
  const json_t* options = json_object_get(obj, "options");
  for (const char* kind : {"x509", "ssh"}) {
    const json_t* o = json_object_get(options, kind);
    if (json_is_object(o) && json_object_size(o) > 0)
      warnings->push_back(field + ".options." + kind + " (provisioner " + Quote(name) +
                          "): certificate templates are not applied yet; certificates get the "
                          "default profile");
  }

  if (tn->type == ProvisionerType::kX5c)
    return ParseX5cProvisioner(obj, field, name, claims, std::move(json));
  if (tn->type == ProvisionerType::kAcme)
    return std::unique_ptr<Provisioner>(new AcmeProvisioner(name, claims, std::move(json)));
  if (tn->type != ProvisionerType::kJwk) {
    warnings->push_back(std::string(tn->name) + " provisioner " + Quote(name) + " (" + field +
                        ") is listed, but this version does not authorize requests with it yet");
    return std::unique_ptr<Provisioner>(
        new ListedProvisioner(tn->type, tn->name, name, claims, std::move(json)));
  }

  return ParseJwkProvisioner(obj, field, name, claims, std::move(json));
}

}  // namespace stepca
