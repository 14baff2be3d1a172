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

// vaultcas: authority.config, as step-ca names its members.
struct VaultCasConfig {
  std::string pki_mount_path;       // pkiMountPath, "pki" when unset
  // pkiRoleDefault ("default" when unset); the others default to it.
  std::string role_default, role_rsa, role_ec, role_ed25519;
  std::string auth_type;            // "approle" or "kubernetes"
  std::string auth_mount_path;      // authMountPath, the auth type when unset
  std::string vault_namespace;      // namespace: the X-Vault-Namespace header
  // authType approle (authOptions):
  std::string role_id;
  std::string secret_id;            // secretID, or read from secretIDFile/secretIDEnv
  std::string secret_id_field;      // which of the three it came from, for messages
  bool is_wrapping_token = false;   // secret_id is a response-wrapping token
  // authType kubernetes (authOptions):
  std::string kubernetes_role;      // role
  std::string token_path;           // tokenPath, re-read at every login
  // TLS trust for an https Vault: VAULT_CACERT as Vault's own client reads
  // it, else the system's trust store.
  std::string ca_file;
};

// cloudCAS: the service account and the API endpoint.
struct CloudCasConfig {
  // credentialsFile, else GOOGLE_APPLICATION_CREDENTIALS (resolved).
  std::string credentials_file;
  // STEPCA_CLOUDCAS_ENDPOINT (tests point it at a fake), else Google's.
  std::string endpoint;
};

struct RaConfig {
  CaServiceType type = CaServiceType::kLocal;
  std::string type_name;            // as written in ca.json
  // stepcas: https URL; vaultcas: Vault's http(s) URL (no trailing slash
  // either); cloudCAS: the CA pool or certificate authority resource name.
  std::string certificate_authority;
  // Lower-case hex SHA-256 of the upstream root (optional for cloudCAS).
  std::string fingerprint;
  StepCasIssuerConfig issuer;
  UpstreamTimeouts timeouts;        // nginxStepca.upstream (upstream_config.h)
  // nginxStepca.upstream.clientCertHeader (stepcas only): empty, or the
  // header an upstream nginx-stepca reads a client certificate from.
  std::string client_cert_header;
  VaultCasConfig vault;
  CloudCasConfig cloud;

  bool is_ra() const { return type != CaServiceType::kLocal; }
};

struct RaConfigContext {
  std::string ca_json;                // for the error messages
  std::string dir;                    // relative paths are taken from here
  std::string issuer_password_file;   // empty: certificateIssuer.password
};

// Reads authority.type and, for an RA, its fields. Every error names the
// file and the field; unknown types are kInvalidArgument. Secrets named by
// file or environment variable (secretIDFile, secretIDEnv) and
// GOOGLE_APPLICATION_CREDENTIALS are read now.
Result<RaConfig> ParseRaConfig(const json_t* authority, const RaConfigContext& context);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_CONFIG_RA_CONFIG_H
