#include "authority/provisioner/gcp_provisioner.h"

#include <algorithm>

#include "authority/provisioner/identity_token.h"
#include "authority/provisioner/provisioner_fields.h"

namespace stepca {
namespace {

constexpr char kGoogleIssuer[] = "https://accounts.google.com";
constexpr char kGoogleCertsUrl[] = "https://www.googleapis.com/oauth2/v3/certs";

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

Result<ComputeEngine> ReadComputeEngine(const json_t* payload) {
  const json_t* ce = json_object_get(json_object_get(payload, "google"), "compute_engine");
  if (!json_is_object(ce)) return Unauthenticated("gcp token has no google.compute_engine claims");
  ComputeEngine out;
  struct Field {
    const char* name;
    std::string* out;
  } fields[] = {{"instance_id", &out.instance_id},
                {"instance_name", &out.instance_name},
                {"project_id", &out.project_id},
                {"zone", &out.zone}};
  for (const auto& f : fields) {
    const json_t* v = json_object_get(ce, f.name);
    if (!json_is_string(v) || json_string_length(v) == 0)
      return Unauthenticated(std::string("gcp token google.compute_engine.") + f.name + " cannot be empty");
    *f.out = json_string_value(v);
  }
  const json_t* ts = json_object_get(ce, "instance_creation_timestamp");
  if (ts != nullptr && !json_is_null(ts)) {
    if (!json_is_integer(ts))
      return Unauthenticated("gcp token google.compute_engine.instance_creation_timestamp is not a number");
    out.instance_creation_timestamp = json_integer_value(ts);
  }
  return out;
}

GcpProvisioner::GcpProvisioner(std::string name, Claims claims, JsonPtr json, CloudSettings cloud,
                               std::vector<std::string> service_accounts,
                               std::vector<std::string> project_ids,
                               std::shared_ptr<RemoteKeySet> keys)
    : ProvisionerBase(ProvisionerType::kGcp, "GCP", std::move(name), claims, std::move(json)),
      cloud_(cloud),
      service_accounts_(std::move(service_accounts)),
      project_ids_(std::move(project_ids)),
      keys_(std::move(keys)) {}

Result<SignGrant> GcpProvisioner::AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                                const Audiences& audiences, TimePoint now) const {
  const json_t* kid_j = json_object_get(jws.header.get(), "kid");
  const std::string kid = json_is_string(kid_j) ? json_string_value(kid_j) : "";
  if (!VerifiedByOneOf(jws, keys_->Find(kid)))
    return Unauthenticated("gcp.authorizeToken; failed to validate gcp token payload - cannot find key for kid " + kid);
  if (claims.issuer != kGoogleIssuer)
    return Unauthenticated("gcp.authorizeToken; invalid gcp token payload: invalid issuer \"" + claims.issuer + "\"");
  Status t = CheckIdentityTimeClaims(claims, now);
  if (!t.ok()) return Unauthenticated("gcp.authorizeToken; invalid gcp token payload: " + t.message());
  if (!audiences.Matches(TokenMethod::kSign, claims.audience, id()))
    return Unauthenticated("gcp.authorizeToken; invalid gcp token - invalid audience claim (aud)");
  const json_t* email_j = json_object_get(jws.payload.get(), "email");
  const std::string email = json_is_string(email_j) ? json_string_value(email_j) : "";
  if (!service_accounts_.empty() && !Contains(service_accounts_, claims.subject) &&
      (email.empty() || !Contains(service_accounts_, email)))
    return Unauthenticated("gcp.authorizeToken; invalid gcp token - invalid subject claim");
  auto ce = ReadComputeEngine(jws.payload.get());
  if (!ce.ok()) return ce.status().Wrap("gcp.authorizeToken");
  if (!project_ids_.empty() && !Contains(project_ids_, ce->project_id))
    return Unauthenticated("gcp.authorizeToken; invalid gcp token - invalid project id");
  if (cloud_.instance_age) {
    if (!ce->instance_creation_timestamp)
      return Unauthenticated("gcp.authorizeToken; token google.compute_engine.instance_creation_timestamp is missing");
    STEPCA_RETURN_IF_ERROR(CheckInstanceAge(
        cloud_, TimePoint(std::chrono::seconds(*ce->instance_creation_timestamp)), now,
        "gcp.authorizeToken; token google.compute_engine.instance_creation_timestamp is too old"));
  }

  SignGrant g = CloudGrant(
      cloud_, *this, ProvisionerType::kGcp, claims, ce->instance_name, claims.subject,
      {ce->instance_name + ".c." + ce->project_id + ".internal",
       ce->instance_name + "." + ce->zone + ".c." + ce->project_id + ".internal"},
      CsrNames::kGranted);
  SetCloudUseKeys(cloud_, id(), ce->instance_id, jws, &g);
  return g;
}

Result<std::unique_ptr<Provisioner>> ParseGcpProvisioner(
    const json_t* obj, const std::string& field, const std::string& name, const Claims& claims,
    JsonPtr json, std::vector<std::string>* warnings, const HttpGetter& get) {
  STEPCA_ASSIGN_OR_RETURN(CloudSettings cloud, ReadCloudSettings(obj, field));
  std::vector<std::string> accounts, projects;
  STEPCA_RETURN_IF_ERROR(ReadStringListSetting(obj, field, "serviceAccounts", &accounts));
  STEPCA_RETURN_IF_ERROR(ReadStringListSetting(obj, field, "projectIDs", &projects));
  std::string certs = kGoogleCertsUrl;
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "certsURL", false, &certs));
  if (certs.empty()) certs = kGoogleCertsUrl;
  RemoteKeySet::Source src;
  src.jwks_url = certs;
  auto keys = std::make_shared<RemoteKeySet>(std::move(src), get);
  Status loaded = keys->Load();
  if (!loaded.ok())
    warnings->push_back("GCP provisioner \"" + name + "\" (" + field + "): cannot load Google's keys yet (" +
                        loaded.message() + "); its tokens are refused until a refresh succeeds");
  return std::unique_ptr<Provisioner>(new GcpProvisioner(name, claims, std::move(json), cloud,
                                                         std::move(accounts), std::move(projects),
                                                         std::move(keys)));
}

}  // namespace stepca
