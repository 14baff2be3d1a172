// The SSH side of the policy part: who may have which SSH certificate, for
// how long, as step-ca 0.19 decides it. JWK one-time tokens carrying
// step's "step.ssh" claims sign; SSHPOP tokens (signed by a certificate's
// own key) renew, rekey and revoke. Tokens are spent through the same
// store as X.509 tokens; every certificate is recorded
// (authority/state/ssh_certificates.h).
#ifndef STEPCA_AUTHORITY_POLICY_SSH_POLICY_H
#define STEPCA_AUTHORITY_POLICY_SSH_POLICY_H

#include <jansson.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "authority/clock/time_source.h"
#include "authority/policy/name_policies.h"
#include "authority/provisioner/provisioner_collection.h"
#include "authority/provisioner/token_claims.h"
#include "authority/signer/signer.h"
#include "authority/ssh/certificate.h"
#include "authority/ssh/template_profile.h"
#include "authority/state/ssh_certificates.h"
#include "authority/status.h"
#include "authority/store/store.h"
#include "shared/duration.h"

namespace stepca {

struct SshPolicySettings {
  Duration backdate{};
  bool disable_issued_at_check = false;
  std::vector<std::string> dns_names;
  std::string add_user_principal = "provisioner";
  std::string add_user_command = "sudo useradd -m <principal>; nc -q0 localhost 22";
  // authority.policy and the provisioners' (their ssh part); nullptr: none.
  std::shared_ptr<const NamePolicies> name_policies;
  // options.ssh by Provisioner::id(); a provisioner not listed renders the
  // default template.
  std::map<std::string, std::shared_ptr<const SshTemplateOptions>> templates;
};

struct SshSignRequest {
  std::string public_key;  // wire blob
  std::string ott;
  std::string cert_type;   // "", "user" or "host"
  std::string key_id;
  std::vector<std::string> principals;
  TimeDuration valid_after, valid_before;
  std::string add_user_public_key;  // wire blob, optional
  std::shared_ptr<json_t> template_data;  // the request's templateData (.Insecure.User), optional
};

struct SshRevokeRequest {
  std::string serial;
  std::string ott;
  int64_t reason_code = 0;
  std::string reason;
  bool passive = false;
};

struct SshSignResult {
  ssh::Certificate cert;
  std::optional<ssh::Certificate> add_user;
  std::string provisioner;
};

class SshPolicy {
 public:
  // Everything outlives the policy; a null signer means that kind of
  // certificate is not issued.
  SshPolicy(SshPolicySettings settings, const ProvisionerCollection& provisioners, Store& store,
            const Signer* user_signer, const Signer* host_signer, const TimeSource& time);

  bool enabled() const { return user_ != nullptr || host_ != nullptr; }
  const Signer* user_signer() const { return user_; }
  const Signer* host_signer() const { return host_; }

  // Thread-safe.
  Result<SshSignResult> Sign(const SshSignRequest& request) { return Sign(request, time_.Now()); }
  Result<SshSignResult> Sign(const SshSignRequest& request, TimePoint now);
  Result<SshSignResult> Renew(std::string_view ott) { return Renew(ott, time_.Now()); }
  Result<SshSignResult> Renew(std::string_view ott, TimePoint now);
  Result<SshSignResult> Rekey(std::string_view ott, std::string_view public_key) {
    return Rekey(ott, public_key, time_.Now());
  }
  Result<SshSignResult> Rekey(std::string_view ott, std::string_view public_key, TimePoint now);
  Status Revoke(const SshRevokeRequest& request) { return Revoke(request, time_.Now()); }
  Status Revoke(const SshRevokeRequest& request, TimePoint now);

  Result<bool> HostExists(std::string_view principal) {
    return SshCertificates(store_).HostExists(principal, time_.Now());
  }
  Result<std::vector<SshHost>> Hosts() { return SshCertificates(store_).Hosts(time_.Now()); }

 private:
  struct PopToken;  // a verified SSHPOP token (ssh_policy.cc)
  Result<PopToken> AuthorizePop(TokenMethod method, std::string_view ott, TimePoint now);
  Status CheckIssuedAt(const TokenClaims& claims);
  Status Spend(const std::string& key, const std::string& by, TimePoint expiry, TimePoint now);
  // Signs with a fresh serial and records the certificate; nothing is
  // handed out unless its record is written.
  // fixed_serial: the one a template set (0: drawn at random).
  Status SignAndRecord(ssh::Certificate* cert, uint64_t fixed_serial, const std::string& provisioner_id,
                       const std::string& provisioner_name, const std::string& provisioner_type,
                       const std::string& renewed_from, const std::string& rekeyed_from,
                       TimePoint now);
  // The certificate's principals against the name policies.
  Status CheckNames(const Provisioner* provisioner, const ssh::Certificate& cert) const;
  Result<ssh::Certificate> Reissue(const PopToken& token, std::string key_blob, bool rekey,
                                   TimePoint now);

  const SshPolicySettings settings_;
  const ProvisionerCollection& provisioners_;
  Store& store_;
  const Signer* user_;
  const Signer* host_;
  const TimeSource& time_;
  const Audiences audiences_;
  const TimePoint started_at_;
  std::atomic<int64_t> store_epoch_{-1};
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_POLICY_SSH_POLICY_H
