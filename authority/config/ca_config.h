// step-ca's ca.json, read unchanged. Every error names the file and the
// field; nothing half-loaded is ever returned.
#ifndef STEPCA_AUTHORITY_CONFIG_CA_CONFIG_H
#define STEPCA_AUTHORITY_CONFIG_CA_CONFIG_H

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "authority/config/revocation_config.h"
#include "authority/config/ra_config.h"
#include "authority/ossl.h"
#include "authority/policy/name_policies.h"
#include "authority/provisioner/provisioner_collection.h"
#include "authority/ssh/template_profile.h"
#include "authority/signer/key_uri.h"
#include "authority/signer/signer.h"
#include "authority/status.h"
#include "authority/template/x509_certificate.h"
#include "authority/x509/claims.h"
#include "shared/duration.h"

namespace stepca {

struct CaConfig {
  std::string path;
  std::vector<X509Ptr> roots;
  std::vector<X509Ptr> federated_roots;
  // A local CA: the "crt" file ([0] issues) and its unlocked key. An RA
  // (ra.is_ra()) has neither, and roots stays empty until the upstream's
  // root is fetched (authority/ra/).
  std::vector<X509Ptr> intermediates;
  EvpPkeyPtr key;                      // a file key
  // A key on a PKCS#11 token, a YubiKey or in a cloud KMS (the kms
  // object); then key is empty. Its public key was read and matched
  // against crt at load.
  std::unique_ptr<Signer> signer;
  KeyScheme key_scheme = KeyScheme::kFile;  // where `key` lives
  // The "ssh" block: the SSH CA keys, unlocked with the same password;
  // either may be absent. ssh_bastion is the block's "bastion" (or null).
  EvpPkeyPtr ssh_user_key;
  EvpPkeyPtr ssh_host_key;
  // An SSH CA key on a token or in a KMS (then the key above is empty).
  std::unique_ptr<Signer> ssh_user_signer;
  std::unique_ptr<Signer> ssh_host_signer;
  JsonPtr ssh_bastion;
  // ssh.addUserPrincipal and ssh.addUserCommand (step-ca's defaults when
  // absent): the certificate that may only add the user on first login.
  std::string ssh_add_user_principal = "provisioner";
  std::string ssh_add_user_command = "sudo useradd -m <principal>; nc -q0 localhost 22";
  // ssh.keys: more SSH CA public keys, listed by /ssh/roots (federated:
  // false) or /ssh/federation (federated: true) after the CA's own, and
  // offered to `step ssh config` as the federated keys.
  struct SshExtraKey {
    bool host = false;
    bool federated = false;
    std::string blob;  // the SSH wire encoding
  };
  std::vector<SshExtraKey> ssh_keys;
  // Each provisioner's options.ssh, by Provisioner::id(); absent: the
  // default SSH template.
  std::map<std::string, std::shared_ptr<const SshTemplateOptions>> ssh_templates;
  // The top-level "templates" (the files `step ssh config` writes), and
  // ca.json's directory, against which their paths resolve.
  JsonPtr templates;
  std::string dir;
  RaConfig ra;                         // authority.type and its fields
  std::vector<std::string> dns_names;
  // dnsNames as ca.json wrote it was not empty (dns_names is filled with
  // localhost's names otherwise, for token audiences; a TLS certificate
  // must name what the operator wrote).
  bool dns_names_given = false;
  std::string logger_format = "text";
  Claims global_claims;
  bool disable_issued_at_check = false;
  // authority.enableAdmin: the admin API and provisioners kept in the store
  // (authority/admin/), merged after ca.json's.
  bool enable_admin = false;
  Duration backdate = std::chrono::minutes(1);
  ProvisionerCollection provisioners;
  // authority.policy and the provisioners' policy objects.
  std::shared_ptr<const NamePolicies> name_policies;
  JsonPtr tls_options;                 // reported in sign responses
  tmpl::X509Name default_subject;      // authority.template (step-ca's ASN1DN)
  RevocationConfig revocation;         // crl and nginxStepca.ocsp
  // nginxStepca.ocsp.responderCert/responderKey, checked: issued by
  // intermediates[0], id-kp-OCSPSigning, the key matching. Null: the
  // intermediate signs its OCSP answers itself.
  X509Ptr ocsp_responder_cert;
  EvpPkeyPtr ocsp_responder_key;
  std::vector<std::string> warnings;   // each starts with the file path
};

struct CaConfigOptions {
  std::string path;           // ca.json
  std::string password_file;  // empty: ca.json "password", then authority.password
  std::string issuer_password_file;  // RA: empty: authority.certificateIssuer.password
};

// Relative paths inside ca.json are taken relative to ca.json's directory.
Result<CaConfig> LoadCaConfig(const CaConfigOptions& options);

// Reads a password file, dropping trailing newlines and spaces as step does.
Result<std::string> ReadPasswordFile(const std::string& path);

// Reads every PEM certificate in a file (at least one).
Result<std::vector<X509Ptr>> ReadCertificates(const std::string& path);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_CONFIG_CA_CONFIG_H
