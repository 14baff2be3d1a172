// ca.json's revocation settings: step-ca's `crl` block (later step-ca
// versions; 0.19 has none) and this CA's own `nginxStepca.ocsp` extension
// (step-ca has no OCSP responder, so there is no step-ca field to follow).
#ifndef STEPCA_AUTHORITY_CONFIG_REVOCATION_CONFIG_H
#define STEPCA_AUTHORITY_CONFIG_REVOCATION_CONFIG_H

#include <jansson.h>

#include <string>

#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

struct CrlConfig {
  bool enabled = false;
  // Regenerate as soon as a revocation is recorded (within check_interval
  // on whichever node holds the lease), not only on the renew period.
  bool generate_on_revoke = false;
  Duration cache_duration = std::chrono::hours(24);  // thisUpdate to nextUpdate
  Duration renew_period{};  // thisUpdate to the next generation; 2/3 of cache_duration
  // The CRL's issuing distribution point and, when set, the leaves' CRL
  // distribution point (the two must agree for a relying party to accept
  // the CRL as in scope).
  std::string idp_url;
  // nginxStepca.crlCheckInterval: how often each worker looks at the lease
  // and the revocation index.
  Duration check_interval = std::chrono::seconds(1);
};

struct OcspConfig {
  bool enabled = false;
  std::string path;  // where the responder answers, e.g. "/ocsp"
  std::string url;   // put in leaves' AIA; empty: none
  Duration validity = std::chrono::hours(1);  // thisUpdate to nextUpdate
  // responderCert / responderKey: a delegated responder (RFC 6960 4.2.2.2):
  // a certificate the intermediate issued with id-kp-OCSPSigning, and its
  // key (PEM, unencrypted or under the CA password). Both or neither; the
  // files are read by the ca.json loader (CaConfig::ocsp_responder_*).
  std::string responder_cert;
  std::string responder_key;
};

struct RevocationConfig {
  CrlConfig crl;
  OcspConfig ocsp;
};

// crl: ca.json's "crl" (null or absent: disabled); ext: the top-level
// "nginxStepca" object (null or absent: none). Errors are
// kInvalidArgument "field \"crl.cacheDuration\": ..." for the loader to
// prefix with the file.
Result<RevocationConfig> ParseRevocationConfig(const json_t* crl, const json_t* ext);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_CONFIG_REVOCATION_CONFIG_H
