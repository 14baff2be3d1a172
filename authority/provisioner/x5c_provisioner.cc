#include "authority/provisioner/x5c_provisioner.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "authority/x509/chain.h"
#include "shared/base64.h"

namespace stepca {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

X5cProvisioner::X5cProvisioner(std::string name, Claims claims, JsonPtr json,
                               std::vector<X509Ptr> roots)
    : ProvisionerBase(ProvisionerType::kX5c, "X5C", std::move(name), claims, std::move(json)),
      roots_(std::move(roots)) {}

Result<SignGrant> X5cProvisioner::Authorize(TokenMethod method, const Jws& jws,
                                            const TokenClaims& claims, const Audiences& audiences,
                                            TimePoint now) const {
  auto chain = ParseX5cHeader(jws.header.get(), "x5c");
  if (!chain.ok()) return chain.status().Wrap("x5c.authorizeToken");
  X509* leaf = chain->front().get();
  std::vector<X509Ptr> extra;
  for (size_t i = 1; i < chain->size(); ++i) extra.emplace_back(X509_dup((*chain)[i].get()));
  ChainCheck check;
  check.roots = &roots_;
  check.at = now;
  check.require_digital_signature = true;
  STEPCA_RETURN_IF_ERROR(VerifyClientChain(leaf, extra, check).Wrap("x5c.authorizeToken"));
  STEPCA_RETURN_IF_ERROR(VerifyJws(jws, X509_get0_pubkey(leaf)).Wrap("x5c.authorizeToken"));
  if (claims.issuer != name())
    return Unauthenticated("x5c.authorizeToken: invalid issuer " + Quote(claims.issuer));
  STEPCA_RETURN_IF_ERROR(CheckTimeClaims(claims, now).Wrap("x5c.authorizeToken"));
  if (!audiences.Matches(method, claims.audience, id()))
    return Unauthenticated("x5c.authorizeToken: invalid audience");
  if (claims.subject.empty()) return Unauthenticated("x5c.authorizeToken: token subject is empty");

  SignGrant g;
  g.subject = claims.subject;
  g.sans = claims.sans.empty() ? std::vector<std::string>{claims.subject} : claims.sans;
  g.info.type = ProvisionerType::kX5c;
  g.info.name = name();
  g.provisioner_id = id();
  g.cnf_x5rt = claims.cnf_x5rt;
  STEPCA_ASSIGN_OR_RETURN(g.token_key, TokenUseKey(id(), claims, "x5c.authorizeToken"));
  g.token_expiry = TimePoint(std::chrono::seconds(*claims.expiry));
  g.has_window = true;
  g.window_not_before = CertNotBefore(leaf);
  g.window_not_after = CertNotAfter(leaf);
  X509_up_ref(leaf);
  g.authorization_crt = std::shared_ptr<X509>(leaf, X509_free);
  return g;
}

Result<SignGrant> X5cProvisioner::AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                                const Audiences& audiences, TimePoint now) const {
  return Authorize(TokenMethod::kSign, jws, claims, audiences, now);
}

Result<SignGrant> X5cProvisioner::AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                                  const Audiences& audiences,
                                                  TimePoint now) const {
  return Authorize(TokenMethod::kRevoke, jws, claims, audiences, now);
}

Status LimitValidityToWindow(const SignGrant& grant, bool not_before_requested,
                             bool not_after_requested, Validity* validity) {
  if (!grant.has_window) return Status::Ok();
  if (not_before_requested && validity->not_before < grant.window_not_before)
    return PermissionDenied("requested certificate notBefore (" +
                            FormatRfc3339(validity->not_before) +
                            ") is before the active validity window of the provisioning credential (" +
                            FormatRfc3339(grant.window_not_before) + ")");
  if (validity->not_after > grant.window_not_after) {
    if (not_after_requested)
      return PermissionDenied("requested certificate notAfter (" +
                              FormatRfc3339(validity->not_after) +
                              ") is after the expiration of the provisioning credential (" +
                              FormatRfc3339(grant.window_not_after) + ")");
    validity->not_after = grant.window_not_after;
  }
  if (validity->not_after <= validity->not_before)
    return PermissionDenied("the provisioning credential expires too soon");
  return Status::Ok();
}

Result<std::unique_ptr<Provisioner>> ParseX5cProvisioner(const json_t* obj,
                                                         const std::string& field,
                                                         const std::string& name,
                                                         const Claims& claims, JsonPtr json) {
  const std::string where = "field " + Quote(field + ".roots");
  const json_t* roots_j = json_object_get(obj, "roots");
  if (!json_is_string(roots_j) || json_string_length(roots_j) == 0)
    return InvalidArgument(where + ": missing or not a string");
  auto pem = Base64Decode(std::string_view(json_string_value(roots_j), json_string_length(roots_j)));
  if (!pem) return InvalidArgument(where + ": not base64 (of a PEM bundle)");
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (!bio) return Internal("out of memory");
  std::vector<X509Ptr> roots;
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    roots.push_back(std::move(cert));
  }
  ERR_clear_error();
  if (roots.empty()) return InvalidArgument(where + ": no PEM certificate in it");
  return std::unique_ptr<Provisioner>(
      new X5cProvisioner(name, claims, std::move(json), std::move(roots)));
}

}  // namespace stepca
