#include "authority/admin/admin_authorizer.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "authority/jose/jws.h"
#include "authority/provisioner/provisioner_base.h"
#include "authority/provisioner/token_claims.h"
#include "authority/state/spent_tokens.h"
#include "authority/x509/chain.h"

namespace stepca::admin {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// host[:port] or [v6]:port without the port, lower case.
std::string StripPort(std::string host) {
  if (!host.empty() && host[0] == '[') {
    size_t end = host.find(']');
    return Lower(end == std::string::npos ? host : host.substr(1, end - 1));
  }
  size_t colon = host.find(':');
  if (colon != std::string::npos && host.find(':', colon + 1) == std::string::npos)
    host.resize(colon);
  return Lower(host);
}

// The leaf's names an admin subject is matched against, in step-ca's order.
std::vector<std::string> LeafNames(X509* leaf) {
  std::vector<std::string> out;
  std::string cn = CommonName(leaf);
  out.push_back(cn);
  GENERAL_NAMES* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  std::vector<std::string> emails;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_DNS && n->type != GEN_EMAIL) continue;
    const ASN1_IA5STRING* s = n->type == GEN_DNS ? n->d.dNSName : n->d.rfc822Name;
    std::string v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    (n->type == GEN_DNS ? out : emails).push_back(v);
  }
  GENERAL_NAMES_free(names);
  out.insert(out.end(), emails.begin(), emails.end());
  return out;
}

}  // namespace

AdminAuthorizer::AdminAuthorizer(AuthorizerSettings settings, Store& store,
                                 const ProvisionerCollection& provisioners, AdminService& admins,
                                 const TimeSource& clock)
    : settings_(std::move(settings)), store_(store), provisioners_(provisioners), admins_(admins),
      clock_(clock) {}

bool AdminAuthorizer::AudienceMatches(const std::vector<std::string>& aud,
                                      std::string_view path) const {
  static const std::string kScheme = "https://";
  for (const auto& a : aud) {
    if (a == path) return true;
    if (a.size() <= kScheme.size() || Lower(a.substr(0, kScheme.size())) != kScheme) continue;
    std::string rest = a.substr(kScheme.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos || rest.substr(slash) != path) continue;
    const std::string host = StripPort(rest.substr(0, slash));
    for (const auto& d : settings_.dns_names)
      if (StripPort(d) == host) return true;
  }
  return false;
}

Result<AdminRecord> AdminAuthorizer::Authorize(std::string_view authorization,
                                               std::string_view path) {
  std::string_view token = BearerToken(authorization);
  if (token.empty()) token = authorization;
  if (token.empty()) return Unauthenticated("missing authorization header token");
  auto jws = ParseCompactJws(token);
  if (!jws.ok())
    return Unauthenticated("adminHandler.authorizeToken; error parsing x5c token");
  auto chain = ParseX5cHeader(jws->header.get(), "x5c");
  if (!chain.ok())
    return Unauthenticated("adminHandler.authorizeToken; error verifying x5c certificate chain in token");
  X509* leaf = chain->front().get();
  std::vector<X509Ptr> extra;
  for (size_t i = 1; i < chain->size(); ++i) extra.emplace_back(X509_dup((*chain)[i].get()));
  const TimePoint now = clock_.Now();
  ChainCheck check;
  check.roots = settings_.anchors.roots;
  check.more_roots = settings_.anchors.federated_roots;
  check.intermediates = settings_.anchors.intermediates;
  check.at = now;
  // The keyUsage rule is step-ca's: a leaf that may not sign cannot sign
  // the token (its own message below).
  Status chain_ok = VerifyClientChain(leaf, extra, check);
  if (!chain_ok.ok())
    return Unauthenticated("adminHandler.authorizeToken; error verifying x5c certificate chain in token")
        .WithDetail(chain_ok.LogText());
  if ((X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE) == 0)
    return Unauthenticated("adminHandler.authorizeToken; certificate used to sign x5c token cannot be used for digital signature");
  if (!VerifyJws(*jws, X509_get0_pubkey(leaf)).ok())
    return Unauthenticated("adminHandler.authorizeToken; error parsing x5c claims");
  auto claims = ReadTokenClaims(jws->payload.get());
  if (!claims.ok()) return Unauthenticated("adminHandler.authorizeToken; error parsing x5c claims");

  bool bad = false;
  auto prov_name = ProvisionerNameFromExtension(leaf, &bad);
  const Provisioner* prov = prov_name && !bad ? provisioners_.ByName(*prov_name) : nullptr;
  if (prov == nullptr) return NotFound("unable to load provisioner from certificate");

  Status times = CheckTimeClaims(*claims, now);
  if (!times.ok())
    return Unauthenticated("x5c.authorizeToken; invalid x5c claims").WithDetail(times.LogText());
  if (!AudienceMatches(claims->audience, path))
    return Unauthenticated("x5c.authorizeToken; x5c token has invalid audience claim (aud)");
  if (claims->issuer != kAdminIssuer && claims->issuer != prov->name())
    return Unauthenticated("x5c.authorizeToken; x5c token has invalid issuer claim (iss)");
  if (claims->subject.empty())
    return Unauthenticated("x5c.authorizeToken; x5c token subject cannot be empty");

  STEPCA_ASSIGN_OR_RETURN(AdminRecord adm, admins_.FindAdmin(LeafNames(leaf), prov->name()));

  // Spent last, as the other routes do: a refused token burns nothing.
  auto key = TokenUseKey("admin/" + prov->id(), *claims, "adminHandler.authorizeToken");
  if (!key.ok()) return Unauthenticated("adminHandler.authorizeToken; token has no jti");
  Status spent = SpentTokens(store_).Spend(*key, "admin " + adm.id,
                                           TimePoint(std::chrono::seconds(*claims->expiry)), now);
  if (spent.code() == Code::kAlreadyExists)
    return Unauthenticated("adminHandler.authorizeToken; error with reuse token: token already used");
  if (!spent.ok()) return spent;
  return adm;
}

}  // namespace stepca::admin
