#include "authority/provisioner/parse_provisioner.h"

#include <strings.h>

#include "authority/provisioner/acme_provisioner.h"
#include "authority/provisioner/aws_provisioner.h"
#include "authority/provisioner/azure_provisioner.h"
#include "authority/provisioner/gcp_provisioner.h"
#include "authority/provisioner/jwk_provisioner.h"
#include "authority/provisioner/k8ssa_provisioner.h"
#include "authority/provisioner/listed_provisioner.h"
#include "authority/provisioner/oidc_provisioner.h"
#include "authority/provisioner/provisioner_base.h"
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
                                                      std::vector<std::string>* warnings,
                                                      const std::string& config_dir) {
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

  // options.ssh (SSH templates) is read by the config loader.
  const json_t* options = json_object_get(obj, "options");
  if (options != nullptr && !json_is_null(options) && !json_is_object(options))
    return InvalidArgument("field " + Quote(field + ".options") + ": must be an object");
  // The X.509 template is parsed now, so that a broken one fails the load.
  STEPCA_ASSIGN_OR_RETURN(
      std::shared_ptr<const X509TemplateOptions> x509,
      LoadX509TemplateOptions(json_object_get(options, "x509"),
                              X509TemplateSource{field + ".options.x509", name, config_dir}));

  Result<std::unique_ptr<Provisioner>> prov = InvalidArgument("");
  if (tn->type == ProvisionerType::kX5c) {
    prov = ParseX5cProvisioner(obj, field, name, claims, std::move(json));
  } else if (tn->type == ProvisionerType::kOidc) {
    prov = ParseOidcProvisioner(obj, field, name, claims, std::move(json), warnings);
  } else if (tn->type == ProvisionerType::kAws) {
    prov = ParseAwsProvisioner(obj, field, name, claims, std::move(json), config_dir);
  } else if (tn->type == ProvisionerType::kGcp) {
    prov = ParseGcpProvisioner(obj, field, name, claims, std::move(json), warnings);
  } else if (tn->type == ProvisionerType::kAzure) {
    prov = ParseAzureProvisioner(obj, field, name, claims, std::move(json), warnings);
  } else if (tn->type == ProvisionerType::kK8sSa) {
    prov = ParseK8sSaProvisioner(obj, field, name, claims, std::move(json));
  } else if (tn->type == ProvisionerType::kAcme) {
    prov = std::unique_ptr<Provisioner>(new AcmeProvisioner(name, claims, std::move(json)));
  } else if (tn->type != ProvisionerType::kJwk) {
    // SSHPOP tokens are authorized by the SSH CA (policy/ssh_policy.h).
    if (tn->type != ProvisionerType::kSshPop)
      warnings->push_back(std::string(tn->name) + " provisioner " + Quote(name) + " (" + field +
                          ") is listed, but this version does not authorize requests with it: " +
                          "its requests are refused (401)");
    prov = std::unique_ptr<Provisioner>(
        new ListedProvisioner(tn->type, tn->name, name, claims, std::move(json)));
  } else {
    prov = ParseJwkProvisioner(obj, field, name, claims, std::move(json));
  }
  if (!prov.ok()) return prov;
  // Every provisioner type is a ProvisionerBase.
  static_cast<ProvisionerBase*>(prov->get())->set_x509_template(std::move(x509));
  return prov;
}

}  // namespace stepca
