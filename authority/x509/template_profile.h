// A provisioner's X.509 certificate template (options.x509 in ca.json):
// read and parsed when ca.json is loaded, rendered at each issuance over
// the data step-ca passes, and decoded into the fields the issuer builds
// the certificate from (Issuer::IssueFromTemplate, template_issue.cc).
// Without a template, step-ca's default leaf template is rendered, which
// gives the default leaf profile.
#ifndef STEPCA_AUTHORITY_X509_TEMPLATE_PROFILE_H
#define STEPCA_AUTHORITY_X509_TEMPLATE_PROFILE_H

#include <jansson.h>

#include <memory>
#include <string>
#include <vector>

#include "authority/status.h"
#include "authority/template/template.h"
#include "authority/template/x509_certificate.h"
#include "authority/template/x509_data.h"
#include "authority/x509/csr.h"

namespace stepca {

// step-ca's x509util.DefaultLeafTemplate.
extern const char kDefaultLeafTemplate[];

struct X509TemplateOptions {
  std::shared_ptr<const tmpl::Template> tmpl;  // never null
  std::shared_ptr<json_t> data;                // options.x509.templateData; null when absent
  // A template of the provisioner's own: only then does the request's
  // templateData reach the template (.Insecure.User), as in step-ca.
  bool custom = false;
};

// Where options.x509 came from, for the messages of a load error.
struct X509TemplateSource {
  std::string field;        // "authority.provisioners[0].options.x509"
  std::string provisioner;  // its name
  std::string config_dir;   // ca.json's directory
};

// The options of a provisioner without options.x509: the default template.
std::shared_ptr<const X509TemplateOptions> DefaultX509TemplateOptions();

// Parses options.x509 (null or absent: the default). `template` is the
// template text (a JSON template when it starts with "{" once trimmed,
// else base64 of one, as step-ca reads it); `templateFile` a file, absolute
// or relative to the step path (ca.json's directory, or its parent when
// that directory is step's `config`), read now; `templateData` an object.
// A template that does not parse, a file that cannot be read, or a bad
// field is kInvalidArgument naming the provisioner, the file and
// LINE:COLUMN.
Result<std::shared_ptr<const X509TemplateOptions>> LoadX509TemplateOptions(
    const json_t* x509, const X509TemplateSource& source);

// Resolves a templateFile path as LoadX509TemplateOptions does (the first
// candidate that exists; the first candidate when none does).
std::string ResolveTemplatePath(const std::string& path, const std::string& config_dir);

// Renders and decodes. `fail` in the template is kInvalidArgument with the
// fail message alone (step-ca's 400); any other execution error, a limit
// reached, or output that is not the JSON certificate is kInvalidArgument
// "error applying certificate template: ...". in.user_data is dropped for
// a template that is not custom.
Result<tmpl::X509CertificateTemplate> RenderX509Template(const X509TemplateOptions& options,
                                                         tmpl::X509TemplateInput in);

// What step-ca's default leaf template renders for these inputs, without
// running it (about 40 us saved per issuance): subject CN, typed SANs,
// keyUsage digitalSignature (+ keyEncipherment for an RSA CSR key),
// extKeyUsage serverAuth and clientAuth. template_profile_test.cc checks it
// against the rendered template.
tmpl::X509CertificateTemplate DefaultLeafFields(const tmpl::X509TemplateInput& in);

// Where the default leaf profile sends relying parties for revocation
// (ca.json's crl.idpURL, nginxStepca.ocsp.url); empty: nothing added.
struct DefaultLeafRevocation {
  std::vector<std::string> crl_distribution_points;
  std::vector<std::string> ocsp_servers;
};

// The leaf's fields for one request: RenderX509Template (DefaultLeafFields
// for a provisioner without a template of its own, with `revocation`'s
// URLs as the template's crlDistributionPoints and ocspServer would put
// them), then ApplyDefaultSubject with authority.template.
Result<std::shared_ptr<const tmpl::X509CertificateTemplate>> LeafProfile(
    const X509TemplateOptions& options, const tmpl::X509TemplateInput& in,
    const tmpl::X509Name& default_subject, const DefaultLeafRevocation& revocation = {});

// The names a rendered template gives the leaf, by kind, in Go's order:
// dnsNames (emailAddresses, ipAddresses, uris) first, then the typed sans.
SanSet TemplateNames(const tmpl::X509CertificateTemplate& t);

// step-ca's withDefaultASN1DN (authority.template in ca.json): each field
// of def fills the subject's when the subject has none.
void ApplyDefaultSubject(const tmpl::X509Name& def, tmpl::X509Name* subject);

// authority.template: an object of strings (country, organization,
// organizationalUnit, locality, province, streetAddress, serialNumber,
// commonName). kInvalidArgument naming `field` otherwise.
Result<tmpl::X509Name> ParseDefaultSubject(const json_t* obj, const std::string& field);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_X509_TEMPLATE_PROFILE_H
