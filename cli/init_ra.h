// `stepca init --ra stepcas|vaultcas|cloudcas`: the configuration `step ca
// init --ra` writes for a registration authority: the upstream's root
// (downloaded, and checked against its fingerprint), a ca.json naming the
// upstream and how the RA authenticates to it, and a JWK provisioner of the
// RA's own. No CA key: the upstream signs. step 0.19 has no --ra VaultCAS;
// its ca.json is the one step-ca's Vault guide has you write by hand.
#ifndef STEPCA_CLI_INIT_RA_H
#define STEPCA_CLI_INIT_RA_H

#include <ostream>
#include <string>
#include <vector>

#include "authority/status.h"

namespace stepca {
namespace cli {

struct InitRaOptions {
  std::string ra;                     // "stepcas", "vaultcas", "cloudcas" (any case)
  // stepcas and vaultcas: the upstream's URL; cloudcas: the CA pool or
  // certificate authority resource name.
  std::string issuer;
  std::string issuer_fingerprint;     // its root's SHA-256, hex (optional for cloudcas)
  std::string issuer_provisioner;     // stepcas: an upstream JWK provisioner
  std::string credentials_file;       // cloudcas: the service account key (or $GOOGLE_APPLICATION_CREDENTIALS)
  // vaultcas (authority.config):
  std::string vault_pki_mount;        // default "pki"
  std::string vault_pki_role;         // pkiRoleDefault, default "default"
  std::string vault_pki_role_rsa, vault_pki_role_ec, vault_pki_role_ed25519;
  std::string vault_auth_mount;
  std::string vault_namespace;
  std::string vault_role_id;          // approle
  std::string vault_secret_id_file;   // approle: written as secretIDFile, never copied
  bool vault_wrapped = false;         // the file holds a wrapping token
  std::string vault_kubernetes_role;  // kubernetes auth instead of approle
  std::string vault_token_path;
  std::vector<std::string> dns;       // the RA's dnsNames, dns[0] in ca-url
  std::string address;
  std::string provisioner;            // the RA's own JWK provisioner
  std::string provisioner_password;
  std::string steppath;
  bool acme = false;
  bool force = false;
  int p2c = 600000;
};

struct InitRaResult {
  std::string steppath, root_cert, ca_config, defaults, db_dir, ca_url, fingerprint;
};

// stepcas, vaultcas and cloudcas in any case are Ok, anything else
// kInvalidArgument.
Status CheckRaType(const std::string& ra);

// stepcas: fetches <issuer>/root/<fingerprint> and refuses a root whose
// SHA-256 is not the fingerprint. vaultcas and cloudcas: connects as the
// RA will (login, root by fingerprint) before anything is written.
Result<InitRaResult> InitRa(const InitRaOptions& options);

void PrintInitRaSummary(const InitRaResult& r, std::ostream& out);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_INIT_RA_H
