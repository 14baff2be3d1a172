// A provisioner's SSH certificate template (options.ssh in ca.json): read
// and parsed when ca.json is loaded, rendered at each SSH sign over the
// data step-ca passes (authority/template/ssh_data.h), and decoded from
// the JSON shape step-ca's sshutil.Certificate reads. Without a template,
// step-ca's default SSH template is rendered.
#ifndef STEPCA_AUTHORITY_SSH_TEMPLATE_PROFILE_H
#define STEPCA_AUTHORITY_SSH_TEMPLATE_PROFILE_H

#include <jansson.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "authority/ssh/certificate.h"
#include "authority/status.h"
#include "authority/template/ssh_data.h"
#include "authority/template/template.h"
#include "authority/x509/template_profile.h"

namespace stepca {

// sshutil.DefaultTemplate: the same text for user and host certificates;
// the data differs (a host has no extensions).
extern const char kDefaultSshTemplate[];

struct SshTemplateOptions {
  std::shared_ptr<const tmpl::Template> tmpl;  // never null
  std::shared_ptr<json_t> data;                // options.ssh.templateData; null when absent
  bool custom = false;  // the provisioner's own: only then is .Insecure.User filled
};

// The default template, parsed once.
std::shared_ptr<const SshTemplateOptions> DefaultSshTemplateOptions();

// Parses options.ssh with the same fields and rules as options.x509
// (LoadX509TemplateOptions: `template` text or base64, `templateFile`
// resolved against the step path, `templateData` an object). A template
// that does not parse is kInvalidArgument naming the provisioner, the
// field or file, and LINE:COLUMN. source.field: "...options.ssh".
Result<std::shared_ptr<const SshTemplateOptions>> LoadSshTemplateOptions(
    const json_t* ssh, const X509TemplateSource& source);

// What a rendered template says about the certificate.
struct SshCertificateFields {
  ssh::CertType type = ssh::CertType::kUser;
  std::string key_id;
  std::vector<std::string> principals;
  std::map<std::string, std::string> critical_options, extensions;
  uint64_t serial = 0;  // 0: drawn at random
};

// sshutil.Certificate's JSON: "type" ("user"/"host", any case), "keyId",
// "principals", "criticalOptions" and "extensions" (objects of strings),
// "serial"; keys matched case-insensitively, unknown keys ignored, text
// after the first JSON value ignored (json.Decoder). kInvalidArgument
// "error unmarshaling certificate: ..." otherwise.
Result<SshCertificateFields> ParseSshCertificateJson(std::string_view rendered);

// Renders and decodes. `fail` is kInvalidArgument with fail's message
// alone (step-ca's 400); any other execution error or bound reached is
// kInvalidArgument "error applying certificate template: ...".
Result<SshCertificateFields> RenderSshTemplate(const SshTemplateOptions& options,
                                               tmpl::SshTemplateInput in);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SSH_TEMPLATE_PROFILE_H
