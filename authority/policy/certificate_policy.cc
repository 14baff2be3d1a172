// Sign and ACME's issue-from-CSR. Renew: renew_policy.cc; revoke:
// revoke_policy.cc.
#include "authority/policy/certificate_policy.h"

#include <openssl/sha.h>

#include <algorithm>

#include "authority/policy/token_authorization.h"
#include "authority/provisioner/x5c_provisioner.h"
#include "authority/state/spent_tokens.h"
#include "authority/state/store_epoch.h"
#include "authority/x509/chain.h"
#include "authority/x509/validity.h"
#include "shared/base64.h"

namespace stepca {
namespace {

// The names a certificate is requested for, for its record: CN, then SANs.
std::vector<std::string> RequestedNames(const std::string& common_name, const SanSet& sans) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& name) {
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  add(common_name);
  for (const auto* list : {&sans.dns, &sans.emails, &sans.ips, &sans.uris})
    for (const auto& name : *list) add(name);
  return out;
}

int64_t Seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

CertificatePolicy::CertificatePolicy(PolicySettings settings,
                                     const ProvisionerCollection& provisioners, Store& store,
                                     const CertificateAuthorityService& ca,
                                     const TimeSource& time)
    : settings_(std::move(settings)),
      provisioners_(provisioners),
      store_(store),
      ca_(ca),
      time_(time),
      audiences_(settings_.dns_names),
      started_at_(time.Now()) {}

// step-ca refuses tokens issued before the CA process started, because its
// record of spent tokens did not survive a restart. Ours survives restarts
// and is shared by the fleet, so the moment that matters is when this store
// began recording spent tokens: a token older than that could have been
// spent in a store that is gone. The first node to reach a store writes its
// start time; every node and worker reads the same value.
Status CertificatePolicy::CheckIssuedAt(const TokenClaims& claims) {
  if (settings_.disable_issued_at_check || !claims.issued_at) return Status::Ok();
  int64_t epoch = store_epoch_.load(std::memory_order_relaxed);
  if (epoch < 0) {
    STEPCA_ASSIGN_OR_RETURN(epoch, StoreEpoch(store_).ReadOrClaim(Seconds(started_at_)));
    store_epoch_.store(epoch, std::memory_order_relaxed);
  }
  if (*claims.issued_at < epoch)
    return Unauthenticated("authority.authorizeToken: token issued before the bootstrap of certificate authority");
  return Status::Ok();
}

Result<SignResult> CertificatePolicy::Sign(const SignRequest& req, TimePoint now) {
  if (req.csr_pem.empty()) return InvalidArgument("missing csr");
  auto csr = ParseCsrPem(req.csr_pem);
  if (!csr.ok()) return InvalidArgument("invalid csr").WithDetail(csr.status().message());
  if (req.ott.empty()) return InvalidArgument("missing ott");

  // Token: structure, provisioner by audience and kid, then that
  // provisioner's own checks (signature first).
  STEPCA_ASSIGN_OR_RETURN(AuthorizedToken token,
                          AuthorizeToken(TokenMethod::kSign, req.ott, provisioners_, audiences_, now));
  const Provisioner* prov = token.provisioner;
  const SignGrant& grant = token.grant;
  STEPCA_RETURN_IF_ERROR(CheckIssuedAt(token.claims));

  // The request: key, names, lifetime. A client mistake here does not spend
  // the token.
  EVP_PKEY* key = X509_REQ_get0_pubkey(csr->req.get());
  STEPCA_RETURN_IF_ERROR(CheckPublicKey(key));
  if (!grant.cnf_x5rt.empty()) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(csr->der.data()), csr->der.size(), md);
    if (Base64UrlEncode(std::string(reinterpret_cast<char*>(md), sizeof md)) != grant.cnf_x5rt)
      return PermissionDenied("certificate request fingerprint does not match the token (cnf)");
  }
  STEPCA_RETURN_IF_ERROR(CheckCsrAgainstToken(csr.value(), grant.subject, grant.sans));
  STEPCA_ASSIGN_OR_RETURN(Validity validity,
                          ComputeValidity(now, req.not_before, req.not_after, prov->claims(),
                                          settings_.backdate, ca_.IssuerNotAfter()));
  STEPCA_RETURN_IF_ERROR(LimitValidityToWindow(grant, req.not_before.set(),
                                               req.not_after.set(), &validity));

  // Name policies judge the names the certificate will carry. A refusal
  // leaves the token unspent, like the other request checks above.
  const SanSet leaf_sans = ClassifySans(grant.sans);
  STEPCA_RETURN_IF_ERROR(name_policies().CheckX509(prov, grant.subject, leaf_sans));

  // Spend the token before anything is signed: one winner in the fleet.
  Status spent = SpentTokens(store_).Spend(grant.token_key, grant.provisioner_id, grant.token_expiry, now);
  if (spent.code() == Code::kAlreadyExists)
    return Unauthenticated("authority.authorizeToken: token already used");
  STEPCA_RETURN_IF_ERROR(spent);

  CertificateRequest cr;
  cr.csr = &csr.value();
  cr.leaf.public_key = key;
  cr.leaf.spki = X509_REQ_get_X509_PUBKEY(csr->req.get());
  cr.leaf.common_name = grant.subject;
  cr.leaf.sans = leaf_sans;
  cr.leaf.validity = validity;
  cr.leaf.add_provisioner_extension = !prov->claims().disable_smallstep_extensions;
  cr.leaf.provisioner = grant.info;
  CertificateRecord intent;
  intent.provisioner = CertificateProvisioner{grant.provisioner_id, prov->name(), prov->type_name()};
  intent.names = RequestedNames(cr.leaf.common_name, cr.leaf.sans);
  intent.not_after = validity.not_after;
  auto issued = SignRecorded(std::move(intent), now, [&](const std::string& serial) {
    cr.leaf.serial = serial;
    return ca_.Issue(cr);
  });
  if (!issued.ok()) return issued.status();

  SignResult result{std::move(issued).value(), prov->name()};
  return result;
}

Result<IssuedCertificate> CertificatePolicy::IssueFromCsr(const CsrIssueRequest& req,
                                                          TimePoint now) {
  const Provisioner* prov = req.provisioner;
  if (prov == nullptr || req.csr == nullptr) return Internal("IssueFromCsr: missing provisioner or csr");
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.csr->req.get());
  STEPCA_RETURN_IF_ERROR(CheckPublicKey(key));
  STEPCA_RETURN_IF_ERROR(name_policies().CheckX509(prov, req.common_name, req.sans));
  STEPCA_ASSIGN_OR_RETURN(Validity validity,
                          ComputeValidity(now, req.not_before, req.not_after, prov->claims(),
                                          settings_.backdate, ca_.IssuerNotAfter()));
  CertificateRequest cr;
  cr.csr = req.csr;
  cr.leaf.public_key = key;
  cr.leaf.spki = X509_REQ_get_X509_PUBKEY(req.csr->req.get());
  cr.leaf.common_name = req.common_name;
  cr.leaf.sans = req.sans;
  cr.leaf.validity = validity;
  cr.leaf.add_provisioner_extension = !prov->claims().disable_smallstep_extensions;
  cr.leaf.provisioner.type = prov->type();
  cr.leaf.provisioner.name = prov->name();
  CertificateRecord intent;
  intent.provisioner = CertificateProvisioner{prov->id(), prov->name(), prov->type_name()};
  intent.names = RequestedNames(cr.leaf.common_name, cr.leaf.sans);
  intent.not_after = validity.not_after;
  return SignRecorded(std::move(intent), now, [&](const std::string& serial) {
    cr.leaf.serial = serial;
    return ca_.Issue(cr);
  });
}

const NamePolicies& CertificatePolicy::name_policies() const {
  static const NamePolicies kNone;
  return settings_.name_policies ? *settings_.name_policies : kNone;
}

Result<IssuedCertificate> CertificatePolicy::SignRecorded(CertificateRecord intent, TimePoint now,
                                                          const SignWithSerial& sign) {
  std::optional<IssuedCertificate> issued;
  Status st = CertificateRecords(store_).Issue(
      std::move(intent), now, NewSerial,
      [&](const std::string& serial) -> Result<SignedForRecord> {
        auto made = sign(serial);
        if (!made.ok()) return made.status().Wrap("error signing certificate");
        if (made->serial != serial)
          return Internal("error signing certificate: the issuer ignored the reserved serial");
        SignedForRecord out{made->der, CertNotAfter(made->cert.get())};
        issued = std::move(made).value();
        return out;
      });
  // Whatever was signed stays here unless its record is complete.
  if (!st.ok()) return st;
  return std::move(*issued);
}

}  // namespace stepca
