// step-ca's ca.json, read unchanged. Every error names the file and the
// field; nothing half-loaded is ever returned.
#ifndef STEPCA_AUTHORITY_CONFIG_CA_CONFIG_H
#define STEPCA_AUTHORITY_CONFIG_CA_CONFIG_H

#include <memory>
#include <string>
#include <vector>

#include "authority/config/ra_config.h"
#include "authority/ossl.h"
#include "authority/policy/name_policies.h"
#include "authority/provisioner/provisioner_collection.h"
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
  EvpPkeyPtr key;
  RaConfig ra;                         // authority.type and its fields
  std::vector<std::string> dns_names;
  std::string logger_format = "text";
  Claims global_claims;
  bool disable_issued_at_check = false;
  Duration backdate = std::chrono::minutes(1);
  ProvisionerCollection provisioners;
  // authority.policy and the provisioners' policy objects.
  std::shared_ptr<const NamePolicies> name_policies;
  JsonPtr tls_options;                 // reported in sign responses
  tmpl::X509Name default_subject;      // authority.template (step-ca's ASN1DN)
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
