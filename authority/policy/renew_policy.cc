// Renew and rekey (step-ca's /renew, /rekey): the client proves the
// certificate (client_certificate.h), its provisioner decides, the
// certificate authority service re-issues it.
#include "authority/policy/certificate_policy.h"

#include <openssl/x509v3.h>

#include "authority/provisioner/provisioner_base.h"
#include "authority/state/certificate_records.h"
#include "authority/state/revocations.h"
#include "authority/state/spent_tokens.h"
#include "authority/x509/chain.h"
#include "shared/base64.h"

namespace stepca {
namespace {

constexpr char kRenewIssuer[] = "step-ca-client/1.0";

}  // namespace

Result<CertificatePolicy::CertProvisioner> CertificatePolicy::ProvisionerOf(X509* cert, const std::string& serial) {
  CertProvisioner out;
  STEPCA_ASSIGN_OR_RETURN(auto rec, CertificateRecords(store_).Find(serial));
  if (rec && rec->provisioner && !rec->provisioner->name.empty()) {
    const std::string& name = rec->provisioner->name;
    out.provisioner = provisioners_.ByName(name);
    if (out.provisioner == nullptr)
      return Unauthenticated("provisioner \"" + name + "\" of the certificate was not found");
    out.id = out.provisioner->id();
    out.name = out.provisioner->name();
    out.type = out.provisioner->type_name();
    return out;
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
  STEPCA_ASSIGN_OR_RETURN(bool revoked, Revocations(store_).IsRevoked(serial));
  if (revoked) return Unauthenticated("authority.authorizeRenew: certificate has been revoked");
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
  // The renewed certificate carries the old one's names: today's policies
  // must still allow them (step-ca checks only its name constraints here,
  // so a name a tightened policy refuses would live on by renewal).
  STEPCA_RETURN_IF_ERROR(
      name_policies().CheckX509(prov.provisioner, CommonName(old), CertificateSans(old)));
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
    Status spent = SpentTokens(store_).Spend(
        subject.token_key, serial, TimePoint(std::chrono::seconds(*subject.claims.expiry)), now);
    if (spent.code() == Code::kAlreadyExists)
      return Unauthenticated("authority.AuthorizeRenewToken: token already used");
    STEPCA_RETURN_IF_ERROR(spent);
  }

  ReissueCertificateRequest reissue;
  reissue.reissue = rr;
  reissue.csr = csr ? &*csr : nullptr;
  if (subject.by_token) reissue.renew_token = std::string(bearer);
  CertificateRecord intent;
  if (prov.provisioner != nullptr)
    intent.provisioner = CertificateProvisioner{prov.id, prov.name, prov.type};
  const std::string cn = CommonName(old);
  if (!cn.empty()) intent.names.push_back(cn);
  intent.not_after = rr.validity.not_after;
  (req.rekey ? intent.rekeyed_from : intent.renewed_from) = serial;
  auto issued = SignRecorded(std::move(intent), now, [&](const std::string& new_serial) {
    reissue.reissue.serial = new_serial;
    return ca_.Reissue(reissue);
  });
  if (!issued.ok()) {
    Status st = subject.by_token ? AfterSpend(issued.status()) : issued.status();
    return st.Wrap(req.rekey ? "authority.Rekey" : "authority.Renew");
  }
  return SignResult{std::move(issued).value(), prov.name};
}

}  // namespace stepca
