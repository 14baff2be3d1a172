// The data step-ca renders an SSH certificate template over
// (sshutil.TemplateData): .Type, .KeyID and .Principals from the token (the
// subject by default), .Extensions (step-ca's defaults for a user
// certificate, none for a host), .Token (the token's payload), the
// provisioner's options.ssh.templateData merged in at the top level,
// .Insecure.User (the request's templateData) and .Insecure.CR (the
// request's type, key id and principals). .CriticalOptions is absent
// unless templateData sets it, so the default template writes null.
#ifndef STEPCA_AUTHORITY_TEMPLATE_SSH_DATA_H
#define STEPCA_AUTHORITY_TEMPLATE_SSH_DATA_H

#include <jansson.h>

#include <map>
#include <string>
#include <vector>

#include "authority/template/value.h"

namespace stepca {
namespace tmpl {

struct SshTemplateInput {
  std::string type;  // "user" or "host"
  std::string key_id;
  std::vector<std::string> principals;
  std::map<std::string, std::string> extensions;
  const json_t* token = nullptr;             // the token's payload; null: no .Token
  const json_t* provisioner_data = nullptr;  // options.ssh.templateData (an object)
  const json_t* user_data = nullptr;         // the sign request's templateData
  // The request as the client sent it (sshutil.CertificateRequest).
  std::string request_type, request_key_id;
  std::vector<std::string> request_principals;
};

Value SshTemplateData(const SshTemplateInput& in);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_SSH_DATA_H
