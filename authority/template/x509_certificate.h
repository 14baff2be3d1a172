// The JSON certificate a rendered X.509 template describes: the shape
// step-ca's x509util.Certificate decodes (keys matched case-insensitively,
// unknown keys ignored, "one or many" strings accepted as a string or a
// list). Decoding checks what step-ca checks and, beyond it, what would
// otherwise fail at signing: OIDs must be encodable and an extension's
// value must be one DER element. Issuance: authority/x509/template_profile.h.
#ifndef STEPCA_AUTHORITY_TEMPLATE_X509_CERTIFICATE_H
#define STEPCA_AUTHORITY_TEMPLATE_X509_CERTIFICATE_H

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "authority/status.h"

namespace stepca {
namespace tmpl {

struct X509Name {
  std::vector<std::string> country, organization, organizational_unit, locality, province,
      street_address, postal_code;
  std::string serial_number, common_name;
  std::vector<std::pair<std::string, std::string>> extra_names;  // OID, string value
};

struct X509San {
  std::string type;  // "dns", "email", "ip", "uri" ("auto" and "" resolved)
  std::string value;
};

struct X509Extension {
  std::string oid;
  bool critical = false;
  std::string der;  // the value, decoded from base64
};

struct X509BasicConstraints {
  bool is_ca = false;
  int max_path_len = 0;
};

struct X509NameConstraints {
  bool critical = false;
  std::vector<std::string> permitted_dns, excluded_dns, permitted_ip_ranges, excluded_ip_ranges,
      permitted_emails, excluded_emails, permitted_uri_domains, excluded_uri_domains;
};

// Go's x509.KeyUsage bits.
enum X509KeyUsageBit : unsigned {
  kKuDigitalSignature = 1 << 0,
  kKuContentCommitment = 1 << 1,
  kKuKeyEncipherment = 1 << 2,
  kKuDataEncipherment = 1 << 3,
  kKuKeyAgreement = 1 << 4,
  kKuCertSign = 1 << 5,
  kKuCrlSign = 1 << 6,
  kKuEncipherOnly = 1 << 7,
  kKuDecipherOnly = 1 << 8,
};

struct X509CertificateTemplate {
  X509Name subject, issuer;
  std::string serial_number;  // decimal; empty: the CA picks one
  std::vector<std::string> dns_names, email_addresses, ip_addresses, uris;
  std::vector<X509San> sans;
  std::vector<X509Extension> extensions;
  unsigned key_usage = 0;
  std::vector<std::string> ext_key_usage;  // lower-case names: "serverauth", ...
  std::vector<std::string> unknown_ext_key_usage, policy_identifiers;  // OIDs
  std::vector<std::string> ocsp_server, issuing_certificate_url, crl_distribution_points;
  std::optional<X509BasicConstraints> basic_constraints;
  std::optional<X509NameConstraints> name_constraints;
  std::string signature_algorithm;  // as step names it ("ECDSA-SHA256"), empty: the CA's
};

// kInvalidArgument "error unmarshaling certificate: <field>: <reason>".
Result<X509CertificateTemplate> ParseX509CertificateJson(std::string_view rendered);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_X509_CERTIFICATE_H
