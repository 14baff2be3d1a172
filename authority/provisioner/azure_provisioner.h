// The Azure provisioner: managed-identity access tokens from the instance
// metadata service (an RS256 JWT by Azure AD for the audience
// https://management.azure.com/ unless "audience" says otherwise), found
// by their tid. The keys come from the tenant's OpenID discovery document,
// https://login.microsoftonline.com/<tenantID>/.well-known/openid-configuration
// by default; configurationEndpoint (this CA's own field) names another.
// The VM is named by xms_mirid; resourceGroups, subscriptionIDs and
// objectIDs restrict which may ask.
#ifndef STEPCA_AUTHORITY_PROVISIONER_AZURE_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_AZURE_PROVISIONER_H

#include <memory>
#include <string>
#include <vector>

#include "authority/provisioner/cloud_identity.h"
#include "authority/provisioner/provisioner_base.h"
#include "authority/provisioner/remote_key_set.h"

namespace stepca {

// /subscriptions/<s>/resourceGroups/<g>/providers/Microsoft.Compute/virtualMachines/<name>
// (or Microsoft.ManagedIdentity/userAssignedIdentities/<name>), the
// resourceGroups segment in any case.
struct AzureResource {
  std::string subscription, group, name;
};
Result<AzureResource> ParseXmsMirId(const std::string& mirid);

struct AzureSettings {
  std::string tenant_id;
  std::string audience;
  std::vector<std::string> resource_groups, subscription_ids, object_ids;
  CloudSettings cloud;
};

class AzureProvisioner : public ProvisionerBase {
 public:
  AzureProvisioner(std::string name, Claims claims, JsonPtr json, AzureSettings settings,
                   std::shared_ptr<RemoteKeySet> keys);

  // step-ca finds an Azure provisioner by its tenant.
  std::string id() const override { return settings_.tenant_id; }
  std::string token_selector() const override { return settings_.tenant_id; }

  Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                  const Audiences& audiences, TimePoint now) const override;

 private:
  AzureSettings settings_;
  std::shared_ptr<RemoteKeySet> keys_;
};

Result<std::unique_ptr<Provisioner>> ParseAzureProvisioner(
    const json_t* obj, const std::string& field, const std::string& name, const Claims& claims,
    JsonPtr json, std::vector<std::string>* warnings, const HttpGetter& get = DefaultHttpGetter());

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_AZURE_PROVISIONER_H
