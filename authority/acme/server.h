// The RFC 8555 server: one Service per Authority, serving every ACME
// provisioner of ca.json at /acme/<name>/... and /2.0/acme/<name>/...
// All state lives in the Authority's store (authority/state/acme_*.h), so
// any worker of any node can answer any request; only the validation queue
// is per process. The parts: router.h (dispatch), authenticate.h (JWS),
// resources.h (one file per resource), problem.h (errors, at the edge).
//
// URLs are built from, in order: the configured public base URL
// (AcmeOptions::base_url, the stepca_acme_base_url directive), or
// "https://" + the request's Host when its host part is one of ca.json's
// dnsNames (any port), else "https://" + dnsNames[0]. An arbitrary Host is never echoed.
//
// Per provisioner, ca.json may carry an "nginxStepca" object (step-ca
// ignores unknown members):
//   "nginxStepca": {
//     "http01Port": 80, "tlsAlpn01Port": 443,
//     "dnsResolver": "127.0.0.1:53",
//     "eabKeys": {"<key id>": "<base64url HMAC key>"}
//   }
// which overrides the authority-wide defaults (AcmeOptions in
// authority/acme/options.h, the stepca_acme_* directives). eabKeys is
// where the HMAC keys of "requireEAB": true come from (step-ca keeps them in its database and
// manages them through its admin API, which we do not have).
#ifndef STEPCA_AUTHORITY_ACME_SERVER_H
#define STEPCA_AUTHORITY_ACME_SERVER_H

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "authority/acme/problem.h"
#include "authority/acme/validate.h"
#include "authority/api/http.h"
#include "authority/store/store.h"

namespace stepca {

class Authority;
struct AuthorityOptions;
class Provisioner;

namespace acme {

// True for /acme/... and /2.0/acme/...
bool IsAcmePath(std::string_view path);

struct ProvisionerSettings {
  ValidationConfig validation;
  bool require_eab = false;
  bool force_cn = false;  // a CSR without a common name gets its first DNS name
  std::map<std::string, std::string> eab_keys;  // kid -> raw HMAC key
  std::vector<std::string> challenges;          // allowed types; empty: all
};

class Service {
 public:
  Service(Authority& authority, const AuthorityOptions& options);
  ~Service();

  // Thread-safe; blocking (store, crypto).
  HttpResponse Handle(const HttpRequest& request);

  // Joins the validation threads (worker exit).
  void Stop();

  // Tests: replaces the network checks.
  using Validator = std::function<Problem(const ValidationTask&)>;
  void SetValidatorForTesting(Validator v) { validator_ = std::move(v); }
  // Tests: shortens retries.
  void SetRetryDelayForTesting(std::chrono::milliseconds d) { retry_delay_override_ = d; }

  // Tests: the store the ACME handlers use instead of the Authority's
  // (a failing decorator around it). Not thread-safe with Handle.
  void SetStoreForTesting(Store* store) { store_override_ = store; }

  // For the resource handlers (router.h).
  Authority& authority() { return authority_; }
  Store& store();
  const std::string& base_url() const { return base_url_; }
  const ProvisionerSettings& Settings(const Provisioner& p) const;
  // false when the validation queue is full.
  bool Submit(ValidationTask task);

 private:
  void RunValidation(const ValidationTask& task, const std::atomic<bool>& stop);

  Authority& authority_;
  std::string base_url_;
  std::map<std::string, ProvisionerSettings> settings_;
  ProvisionerSettings defaults_;
  std::unique_ptr<ValidationPool> pool_;
  Validator validator_;
  std::chrono::milliseconds retry_delay_override_{-1};
  Store* store_override_ = nullptr;
};

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_SERVER_H
