#include "authority/provisioner/oidc_provisioner.h"

#include <algorithm>
#include <cctype>

#include "authority/cloud/http_request.h"
#include "authority/provisioner/identity_token.h"
#include "authority/provisioner/provisioner_fields.h"

namespace stepca {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// An absolute URL has a scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
bool HasScheme(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == ':') return true;
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

// The fragment as Go's url.URL.String() escapes it.
std::string EscapeFragment(const std::string& s) {
  return cloud::PercentEscape(s, "-._~$&+,/:;=?@!()*");
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// host:port, as Go's net.SplitHostPort accepts it (":10000" included).
bool IsHostPort(const std::string& a) {
  const size_t colon = a.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = a.substr(0, colon);
  if (host.find(':') != std::string::npos && !(host.size() >= 2 && host.front() == '[' && host.back() == ']'))
    return false;
  return true;
}

}  // namespace

std::string SanitizeEmail(const std::string& email) {
  const size_t at = email.rfind('@');
  if (at == std::string::npos) return email;
  return email.substr(0, at) + Lower(email.substr(at));
}

std::string DiscoveryUrl(const std::string& endpoint) {
  static const std::string kWellKnown = "/.well-known/openid-configuration";
  if (endpoint.find(kWellKnown) != std::string::npos) return endpoint;
  std::string base = endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + kWellKnown;
}

Result<std::vector<std::string>> OidcSshPrincipals(const std::string& email) {
  const size_t at = email.rfind('@');
  const std::string local = at == std::string::npos ? email : email.substr(0, at);
  std::string name;
  for (unsigned char c : Lower(local)) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') name += static_cast<char>(c);
    else if (c != '.') name += '_';
  }
  bool valid = !name.empty() && name[0] >= 'a' && name[0] <= 'z';
  if (!valid)
    return Unauthenticated("invalid principal '" + name + "' from email '" + email + "'");
  std::vector<std::string> out;
  for (const std::string& p : {name, at == std::string::npos ? std::string() : local, email})
    if (!p.empty() && !Contains(out, p)) out.push_back(p);
  return out;
}

Result<OidcClaims> ReadOidcClaims(const json_t* payload) {
  OidcClaims c;
  struct Str {
    const char* name;
    std::string* out;
  } strs[] = {{"email", &c.email}, {"azp", &c.authorized_party}, {"nonce", &c.nonce}};
  for (const auto& s : strs) {
    const json_t* v = json_object_get(payload, s.name);
    if (v == nullptr || json_is_null(v)) continue;
    if (!json_is_string(v)) return Unauthenticated(std::string("claim \"") + s.name + "\" is not a string");
    *s.out = std::string(json_string_value(v), json_string_length(v));
  }
  const json_t* g = json_object_get(payload, "groups");
  if (g != nullptr && !json_is_null(g)) {
    if (!json_is_array(g)) return Unauthenticated("claim \"groups\" is not an array of strings");
    size_t i;
    const json_t* e;
    json_array_foreach(g, i, e) {
      if (!json_is_string(e)) return Unauthenticated("claim \"groups\" is not an array of strings");
      c.groups.emplace_back(json_string_value(e), json_string_length(e));
    }
  }
  return c;
}

OidcProvisioner::OidcProvisioner(std::string name, Claims claims, JsonPtr json,
                                 OidcSettings settings, std::shared_ptr<RemoteKeySet> keys)
    : ProvisionerBase(ProvisionerType::kOidc, "OIDC", std::move(name), claims, std::move(json)),
      settings_(std::move(settings)),
      keys_(std::move(keys)) {}

bool OidcProvisioner::IsAdmin(const OidcClaims& c) const {
  if (!c.email.empty()) {
    const std::string email = SanitizeEmail(c.email);
    for (const auto& a : settings_.admins)
      if (email == SanitizeEmail(a)) return true;
  }
  // step-ca lists admin groups and admin e-mails in the same array.
  for (const auto& g : c.groups)
    if (Contains(settings_.admins, g)) return true;
  return false;
}

Result<OidcSshIdentity> OidcProvisioner::SshIdentity(const Jws& jws) const {
  auto oc = ReadOidcClaims(jws.payload.get());
  if (!oc.ok()) return oc.status().Wrap("oidc.AuthorizeSSHSign");
  if (oc->email.empty())
    return Unauthenticated("oidc.AuthorizeSSHSign: failed to validate oidc token payload: email not found");
  OidcSshIdentity id;
  id.admin = IsAdmin(*oc);
  id.email = oc->email;
  auto principals = OidcSshPrincipals(oc->email);
  if (!principals.ok()) return principals.status().Wrap("oidc.AuthorizeSSHSign");
  id.principals = std::move(principals).value();
  return id;
}

Result<OidcClaims> OidcProvisioner::Authorize(const Jws& jws, const TokenClaims& claims,
                                              TimePoint now, const char* ctx) const {
  const std::string where = std::string("oidc.") + ctx;
  const json_t* kid_j = json_object_get(jws.header.get(), "kid");
  const std::string kid = json_is_string(kid_j) ? json_string_value(kid_j) : "";
  // The signature first; an unknown kid schedules a refresh of the keys.
  if (!VerifiedByOneOf(jws, keys_->Find(kid)))
    return Unauthenticated(where + "; cannot validate oidc token");
  const std::string issuer = keys_->issuer();
  const std::string fail = where + ": validatePayload: failed to validate oidc token payload: ";
  if (claims.issuer != issuer) return Unauthenticated(fail + "invalid issuer " + Quote(claims.issuer));
  if (!Contains(claims.audience, settings_.client_id)) return Unauthenticated(fail + "invalid audience");
  Status t = CheckIdentityTimeClaims(claims, now);
  if (!t.ok()) return Unauthenticated(fail + t.message());
  auto oc = ReadOidcClaims(jws.payload.get());
  if (!oc.ok()) return Unauthenticated(fail + oc.status().message());
  if (!oc->authorized_party.empty() && oc->authorized_party != settings_.client_id)
    return Unauthenticated(fail + "invalid azp");
  if (claims.subject.empty()) return Unauthenticated(fail + "token subject is empty");
  const bool admin = IsAdmin(*oc);
  if (!oc->email.empty() && !settings_.domains.empty() && !admin) {
    const std::string email = SanitizeEmail(oc->email);
    bool found = false;
    for (const auto& d : settings_.domains)
      if (EndsWith(email, "@" + Lower(d))) found = true;
    if (!found) return Unauthenticated(fail + "email is not allowed");
  }
  if (!settings_.groups.empty()) {
    bool found = false;
    for (const auto& g : settings_.groups)
      if (Contains(oc->groups, g)) found = true;
    if (!found) return Unauthenticated(where + ": validatePayload: oidc token payload validation failed: invalid group");
  }
  return oc;
}

SignGrant OidcProvisioner::BaseGrant(const Jws& jws, const TokenClaims& claims,
                                     const OidcClaims& oc) const {
  SignGrant g;
  g.subject = claims.subject;
  g.info.type = ProvisionerType::kOidc;
  g.info.name = name();
  g.info.credential_id = settings_.client_id;
  g.provisioner_id = id();
  // step-ca's GetTokenID: the nonce; a token without one is its own key.
  g.token_key = IdentityTokenUseKey(id(), !oc.nonce.empty() ? "nonce:" + oc.nonce
                                                              : "token:" + CanonicalTokenId(jws));
  g.token_expiry = TimePoint(std::chrono::seconds(*claims.expiry));
  return g;
}

Result<SignGrant> OidcProvisioner::AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                                 const Audiences&, TimePoint now) const {
  STEPCA_ASSIGN_OR_RETURN(OidcClaims oc, Authorize(jws, claims, now, "AuthorizeToken"));
  SignGrant g = BaseGrant(jws, claims, oc);
  if (IsAdmin(oc) && !settings_.admins.empty()) {
    // step-ca's admin template: the CSR's subject and SANs.
    g.csr_names = CsrNames::kGranted;
    return g;
  }
  g.csr_names = CsrNames::kReplaced;
  if (!oc.email.empty()) g.sans.push_back(oc.email);
  if (HasScheme(claims.issuer) && claims.issuer.find('#') == std::string::npos)
    g.sans.push_back(claims.issuer + "#" + EscapeFragment(claims.subject));
  return g;
}

Result<SignGrant> OidcProvisioner::AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                                   const Audiences&, TimePoint now) const {
  STEPCA_ASSIGN_OR_RETURN(OidcClaims oc, Authorize(jws, claims, now, "AuthorizeRevoke"));
  if (!IsAdmin(oc))
    return Unauthenticated("oidc.AuthorizeRevoke; cannot revoke with non-admin oidc token");
  return BaseGrant(jws, claims, oc);
}

Result<std::unique_ptr<Provisioner>> ParseOidcProvisioner(
    const json_t* obj, const std::string& field, const std::string& name, const Claims& claims,
    JsonPtr json, std::vector<std::string>* warnings, const HttpGetter& get) {
  OidcSettings s;
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "clientID", true, &s.client_id));
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "clientSecret", false, &s.client_secret));
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "configurationEndpoint", true,
                                           &s.configuration_endpoint));
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "tenantID", false, &s.tenant_id));
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "listenAddress", false, &s.listen_address));
  STEPCA_RETURN_IF_ERROR(ReadStringListSetting(obj, field, "admins", &s.admins));
  STEPCA_RETURN_IF_ERROR(ReadStringListSetting(obj, field, "domains", &s.domains));
  STEPCA_RETURN_IF_ERROR(ReadStringListSetting(obj, field, "groups", &s.groups));
  if (!s.listen_address.empty() && !IsHostPort(s.listen_address))
    return InvalidArgument("field " + Quote(field + ".listenAddress") +
                           ": error parsing listenAddress: not host:port");
  const std::string& ep = s.configuration_endpoint;
  if (ep.rfind("https://", 0) != 0 && ep.rfind("http://", 0) != 0)
    return InvalidArgument("field " + Quote(field + ".configurationEndpoint") +
                           ": error parsing " + ep + ": not an http(s) URL");
  RemoteKeySet::Source src;
  src.discovery_url = DiscoveryUrl(ep);
  src.tenant_id = s.tenant_id;
  auto keys = std::make_shared<RemoteKeySet>(std::move(src), get);
  Status loaded = keys->Load();
  if (!loaded.ok())
    warnings->push_back("OIDC provisioner " + Quote(name) + " (" + field +
                        "): cannot load its keys yet (" + loaded.message() +
                        "); its tokens are refused until a refresh succeeds");
  return std::unique_ptr<Provisioner>(
      new OidcProvisioner(name, claims, std::move(json), std::move(s), std::move(keys)));
}

}  // namespace stepca
