// The data step-ca renders an X.509 template over (x509util.TemplateData):
// .Subject and .SANs from the token, .Token (its payload), .Insecure.CR
// (the CSR), .Insecure.User (the request's templateData), and the
// provisioner's options.x509.templateData merged in at the top level.
// Go structs are maps keyed by field name that toJson writes by their json
// tags (Value::WithJsonFields), so `.Subject.CommonName` and
// `toJson .Subject` -> {"commonName":...} both behave as in step-ca.
#ifndef STEPCA_AUTHORITY_TEMPLATE_X509_DATA_H
#define STEPCA_AUTHORITY_TEMPLATE_X509_DATA_H

#include <jansson.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "authority/template/value.h"
#include "authority/x509/csr.h"

namespace stepca {
namespace tmpl {

struct X509TemplateInput {
  std::string common_name;        // the token's subject
  std::vector<std::string> sans;  // the token's sans (step-ca: [subject] when it has none)
  const json_t* token = nullptr;  // the token's payload; null: no .Token
  X509_REQ* csr = nullptr;        // required
  // The CSR's SANs when the caller has parsed them already (Csr::sans);
  // null: parsed again from csr.
  const SanSet* csr_sans = nullptr;
  const json_t* provisioner_data = nullptr;  // options.x509.templateData (an object)
  const json_t* user_data = nullptr;         // the sign request's templateData
  X509* authorization_crt = nullptr;         // X5C: the x5c leaf (.AuthorizationCrt)
};

Value X509TemplateData(const X509TemplateInput& in);

// x509util.CreateSANs: typed SANs, DNS names first, then IPs, emails, URIs.
Value TypedSans(const std::vector<std::string>& sans);

// x509util.Subject{CommonName: cn}.
Value SubjectOf(const std::string& common_name);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_X509_DATA_H
