// Renew and rekey (step-ca's /renew, /rekey): the client proves the
// certificate (client_certificate.h), its provisioner decides, the
// certificate authority service re-issues it.
#include "authority/policy/certificate_policy.h"

#include "authority/provisioner/provisioner_base.h"
#include "authority/x509/chain.h"
#include "shared/base64.h"

namespace stepca {
namespace {

constexpr char kRenewIssuer[] = "step-ca-client/1.0";

std::string JsonCompact(const json_t* v) {
  char* s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
  std::string out = s != nullptr ? s : "null";
  std::free(s);
  return out;
}

std::chrono::seconds SpendTtl(TimePoint expiry, TimePoint now) {
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(expiry - now) + kTokenLeeway +
             std::chrono::seconds(60);
  return ttl < std::chrono::seconds(60) ? std::chrono::seconds(60) : ttl;
}

}  // namespace

Result<CertificatePolicy::CertProvisioner> CertificatePolicy::ProvisionerOf(X509* cert, const std::string& serial) {
  CertProvisioner out;
  STEPCA_ASSIGN_OR_RETURN(auto rec, store_.Get("x509_certs/" + serial));
  if (rec) {
    json_error_t jerr;
    JsonPtr j(json_loadb(rec->data(), rec->size(), 0, &jerr));
    const json_t* p = j ? json_object_get(j.get(), "provisioner") : nullptr;
    const json_t* name = json_object_get(p, "name");
    if (json_is_string(name)) {
      out.provisioner = provisioners_.ByName(json_string_value(name));
      if (out.provisioner == nullptr)
        return Unauthenticated("provisioner \"" + std::string(json_string_value(name)) +
                               "\" of the certificate was not found");
      out.id = out.provisioner->id();
      out.name = out.provisioner->name();
      out.type = out.provisioner->type_name();
      return out;
    }
  }
  bool bad = false;
  auto name = ProvisionerNameFromExtension(cert, &bad);
  if (bad) return Unauthenticated("the provisioner extension of the certificate does not parse");
  if (!name) return out;  // noop: the authority's claims apply
  out.provisioner = provisioners_.ByName(*name);
  if (out.provisioner == nullptr)
    return Unauthenticated("provisioner \"" + *name + "\" of the certificate was not found");
  out.id = out.provisioner->id();
  out.name = out.provisioner->name();
  out.type = out.provisioner->type_name();
  return out;
}

Status CertificatePolicy::CheckNotRevoked(const std::string& serial) {
  STEPCA_ASSIGN_OR_RETURN(auto rec, store_.Get("revoked_x509_certs/" + serial));
  if (rec) return Unauthenticated("authority.authorizeRenew: certificate has been revoked");
  return Status::Ok();
}

Result<SignResult> CertificatePolicy::Renew(const RenewRequest& req, TimePoint now) {
  RenewSubject subject;
  std::string_view bearer = req.rekey ? std::string_view() : BearerToken(req.authorization);
  if (!req.peer_cert_der.empty()) {
    STEPCA_ASSIGN_OR_RETURN(subject.cert, VerifiedPeerCertificate(req.peer_cert_der, settings_.anchors, now));
  } else if (!bearer.empty()) {
    STEPCA_ASSIGN_OR_RETURN(subject, RenewSubjectFromToken(bearer, settings_.anchors));
  } else {
    return InvalidArgument("missing client certificate");
  }
  X509* old = subject.cert.get();

  std::optional<Csr> csr;
  if (req.rekey) {
    if (req.csr_pem.empty()) return InvalidArgument("missing csr");
    auto parsed = ParseCsrPem(req.csr_pem);
    if (!parsed.ok()) return InvalidArgument("invalid csr").WithDetail(parsed.status().message());
    STEPCA_RETURN_IF_ERROR(CheckPublicKey(X509_REQ_get0_pubkey(parsed->req.get())));
    csr = std::move(parsed).value();
  }

  const std::string serial = SerialDecimal(old);
  STEPCA_RETURN_IF_ERROR(CheckNotRevoked(serial));
  STEPCA_ASSIGN_OR_RETURN(CertProvisioner prov, ProvisionerOf(old, serial));

  if (subject.by_token) {
    const TokenClaims& c = subject.claims;
    const std::string ctx = "authority.AuthorizeRenewToken";
    if (c.subject != CommonName(old))
      return Unauthenticated(ctx + ": invalid token: subject does not match the certificate");
    STEPCA_RETURN_IF_ERROR(CheckTimeClaims(c, now).Wrap(ctx));
    if (!audiences_.Matches(TokenMethod::kRenew, c.audience))
      return Unauthenticated(ctx + ": invalid token: invalid audience");
    if (c.issuer != kRenewIssuer && (prov.provisioner == nullptr || c.issuer != prov.name))
      return Unauthenticated(ctx + ": invalid token: invalid issuer");
  }

  // The certificate's provisioner decides (step-ca's DefaultAuthorizeRenew
  // for every type so far); without one, the authority's claims apply.
  STEPCA_RETURN_IF_ERROR(prov.provisioner != nullptr
                             ? prov.provisioner->AuthorizeRenew(old, now)
                             : DefaultAuthorizeRenew(settings_.global_claims, prov.name, old, now));
  const TimePoint not_before = CertNotBefore(old), not_after = CertNotAfter(old);

  // The same lifetime from now: step-ca's formula.
  const Duration backdate = settings_.backdate;
  ReissueRequest rr;
  rr.old = old;
  rr.new_public_key = csr ? X509_REQ_get0_pubkey(csr->req.get()) : nullptr;
  rr.validity.not_before = now - backdate;
  rr.validity.not_after = now + ((not_after - not_before) - backdate);
  if (rr.validity.not_after > ca_.IssuerNotAfter()) rr.validity.not_after = ca_.IssuerNotAfter();
  if (rr.validity.not_after <= rr.validity.not_before)
    return Unauthenticated("authority.Rekey: the certificate's lifetime is too short to renew");

  if (subject.by_token) {
    Status spent = store_.PutIfAbsent("used_ott/" + subject.token_key, serial,
                                      SpendTtl(TimePoint(std::chrono::seconds(*subject.claims.expiry)), now));
    if (spent.code() == Code::kAlreadyExists)
      return Unauthenticated("authority.AuthorizeRenewToken: token already used");
    STEPCA_RETURN_IF_ERROR(spent);
  }

  ReissueCertificateRequest reissue;
  reissue.reissue = rr;
  reissue.csr = csr ? &*csr : nullptr;
  auto issued = ca_.Reissue(reissue);
  if (!issued.ok()) return issued.status().Wrap(req.rekey ? "authority.Rekey" : "authority.Renew");

  JsonPtr record(json_object());
  json_object_set_new(record.get(), "der", json_string(Base64Encode(issued->der).c_str()));
  json_object_set_new(record.get(), "provisioner",
                      prov.provisioner != nullptr
                          ? json_pack("{s:s,s:s,s:s}", "id", prov.id.c_str(), "name",
                                      prov.name.c_str(), "type", prov.type.c_str())
                          : json_null());
  json_object_set_new(record.get(), "issuedAt", json_string(FormatRfc3339(now).c_str()));
  json_object_set_new(record.get(), "notAfter",
                      json_string(FormatRfc3339(rr.validity.not_after).c_str()));
  json_object_set_new(record.get(), req.rekey ? "rekeyedFrom" : "renewedFrom",
                      json_string(serial.c_str()));
  STEPCA_RETURN_IF_ERROR(store_.Put("x509_certs/" + issued->serial, JsonCompact(record.get()),
                                    std::chrono::seconds(0)));
  return SignResult{std::move(issued).value(), prov.name};
}

}  // namespace stepca
