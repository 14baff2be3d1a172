// authority.type and the registration-authority fields of ca.json: which CA
// service signs (this CA's own key, or an upstream CA), and how the RA
// authenticates to the upstream. Only the reading is here; the upstream is
// contacted by authority/ra/.
#ifndef STEPCA_AUTHORITY_CONFIG_RA_CONFIG_H
#define STEPCA_AUTHORITY_CONFIG_RA_CONFIG_H

#include <jansson.h>

#include <string>

#include "authority/config/upstream_config.h"
#include "authority/status.h"

namespace stepca {

enum class CaServiceType {
  kLocal,     // "" or "softcas": root, crt and key of ca.json
  kStepCas,   // "stepcas": an upstream step-ca
  kCloudCas,  // "cloudCAS" (any case): Google CAS
  kVaultCas,  // "vaultcas": Vault's PKI engine
};

// certificateIssuer: the upstream provisioner the RA's tokens are for.
struct StepCasIssuerConfig {
  std::string type;         // "jwk" or "x5c"
  std::string provisioner;  // its name on the upstream
  std::string key_path;     // jwk: optional local PEM; x5c: the key (resolved)
  std::string crt_path;     // x5c: the certificate chain (resolved)
  std::string password;     // the issuer password file, else certificateIssuer.password
};

struct RaConfig {
  CaServiceType type = CaServiceType::kLocal;
  std::string type_name;            // as written in ca.json
  std::string certificate_authority;  // stepcas: https URL, no trailing slash
  std::string fingerprint;          // lower-case hex SHA-256 of the upstream root
  StepCasIssuerConfig issuer;
  UpstreamTimeouts timeouts;        // nginxStepca.upstream (upstream_config.h)

  bool is_ra() const { return type != CaServiceType::kLocal; }
};

struct RaConfigContext {
  std::string ca_json;                // for the error messages
  std::string dir;                    // relative paths are taken from here
  std::string issuer_password_file;   // empty: certificateIssuer.password
};

// Reads authority.type and, for an RA, its fields. Every error names the
// file and the field. Types known to step-ca that this version cannot serve
// yet (cloudCAS, vaultcas) and unknown types are kInvalidArgument.
Result<RaConfig> ParseRaConfig(const json_t* authority, const RaConfigContext& context);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_CONFIG_RA_CONFIG_H
