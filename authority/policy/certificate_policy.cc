// Sign and ACME's issue-from-CSR. Renew: renew_policy.cc; revoke:
// revoke_policy.cc.
#include "authority/policy/certificate_policy.h"

#include <openssl/sha.h>

#include <algorithm>

#include "authority/policy/token_authorization.h"
#include "authority/provisioner/x5c_provisioner.h"
#include "authority/state/instance_records.h"
#include "authority/state/spent_tokens.h"
#include "authority/state/store_epoch.h"
#include "authority/x509/chain.h"
#include "authority/x509/template_profile.h"
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
// start time; every node and worker reads the same value. A store that
// may have lost writes (a new server identity) moves it forward
// (state/store_epoch.h); a process that has read an epoch before and finds
// none claims the second after now, not its start.
Status CertificatePolicy::CheckIssuedAt(const TokenClaims& claims) {
  if (settings_.disable_issued_at_check || !claims.issued_at) return Status::Ok();
  // Every caller checks this before it spends the token.
  auto identity = store_.ServerIdentity();
  if (!identity.ok()) return BeforeSpend(identity.status());
  int64_t epoch;
  {
    std::lock_guard<std::mutex> lock(epoch_mu_);
    if (store_epoch_ < 0 || *identity != store_identity_) {
      const int64_t now = Seconds(time_.Now());
      const int64_t candidate = store_epoch_ < 0 ? Seconds(started_at_) : now + 1;
      auto current = StoreEpoch(store_).Current(*identity, candidate, now);
      if (!current.ok()) return BeforeSpend(current.status());
      store_epoch_ = *current;
      store_identity_ = *identity;
    }
    epoch = store_epoch_;
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
  SignGrant& grant = token.grant;
  STEPCA_RETURN_IF_ERROR(CheckIssuedAt(token.claims));
  if (grant.csr_names == CsrNames::kGrantedSameSubject && !csr->common_name.empty() &&
      csr->common_name != grant.subject)
    return PermissionDenied("certificate request does not contain the valid common name - got " +
                            csr->common_name + ", want " + grant.subject);
  if (grant.csr_names == CsrNames::kGranted || grant.csr_names == CsrNames::kGrantedSameSubject) {
    if (grant.csr_names == CsrNames::kGranted || !csr->common_name.empty())
      grant.subject = csr->common_name;
    grant.sans.clear();
    for (const auto* list : {&csr->sans.dns, &csr->sans.ips, &csr->sans.emails, &csr->sans.uris})
      grant.sans.insert(grant.sans.end(), list->begin(), list->end());
  }

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
  if (grant.csr_names == CsrNames::kMustMatch)
    STEPCA_RETURN_IF_ERROR(CheckCsrAgainstToken(csr.value(), grant.subject, grant.sans));
  STEPCA_ASSIGN_OR_RETURN(Validity validity,
                          ComputeValidity(now, req.not_before, req.not_after, prov->claims(),
                                          settings_.backdate, ca_.IssuerNotAfter()));
  STEPCA_RETURN_IF_ERROR(LimitValidityToWindow(grant, req.not_before.set(),
                                               req.not_after.set(), &validity));
  // The provisioner's certificate template decides what the leaf says.
  JsonPtr user_data;
  if (!req.template_data.empty()) {
    user_data.reset(json_loadb(req.template_data.data(), req.template_data.size(), 0, nullptr));
    if (!json_is_object(user_data.get())) user_data.reset(json_object());  // step-ca: {}
  }
  tmpl::X509TemplateInput tin;
  tin.common_name = grant.subject;
  tin.sans = grant.sans;
  tin.token = token.jws.payload.get();
  tin.csr = csr->req.get();
  tin.csr_sans = &csr->sans;
  tin.user_data = user_data.get();
  tin.authorization_crt = grant.authorization_crt.get();
  STEPCA_ASSIGN_OR_RETURN(std::shared_ptr<const tmpl::X509CertificateTemplate> profile,
                          LeafProfile(prov->x509_template(), tin, settings_.default_subject,
                                      settings_.leaf_revocation));

  // Name policies judge the names the certificate will carry. A refusal
  // leaves the token unspent, like the other request checks above.
  const SanSet leaf_sans = ClassifySans(grant.sans);
  STEPCA_RETURN_IF_ERROR(name_policies().CheckX509(prov, grant.subject, leaf_sans));

  // Spend the token before anything is signed: one winner in the fleet.
  // K8sSA tokens are not one-time (step-ca's GetTokenID refuses): no key.
  // Where this CA draws the serial and no instance is claimed, the spend
  // is written in the same atomic step as the certificate's reservation
  // (one store write fewer per certificate); otherwise on its own, first.
  const bool spend_with_reservation =
      !grant.token_key.empty() && grant.instance_key.empty() && !ca_.ChoosesSerial();
  Status spent = grant.token_key.empty() || spend_with_reservation
                     ? Status::Ok()
                     : SpentTokens(store_).Spend(grant.token_key, grant.provisioner_id, grant.token_expiry, now);
  if (spent.code() == Code::kAlreadyExists)
    return Unauthenticated("authority.authorizeToken: token already used");
  STEPCA_RETURN_IF_ERROR(spent);
  // Trust on first use: the instance's first certificate claims it.
  if (!grant.instance_key.empty()) {
    Status claimed = InstanceRecords(store_).Claim(grant.instance_key, grant.provisioner_id, now);
    if (claimed.code() == Code::kAlreadyExists)
      return Unauthenticated("authority.authorizeToken: token already used (instance already provisioned)");
    STEPCA_RETURN_IF_ERROR(grant.token_key.empty() ? claimed : AfterSpend(claimed));
  }

  CertificateRequest cr;
  cr.csr = &csr.value();
  cr.leaf.public_key = key;
  cr.leaf.spki = X509_REQ_get_X509_PUBKEY(csr->req.get());
  cr.leaf.common_name = grant.subject;
  cr.leaf.sans = leaf_sans;
  cr.leaf.validity = validity;
  cr.leaf.add_provisioner_extension = !prov->claims().disable_smallstep_extensions;
  cr.leaf.provisioner = grant.info;
  cr.leaf.profile = profile;
  CertificateRecord intent;
  intent.provisioner = CertificateProvisioner{grant.provisioner_id, prov->name(), prov->type_name()};
  intent.names = RequestedNames(profile->subject.common_name, TemplateNames(*profile));
  intent.not_after = validity.not_after;
  std::optional<StoreEntry> spend;
  if (spend_with_reservation)
    spend = SpentTokens::Entry(grant.token_key, grant.provisioner_id, grant.token_expiry, now);
  bool spent_now = false;
  auto issued = SignRecorded(std::move(intent), now, [&](const std::string& serial) {
    cr.leaf.serial = serial;
    return ca_.Issue(cr);
  }, profile->serial_number, spend ? &*spend : nullptr, &spent_now);
  if (!issued.ok() && spend && !spent_now) {
    const Status& st = issued.status();
    if (st.code() == Code::kAlreadyExists)
      return Unauthenticated("authority.authorizeToken: token already used");
    if (st.code() == Code::kUnavailable && st.maybe_applied())
      return MaybeSpent(st);
    return BeforeSpend(st);
  }
  if (!issued.ok()) return AfterSpend(issued.status());

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
  // step-ca's ACME data: the CSR's common name and the order's names.
  tmpl::X509TemplateInput tin;
  tin.common_name = req.common_name;
  for (const auto* list : {&req.sans.dns, &req.sans.ips, &req.sans.emails, &req.sans.uris})
    tin.sans.insert(tin.sans.end(), list->begin(), list->end());
  tin.csr = req.csr->req.get();
  tin.csr_sans = &req.csr->sans;
  STEPCA_ASSIGN_OR_RETURN(cr.leaf.profile,
                          LeafProfile(prov->x509_template(), tin, settings_.default_subject,
                                      settings_.leaf_revocation));
  CertificateRecord intent;
  intent.provisioner = CertificateProvisioner{prov->id(), prov->name(), prov->type_name()};
  intent.names = RequestedNames(cr.leaf.profile->subject.common_name, TemplateNames(*cr.leaf.profile));
  intent.not_after = validity.not_after;
  return SignRecorded(std::move(intent), now, [&](const std::string& serial) {
    cr.leaf.serial = serial;
    return ca_.Issue(cr);
  }, cr.leaf.profile->serial_number);
}

const NamePolicies& CertificatePolicy::name_policies() const {
  static const NamePolicies kNone;
  return settings_.name_policies ? *settings_.name_policies : kNone;
}

Result<IssuedCertificate> CertificatePolicy::SignRecorded(CertificateRecord intent, TimePoint now,
                                                          const SignWithSerial& sign,
                                                          const std::string& fixed_serial,
                                                          const StoreEntry* spend, bool* spent) {
  if (spent != nullptr) *spent = false;
  if (ca_.ChoosesSerial()) {
    if (spend != nullptr) return Internal("a spend cannot go with an upstream's serial");
    return SignThenRecord(std::move(intent), now, sign);
  }
  std::optional<IssuedCertificate> issued;
  bool drawn = false;
  auto serials = [&]() -> Result<std::string> {
    if (fixed_serial.empty()) return NewSerial();
    if (drawn) return InvalidArgument("serial number " + fixed_serial + " is already used");
    drawn = true;
    return fixed_serial;
  };
  Status st = CertificateRecords(store_).Issue(
      std::move(intent), now, serials,
      [&](const std::string& serial) -> Result<SignedForRecord> {
        auto made = sign(serial);
        if (!made.ok()) return made.status().Wrap("error signing certificate");
        if (made->serial != serial)
          return Internal("error signing certificate: the issuer ignored the reserved serial");
        SignedForRecord out{made->der, CertNotAfter(made->cert.get())};
        issued = std::move(made).value();
        return out;
      },
      spend, spent);
  // Whatever was signed stays here unless its record is complete.
  if (!st.ok()) return st;
  return std::move(*issued);
}

// An upstream CA draws the serial, so no reservation can precede the
// signature: the upstream holds its own record of what it signed, and ours
// is written once, issued, under the serial the certificate carries. A
// certificate whose record cannot be written is not handed out.
Result<IssuedCertificate> CertificatePolicy::SignThenRecord(CertificateRecord intent, TimePoint now,
                                                            const SignWithSerial& sign) {
  auto made = sign("");
  if (!made.ok()) return made.status().Wrap("error signing certificate");
  if (made->serial.empty()) return Internal("error signing certificate: no serial in the answer");
  CertificateRecords records(store_);
  intent.serial = made->serial;
  intent.reserved_at = now;
  auto reserved = records.Reserve(std::move(intent));
  if (!reserved.ok() && reserved.status().code() == Code::kAlreadyExists)
    return Internal("the upstream CA issued serial " + made->serial + " twice");
  if (!reserved.ok())
    return reserved.status().WithDetail("serial " + made->serial + " was signed and not handed out");
  Status st = records.Complete(reserved.value(), made->der, CertNotAfter(made->cert.get()), now);
  if (!st.ok())
    return st.WithDetail("serial " + made->serial + " was signed and not handed out");
  return std::move(made).value();
}

}  // namespace stepca
