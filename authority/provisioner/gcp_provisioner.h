// The GCP provisioner: Google Compute Engine instance identity tokens
// (the metadata server's identity endpoint with format=full: an RS256 JWT
// by Google, iss https://accounts.google.com, aud this CA's sign URL with
// #gcp/<name>, and the google.compute_engine claims). Google's keys are
// fetched from certsURL (this CA's own field; step-ca always uses
// https://www.googleapis.com/oauth2/v3/certs, the default here too).
// serviceAccounts and projectIDs restrict who may ask.
#ifndef STEPCA_AUTHORITY_PROVISIONER_GCP_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_GCP_PROVISIONER_H

#include <memory>
#include <string>
#include <vector>

#include "authority/provisioner/cloud_identity.h"
#include "authority/provisioner/provisioner_base.h"
#include "authority/provisioner/remote_key_set.h"

namespace stepca {

struct ComputeEngine {
  std::string instance_id, instance_name, project_id, zone;
  std::optional<int64_t> instance_creation_timestamp;
};
// google.compute_engine of a token's payload; every string required.
Result<ComputeEngine> ReadComputeEngine(const json_t* payload);

class GcpProvisioner : public ProvisionerBase {
 public:
  GcpProvisioner(std::string name, Claims claims, JsonPtr json, CloudSettings cloud,
                 std::vector<std::string> service_accounts, std::vector<std::string> project_ids,
                 std::shared_ptr<RemoteKeySet> keys);

  Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                  const Audiences& audiences, TimePoint now) const override;

 private:
  CloudSettings cloud_;
  std::vector<std::string> service_accounts_, project_ids_;
  std::shared_ptr<RemoteKeySet> keys_;
};

Result<std::unique_ptr<Provisioner>> ParseGcpProvisioner(
    const json_t* obj, const std::string& field, const std::string& name, const Claims& claims,
    JsonPtr json, std::vector<std::string>* warnings, const HttpGetter& get = DefaultHttpGetter());

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_GCP_PROVISIONER_H
