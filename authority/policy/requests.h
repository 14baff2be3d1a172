// What the front ends (authority/api, the ACME service) ask of policy, and
// what it answers.
#ifndef STEPCA_AUTHORITY_POLICY_REQUESTS_H
#define STEPCA_AUTHORITY_POLICY_REQUESTS_H

#include <cstdint>
#include <string>
#include <string_view>

#include "authority/x509/issuer.h"
#include "shared/duration.h"

namespace stepca {

// POST /sign.
struct SignRequest {
  std::string csr_pem;
  std::string ott;
  TimeDuration not_before;
  TimeDuration not_after;
  std::string template_data;  // "templateData", JSON text; empty when absent
};

// POST /renew, /rekey.
struct RenewRequest {
  std::string_view peer_cert_der;  // the client certificate (TLS or a trusted proxy)
  std::string_view authorization;  // "Bearer <x5cInsecure token>" (renew only)
  bool rekey = false;
  std::string csr_pem;             // rekey: the CSR with the new key
};

// POST /revoke.
struct RevokeRequest {
  std::string serial;              // as sent: decimal or 0x-hex
  std::string ott;
  int64_t reason_code = 0;
  std::string reason;
  bool passive = false;
  std::string_view peer_cert_der;
};

struct SignResult {
  IssuedCertificate leaf;
  std::string provisioner;  // name, for the log
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_POLICY_REQUESTS_H
