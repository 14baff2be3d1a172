#include "authority/provisioner/azure_provisioner.h"

#include <strings.h>

#include <algorithm>

#include "authority/provisioner/identity_token.h"
#include "authority/provisioner/provisioner_fields.h"

namespace stepca {
namespace {

constexpr char kDefaultAudience[] = "https://management.azure.com/";

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + 1)
    out.push_back(s.substr(start, at - start));
  out.push_back(s.substr(start));
  return out;
}

std::string StringClaim(const json_t* payload, const char* name) {
  const json_t* v = json_object_get(payload, name);
  return json_is_string(v) ? json_string_value(v) : "";
}

}  // namespace

Result<AzureResource> ParseXmsMirId(const std::string& mirid) {
  // "", subscriptions, <s>, resourceGroups, <g>, providers, Microsoft.X, <kind>, <name>
  const auto p = Split(mirid, '/');
  const Status bad = Unauthenticated("error parsing xms_mirid claim - " + mirid.substr(0, 200));
  if (p.size() != 9 || !p[0].empty() || strcasecmp(p[1].c_str(), "subscriptions") != 0 ||
      strcasecmp(p[3].c_str(), "resourceGroups") != 0 || strcasecmp(p[5].c_str(), "providers") != 0)
    return bad;
  const std::string kind = p[6] + "/" + p[7];
  if (strcasecmp(kind.c_str(), "Microsoft.Compute/virtualMachines") != 0 &&
      strcasecmp(kind.c_str(), "Microsoft.ManagedIdentity/userAssignedIdentities") != 0)
    return bad;
  for (size_t i : {2u, 4u, 8u})
    if (p[i].empty()) return bad;
  return AzureResource{p[2], p[4], p[8]};
}

AzureProvisioner::AzureProvisioner(std::string name, Claims claims, JsonPtr json,
                                   AzureSettings settings, std::shared_ptr<RemoteKeySet> keys)
    : ProvisionerBase(ProvisionerType::kAzure, "Azure", std::move(name), claims, std::move(json)),
      settings_(std::move(settings)),
      keys_(std::move(keys)) {}

Result<SignGrant> AzureProvisioner::AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                                  const Audiences&, TimePoint now) const {
  const json_t* kid_j = json_object_get(jws.header.get(), "kid");
  const std::string kid = json_is_string(kid_j) ? json_string_value(kid_j) : "";
  if (!VerifiedByOneOf(jws, keys_->Find(kid)))
    return Unauthenticated("azure.authorizeToken; cannot validate azure token");
  const std::string fail = "azure.authorizeToken; failed to validate azure token payload: ";
  if (claims.issuer != keys_->issuer()) return Unauthenticated(fail + "invalid issuer \"" + claims.issuer + "\"");
  if (!Contains(claims.audience, settings_.audience)) return Unauthenticated(fail + "invalid audience");
  Status t = CheckIdentityTimeClaims(claims, now);
  if (!t.ok()) return Unauthenticated(fail + t.message());
  const json_t* payload = jws.payload.get();
  if (StringClaim(payload, "tid") != settings_.tenant_id)
    return Unauthenticated("azure.authorizeToken; azure token validation failed - invalid tenant id claim (tid)");
  const std::string mirid = StringClaim(payload, "xms_mirid");
  auto res = ParseXmsMirId(mirid);
  if (!res.ok()) return res.status().Wrap("azure.authorizeToken");
  if (!settings_.resource_groups.empty() && !Contains(settings_.resource_groups, res->group))
    return Unauthenticated("azure.AuthorizeSign; azure token validation failed - invalid resource group");
  if (!settings_.subscription_ids.empty() && !Contains(settings_.subscription_ids, res->subscription))
    return Unauthenticated("azure.AuthorizeSign; azure token validation failed - invalid subscription id");
  if (!settings_.object_ids.empty() && !Contains(settings_.object_ids, StringClaim(payload, "oid")))
    return Unauthenticated("azure.AuthorizeSign; azure token validation failed - invalid identity object id");

  SignGrant g = CloudGrant(settings_.cloud, *this, ProvisionerType::kAzure, claims, res->name,
                           settings_.tenant_id, {res->name}, CsrNames::kGranted);
  // step-ca: with trust on first use the VM (xms_mirid) is claimed once;
  // without it the token may be reused (Azure caches it for a day).
  if (!settings_.cloud.disable_trust_on_first_use)
    g.instance_key = IdentityTokenUseKey(id(), "instance:" + mirid);
  return g;
}

Result<std::unique_ptr<Provisioner>> ParseAzureProvisioner(
    const json_t* obj, const std::string& field, const std::string& name, const Claims& claims,
    JsonPtr json, std::vector<std::string>* warnings, const HttpGetter& get) {
  AzureSettings s;
  STEPCA_ASSIGN_OR_RETURN(s.cloud, ReadCloudSettings(obj, field));
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "tenantID", true, &s.tenant_id));
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "audience", false, &s.audience));
  if (s.audience.empty()) s.audience = kDefaultAudience;
  STEPCA_RETURN_IF_ERROR(ReadStringListSetting(obj, field, "resourceGroups", &s.resource_groups));
  STEPCA_RETURN_IF_ERROR(ReadStringListSetting(obj, field, "subscriptionIDs", &s.subscription_ids));
  STEPCA_RETURN_IF_ERROR(ReadStringListSetting(obj, field, "objectIDs", &s.object_ids));
  std::string endpoint;
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "configurationEndpoint", false, &endpoint));
  RemoteKeySet::Source src;
  src.discovery_url = endpoint.empty()
                          ? "https://login.microsoftonline.com/" + s.tenant_id + "/.well-known/openid-configuration"
                          : endpoint;
  src.tenant_id = s.tenant_id;
  auto keys = std::make_shared<RemoteKeySet>(std::move(src), get);
  Status loaded = keys->Load();
  if (!loaded.ok())
    warnings->push_back("Azure provisioner \"" + name + "\" (" + field + "): cannot load its keys yet (" +
                        loaded.message() + "); its tokens are refused until a refresh succeeds");
  return std::unique_ptr<Provisioner>(
      new AzureProvisioner(name, claims, std::move(json), std::move(s), std::move(keys)));
}

}  // namespace stepca
