// Certificates from an X.509 template outside the CA, as `step certificate
// create --template` makes them: an intermediate with a CRL distribution
// point, say (the production guide's "Use Templates With Care").
#ifndef STEPCA_CLI_TEMPLATE_CERT_H
#define STEPCA_CLI_TEMPLATE_CERT_H

#include <ostream>
#include <string>
#include <vector>

#include "authority/ossl.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {
namespace cli {

struct TemplateCertificateRequest {
  std::string template_text;
  std::string template_name;  // the file, for errors
  // The template's data: .Subject (CommonName, Organization when set),
  // .SANs (classified as step does), .Insecure.CR (a CSR of key).
  std::string common_name;
  std::string organization;
  std::vector<std::string> sans;
  EVP_PKEY* key = nullptr;         // the subject's key (public part used)
  X509* issuer = nullptr;          // signs with issuer_key
  EVP_PKEY* issuer_key = nullptr;
  TimePoint not_before;
  TimePoint not_after;
};

// Renders, decodes (trailing text after the JSON object is ignored, as Go's
// json.Decoder does) and signs: the fields in Go's extension order, a fresh
// serial unless the template sets one. kInvalidArgument for a template
// that does not parse, fails, or renders something that is not a
// certificate.
Result<X509Ptr> MakeCertificateFromTemplate(const TemplateCertificateRequest& request);

// `stepca certificate create SUBJECT CRT_FILE KEY_FILE --template FILE
// --ca CA_CRT --ca-key CA_KEY [--ca-password-file F] [--password-file F |
// --no-password --insecure] [--not-before T] [--not-after T] [--san NAME]...
// [--kty EC|OKP|RSA] [--curve C] [--size N] [--force]`.
int RunCertificateCreate(const std::vector<std::string>& argv, std::ostream& out,
                         std::ostream& err);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_TEMPLATE_CERT_H
