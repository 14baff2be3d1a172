// What the cloud instance-identity provisioners (AWS, GCP, Azure) share:
// disableCustomSANs, disableTrustOnFirstUse and instanceAge from ca.json,
// and the grant a verified identity gets. By default an instance may ask
// for any name and is trusted on first use only (its identity document is
// readable by anything on the instance, so only its first certificate is
// believed); with disableCustomSANs it gets only the names the provider
// gives it.
#ifndef STEPCA_AUTHORITY_PROVISIONER_CLOUD_IDENTITY_H
#define STEPCA_AUTHORITY_PROVISIONER_CLOUD_IDENTITY_H

#include <jansson.h>

#include <optional>
#include <string>
#include <vector>

#include "authority/provisioner/provisioner.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

struct CloudSettings {
  bool disable_custom_sans = false;
  bool disable_trust_on_first_use = false;
  std::optional<Duration> instance_age;  // absent or 0: any age
};

// instanceAge must be a non-negative Go duration.
Result<CloudSettings> ReadCloudSettings(const json_t* obj, const std::string& field);

// instanceAge: the instance must have started within it.
Status CheckInstanceAge(const CloudSettings& s, TimePoint started, TimePoint now, const char* ctx);

// The grant of an instance p verified: subject and credential_id as the
// provider names them, expiring with the token (claims.expiry is set:
// CheckIdentityTimeClaims required it). With disableCustomSANs the CSR
// must ask for exactly provider_sans; otherwise the CSR's names are
// granted as otherwise says.
SignGrant CloudGrant(const CloudSettings& s, const Provisioner& p, ProvisionerType type,
                     const TokenClaims& claims, std::string subject, std::string credential_id,
                     std::vector<std::string> provider_sans, CsrNames otherwise);

// The one-time-use or first-use keys of a grant: with trust on first use,
// instance_key = sha256("<provisioner id>\n<instance id>") claimed for
// good; without it, token_key = the token's own hash, one-time.
void SetCloudUseKeys(const CloudSettings& s, const std::string& provisioner_id,
                     const std::string& instance_id, const Jws& jws, SignGrant* g);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_CLOUD_IDENTITY_H
