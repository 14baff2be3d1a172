#include "authority/provisioner/cloud_identity.h"

#include <chrono>
#include <utility>

#include "authority/provisioner/identity_token.h"
#include "authority/provisioner/provisioner_fields.h"

namespace stepca {

Result<CloudSettings> ReadCloudSettings(const json_t* obj, const std::string& field) {
  CloudSettings s;
  STEPCA_RETURN_IF_ERROR(ReadBoolSetting(obj, field, "disableCustomSANs", &s.disable_custom_sans));
  STEPCA_RETURN_IF_ERROR(
      ReadBoolSetting(obj, field, "disableTrustOnFirstUse", &s.disable_trust_on_first_use));
  std::string age;
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "instanceAge", false, &age));
  if (!age.empty()) {
    auto d = ParseGoDuration(age);
    if (!d) return InvalidArgument("field \"" + field + ".instanceAge\": not a duration");
    if (d->count() < 0)
      return InvalidArgument("field \"" + field + ".instanceAge\": provisioner instanceAge cannot be negative");
    if (d->count() > 0) s.instance_age = *d;
  }
  return s;
}

Status CheckInstanceAge(const CloudSettings& s, TimePoint started, TimePoint now, const char* ctx) {
  if (!s.instance_age) return Status::Ok();
  if (now - started > *s.instance_age)
    return Unauthenticated(std::string(ctx) + ": instance is older than instanceAge (" +
                           FormatGoDuration(*s.instance_age) + ")");
  return Status::Ok();
}

SignGrant CloudGrant(const CloudSettings& s, const Provisioner& p, ProvisionerType type,
                     const TokenClaims& claims, std::string subject, std::string credential_id,
                     std::vector<std::string> provider_sans, CsrNames otherwise) {
  SignGrant g;
  g.subject = std::move(subject);
  g.info.type = type;
  g.info.name = p.name();
  g.info.credential_id = std::move(credential_id);
  g.provisioner_id = p.id();
  g.token_expiry = TimePoint(std::chrono::seconds(*claims.expiry));
  if (s.disable_custom_sans) {
    g.csr_names = CsrNames::kMustMatch;
    g.sans = std::move(provider_sans);
  } else {
    g.csr_names = otherwise;
  }
  return g;
}

void SetCloudUseKeys(const CloudSettings& s, const std::string& provisioner_id,
                     const std::string& instance_id, const Jws& jws, SignGrant* g) {
  if (s.disable_trust_on_first_use) {
    g->token_key = IdentityTokenUseKey(provisioner_id, "token:" + CanonicalTokenId(jws));
  } else {
    g->instance_key = IdentityTokenUseKey(provisioner_id, "instance:" + instance_id);
  }
}

}  // namespace stepca
