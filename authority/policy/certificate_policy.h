// The policy part (Boulder's registration authority): who may have which
// certificate, for how long. It decides and records; the certificate
// authority service signs. Everything it uses comes in through the
// constructor, so a unit test builds it from an in-memory store, a local CA
// over a generated key and a fake time source, without a file.
#ifndef STEPCA_AUTHORITY_POLICY_CERTIFICATE_POLICY_H
#define STEPCA_AUTHORITY_POLICY_CERTIFICATE_POLICY_H

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "authority/ca/certificate_authority.h"
#include "authority/clock/time_source.h"
#include "authority/policy/client_certificate.h"
#include "authority/policy/name_policies.h"
#include "authority/x509/template_profile.h"
#include "authority/policy/requests.h"
#include "authority/provisioner/provisioner_collection.h"
#include "authority/provisioner/token_claims.h"
#include "authority/state/certificate_records.h"
#include "authority/status.h"
#include "authority/store/store.h"
#include "authority/x509/claims.h"
#include "authority/x509/csr.h"

namespace stepca {

// What ca.json says about policy, apart from the provisioners.
struct PolicySettings {
  Claims global_claims;                 // for certificates without a provisioner
  Duration backdate{};
  bool disable_issued_at_check = false;
  std::vector<std::string> dns_names;   // the token audiences' hosts
  TrustAnchors anchors;                 // for client certificates; not owned
  tmpl::X509Name default_subject;       // authority.template: fills what a leaf's subject lacks
  std::shared_ptr<const NamePolicies> name_policies;  // nullptr: none
  DefaultLeafRevocation leaf_revocation;  // CRL DP and OCSP URL of the default leaf profile
};

// ACME finalize: a CSR whose names the caller has already matched to the
// order's identifiers.
struct CsrIssueRequest {
  const Provisioner* provisioner = nullptr;
  const Csr* csr = nullptr;
  std::string common_name;
  SanSet sans;
  TimeDuration not_before;
  TimeDuration not_after;
};

class CertificatePolicy {
 public:
  // provisioners, store, ca and time outlive the policy.
  CertificatePolicy(PolicySettings settings, const ProvisionerCollection& provisioners,
                    Store& store, const CertificateAuthorityService& ca, const TimeSource& time);

  // Thread-safe. The forms without now read the time source; with now, the
  // caller's instant (tests of fixed moments).
  Result<SignResult> Sign(const SignRequest& request) { return Sign(request, time_.Now()); }
  Result<SignResult> Sign(const SignRequest& request, TimePoint now);
  Result<SignResult> Renew(const RenewRequest& request) { return Renew(request, time_.Now()); }
  Result<SignResult> Renew(const RenewRequest& request, TimePoint now);
  // The decimal serial revoked.
  Result<std::string> Revoke(const RevokeRequest& request) { return Revoke(request, time_.Now()); }
  Result<std::string> Revoke(const RevokeRequest& request, TimePoint now);
  // The same claims, validity and recording as Sign, without a token.
  Result<IssuedCertificate> IssueFromCsr(const CsrIssueRequest& request, TimePoint now);

  // authority.policy and the provisioners' (ACME new-order asks them).
  const NamePolicies& name_policies() const;

 private:
  // Which provisioner a certificate belongs to, as step-ca finds it.
  struct CertProvisioner {
    const Provisioner* provisioner = nullptr;  // nullptr: step-ca's "noop"
    std::string id, name, type;
  };

  Status CheckIssuedAt(const TokenClaims& claims);
  Result<CertProvisioner> ProvisionerOf(X509* cert, const std::string& serial);
  Status CheckNotRevoked(const std::string& serial);
  // Record before sign (docs/ARCHITECTURE.md): reserves a fresh serial with
  // the intent, signs with that serial, completes the record. A certificate
  // whose record cannot be completed is not returned.
  using SignWithSerial = std::function<Result<IssuedCertificate>(const std::string& serial)>;
  // fixed_serial: the one a certificate template set (reserved once; a
  // serial already recorded is refused), else a fresh one is drawn.
  // spend: a one-time token's entry written with the reservation
  // (CertificateRecords::Issue: kAlreadyExists is a replay, *spent says
  // whether the token is spent when an error comes back).
  Result<IssuedCertificate> SignRecorded(CertificateRecord intent, TimePoint now,
                                         const SignWithSerial& sign,
                                         const std::string& fixed_serial = "",
                                         const StoreEntry* spend = nullptr,
                                         bool* spent = nullptr);
  // SignRecorded for a CA service that chooses the serial (ChoosesSerial).
  Result<IssuedCertificate> SignThenRecord(CertificateRecord intent, TimePoint now,
                                           const SignWithSerial& sign);

  const PolicySettings settings_;
  const ProvisionerCollection& provisioners_;
  Store& store_;
  const CertificateAuthorityService& ca_;
  const TimeSource& time_;
  const Audiences audiences_;
  const TimePoint started_at_;
  // Seconds since the epoch at which the store's record of spent tokens is
  // complete, for the store identity it was read for; -1 until read.
  std::mutex epoch_mu_;
  int64_t store_epoch_ = -1;
  std::string store_identity_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_POLICY_CERTIFICATE_POLICY_H
