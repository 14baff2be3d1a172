// How the vaultcas backend gets and keeps a Vault token: AppRole (role ID
// and secret ID, the secret ID possibly response-wrapped and unwrapped once
// through sys/wrapping/unwrap) or Kubernetes (a role and the service
// account token, re-read at every login). The token is reused until two
// thirds of its lease have passed, then renewed (auth/token/renew-self)
// when Vault says it is renewable, else replaced by a new login.
#ifndef STEPCA_AUTHORITY_RA_VAULT_AUTH_H
#define STEPCA_AUTHORITY_RA_VAULT_AUTH_H

#include <memory>
#include <mutex>
#include <string>

#include "authority/config/ra_config.h"
#include "authority/ra/vault_api.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

class VaultAuth {
 public:
  // Configuration time: unwraps a wrapped secret ID and logs in, so that a
  // wrong role or secret ID fails the load with the field named.
  static Result<std::unique_ptr<VaultAuth>> Make(const VaultCasConfig& config, const VaultApi& api);
  ~VaultAuth();

  // A token to call Vault with now; renewed or replaced first when due.
  Result<std::string> Token(const VaultApi& api) const;
  // Vault refused `stale` (revoked, expired early): the next Token() logs
  // in again.
  void Forget(const std::string& stale) const;

 private:
  explicit VaultAuth(const VaultCasConfig& config) : config_(config) {}
  Status Login(const VaultApi& api) const;       // mu_ held
  Status Relogin(const VaultApi& api) const;     // mu_ held
  Status RenewSelf(const VaultApi& api) const;   // mu_ held
  Status Take(const VaultResponse& r) const;     // mu_ held

  VaultCasConfig config_;  // the secret ID here is the unwrapped one
  mutable std::mutex mu_;
  mutable std::string token_;
  mutable bool renewable_ = false;
  mutable TimePoint obtained_{};
  mutable std::chrono::seconds lease_{0};  // 0: the token does not expire
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_VAULT_AUTH_H
