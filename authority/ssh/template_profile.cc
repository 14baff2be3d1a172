#include "authority/ssh/template_profile.h"

#include <strings.h>

#include <cerrno>
#include <cstdlib>

#include "authority/ossl.h"
#include "authority/template/rendered_json.h"

namespace stepca {

const char kDefaultSshTemplate[] = R"({
	"type": {{ toJson .Type }},
	"keyId": {{ toJson .KeyID }},
	"principals": {{ toJson .Principals }},
	"extensions": {{ toJson .Extensions }},
	"criticalOptions": {{ toJson .CriticalOptions }}
})";

namespace {

struct Bad {
  std::string field, reason;
};

// encoding/json: an exact key first, then one that matches ignoring case.
const json_t* Get(const json_t* obj, const char* key) {
  if (const json_t* v = json_object_get(obj, key)) return v;
  const char* k;
  json_t* v;
  json_object_foreach(const_cast<json_t*>(obj), k, v)
    if (strcasecmp(k, key) == 0) return v;
  return nullptr;
}

bool Absent(const json_t* v) { return v == nullptr || json_is_null(v); }

std::string String(const json_t* v, const std::string& field) {
  if (Absent(v)) return "";
  if (!json_is_string(v)) throw Bad{field, "must be a string"};
  return std::string(json_string_value(v), json_string_length(v));
}

std::vector<std::string> Strings(const json_t* v, const std::string& field) {
  std::vector<std::string> out;
  if (Absent(v)) return out;
  if (!json_is_array(v)) throw Bad{field, "must be a list of strings"};
  size_t i;
  const json_t* e;
  json_array_foreach(v, i, e) {
    if (!json_is_string(e)) throw Bad{field + "[" + std::to_string(i) + "]", "must be a string"};
    out.push_back(String(e, field));
  }
  return out;
}

std::map<std::string, std::string> StringMap(const json_t* v, const std::string& field) {
  std::map<std::string, std::string> out;
  if (Absent(v)) return out;
  if (!json_is_object(v)) throw Bad{field, "must be an object of strings"};
  const char* k;
  json_t* e;
  json_object_foreach(const_cast<json_t*>(v), k, e) {
    if (!json_is_string(e)) throw Bad{field + "." + k, "must be a string"};
    out[k] = String(e, field);
  }
  return out;
}

}  // namespace

std::shared_ptr<const SshTemplateOptions> DefaultSshTemplateOptions() {
  static const std::shared_ptr<const SshTemplateOptions> def = [] {
    auto o = std::make_shared<SshTemplateOptions>();
    o->tmpl = tmpl::Template::Parse("template", kDefaultSshTemplate).tmpl;  // parses: template_profile_test.cc
    return std::shared_ptr<const SshTemplateOptions>(std::move(o));
  }();
  return def;
}

Result<std::shared_ptr<const SshTemplateOptions>> LoadSshTemplateOptions(
    const json_t* ssh, const X509TemplateSource& source) {
  // The fields and their rules are options.x509's; only the default differs.
  STEPCA_ASSIGN_OR_RETURN(std::shared_ptr<const X509TemplateOptions> x,
                          LoadX509TemplateOptions(ssh, source));
  if (!x->custom && x->data == nullptr) return DefaultSshTemplateOptions();
  auto o = std::make_shared<SshTemplateOptions>();
  o->data = x->data;
  o->custom = x->custom;
  o->tmpl = x->custom ? x->tmpl : DefaultSshTemplateOptions()->tmpl;
  return std::shared_ptr<const SshTemplateOptions>(std::move(o));
}

Result<SshCertificateFields> ParseSshCertificateJson(std::string_view rendered) {
  STEPCA_ASSIGN_OR_RETURN(JsonPtr root, LoadRenderedObject(rendered));
  const json_t* r = root.get();
  SshCertificateFields c;
  try {
    const json_t* type = Get(r, "type");
    // CertType's UnmarshalJSON: a missing type stays 0, which step-ca
    // refuses as an unexpected certificate type.
    if (Absent(type)) throw Bad{"type", "must be \"user\" or \"host\""};
    const std::string t = String(type, "type");
    if (strcasecmp(t.c_str(), "user") == 0) c.type = ssh::CertType::kUser;
    else if (strcasecmp(t.c_str(), "host") == 0) c.type = ssh::CertType::kHost;
    else throw Bad{"type", "error unmarshaling '" + t.substr(0, 32) + "' as a certificate type"};
    c.key_id = String(Get(r, "keyId"), "keyId");
    c.principals = Strings(Get(r, "principals"), "principals");
    c.critical_options = StringMap(Get(r, "criticalOptions"), "criticalOptions");
    c.extensions = StringMap(Get(r, "extensions"), "extensions");
    if (const json_t* s = Get(r, "serial"); !Absent(s)) {
      if (!json_is_integer(s) || json_integer_value(s) < 0)
        throw Bad{"serial", "must be an unsigned integer"};
      c.serial = static_cast<uint64_t>(json_integer_value(s));
    }
  } catch (const Bad& b) {
    return InvalidArgument("error unmarshaling certificate: field \"" + b.field + "\" " + b.reason);
  }
  return c;
}

Result<SshCertificateFields> RenderSshTemplate(const SshTemplateOptions& options,
                                               tmpl::SshTemplateInput in) {
  if (!options.custom) in.user_data = nullptr;
  in.provisioner_data = options.data.get();
  const tmpl::ExecResult out = options.tmpl->Execute(tmpl::SshTemplateData(in));
  switch (out.error.kind) {
    case tmpl::ErrorKind::kNone: break;
    case tmpl::ErrorKind::kFail: return InvalidArgument(out.error.fail_message);
    case tmpl::ErrorKind::kLimit:
    case tmpl::ErrorKind::kExec:
    case tmpl::ErrorKind::kParse:
      return InvalidArgument("error applying certificate template: " + out.error.message);
  }
  auto cert = ParseSshCertificateJson(out.output);
  if (!cert.ok())
    return InvalidArgument("error applying certificate template: " + cert.status().message());
  return cert;
}

}  // namespace stepca
