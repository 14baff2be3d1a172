// Vault's HTTP API as the vaultcas backend calls it: /v1/ paths under the
// configured address, the namespace header on every call, the token
// header when there is one, and Vault's {"errors":[...]} bodies.
#ifndef STEPCA_AUTHORITY_RA_VAULT_API_H
#define STEPCA_AUTHORITY_RA_VAULT_API_H

#include <jansson.h>

#include <string>

#include "authority/config/ra_config.h"
#include "authority/ossl.h"
#include "authority/ra/upstream_client.h"
#include "authority/status.h"

namespace stepca {

struct VaultResponse {
  long status = 0;
  JsonPtr body;  // nullptr when the body is not JSON (ca/pem, an empty 204)
  std::string text;
};

class VaultApi {
 public:
  // reuse_connection false: configuration time, in the master.
  // observer (may be empty) sees every call, for the metrics.
  VaultApi(const RaConfig& config, bool reuse_connection, UpstreamObserver observer = {});

  const std::string& address() const { return address_; }

  // path: after /v1/ (e.g. "pki/sign/ec-role"). body nullptr: GET.
  // token: X-Vault-Token, or empty. Transport failures are kUnavailable.
  Result<VaultResponse> Call(const std::string& path, const json_t* body,
                             const std::string& token) const;

 private:
  std::string address_;
  std::string namespace_;
  UpstreamClient client_;
};

// The errors of a Vault answer joined ("permission denied"), else an
// excerpt of its body.
std::string VaultErrors(const VaultResponse& r);

// A failed answer as the client should see it: Vault refusing the request
// itself (400) is the client's refusal with Vault's reason; a refusal of
// the RA's token (403), a missing mount or role (404) and Vault failing
// (5xx, 429, sealed) are unavailability, with the detail for the log.
Status FromVault(const VaultResponse& r, const std::string& what, const std::string& address);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_VAULT_API_H
