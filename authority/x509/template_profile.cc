#include "authority/x509/template_profile.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "authority/ossl.h"
#include "shared/base64.h"

namespace stepca {

const char kDefaultLeafTemplate[] = R"({
	"subject": {{ toJson .Subject }},
	"sans": {{ toJson .SANs }},
{{- if typeIs "*rsa.PublicKey" .Insecure.CR.PublicKey }}
	"keyUsage": ["keyEncipherment", "digitalSignature"],
{{- else }}
	"keyUsage": ["digitalSignature"],
{{- end }}
	"extKeyUsage": ["serverAuth", "clientAuth"]
})";

namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Beyond this a template is not a certificate description but a mistake.
constexpr size_t kMaxTemplateBytes = 1 << 20;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return InvalidArgument("cannot read " + path);
  std::string text = s.str();
  if (text.size() > kMaxTemplateBytes)
    return InvalidArgument(path + " is larger than " + std::to_string(kMaxTemplateBytes) + " bytes");
  return text;
}

std::shared_ptr<json_t> Shared(json_t* j) {
  return std::shared_ptr<json_t>(j, [](json_t* p) { json_decref(p); });
}

}  // namespace

std::shared_ptr<const X509TemplateOptions> DefaultX509TemplateOptions() {
  static const std::shared_ptr<const X509TemplateOptions> def = [] {
    auto parsed = tmpl::Template::Parse("template", kDefaultLeafTemplate);
    auto o = std::make_shared<X509TemplateOptions>();
    o->tmpl = parsed.tmpl;  // the default parses (template_profile_test.cc)
    return std::shared_ptr<const X509TemplateOptions>(std::move(o));
  }();
  return def;
}

std::string ResolveTemplatePath(const std::string& path, const std::string& config_dir) {
  if (!path.empty() && path[0] == '/') return path;
  const std::string dir = config_dir.empty() ? "." : config_dir;
  const std::string beside = dir + "/" + path;
  // step-ca resolves a relative templateFile against $STEPPATH, the parent
  // of step's config/ directory that holds ca.json.
  std::string step_path;
  const size_t slash = dir.find_last_of('/');
  const std::string base = slash == std::string::npos ? dir : dir.substr(slash + 1);
  if (base == "config") step_path = (slash == std::string::npos ? "." : dir.substr(0, slash == 0 ? 1 : slash)) + "/" + path;
  if (!step_path.empty() && !Exists(beside) && Exists(step_path)) return step_path;
  return beside;
}

Result<std::shared_ptr<const X509TemplateOptions>> LoadX509TemplateOptions(
    const json_t* x509, const X509TemplateSource& src) {
  if (x509 == nullptr || json_is_null(x509)) return DefaultX509TemplateOptions();
  const std::string who = " (provisioner " + Quote(src.provisioner) + ")";
  auto err = [&](const std::string& sub, const std::string& why) {
    return InvalidArgument("field " + Quote(src.field + sub) + who + ": " + why);
  };
  if (!json_is_object(x509)) return err("", "must be an object");
  auto opts = std::make_shared<X509TemplateOptions>();

  const json_t* data = json_object_get(x509, "templateData");
  if (data != nullptr && !json_is_null(data)) {
    if (!json_is_object(data)) return err(".templateData", "must be an object");
    opts->data = Shared(json_deep_copy(data));
  }
  const json_t* text_j = json_object_get(x509, "template");
  const json_t* file_j = json_object_get(x509, "templateFile");
  if (text_j != nullptr && !json_is_null(text_j) && !json_is_string(text_j))
    return err(".template", "must be a string");
  if (file_j != nullptr && !json_is_null(file_j) && !json_is_string(file_j))
    return err(".templateFile", "must be a string");
  const std::string text = json_is_string(text_j) ? json_string_value(text_j) : "";
  const std::string file = json_is_string(file_j) ? json_string_value(file_j) : "";

  std::string body, name, sub;
  if (!text.empty()) {
    // step-ca: the template itself when it starts with "{", else base64.
    sub = ".template";
    name = src.field + ".template";
    body = Trim(text);
    if (body.empty() || body[0] != '{') {
      auto decoded = Base64Decode(body);
      if (!decoded) return err(sub, "is neither a JSON template (starting with \"{\") nor base64 of one");
      body = *decoded;
    }
    if (body.size() > kMaxTemplateBytes) return err(sub, "is larger than 1 MiB");
  } else if (!file.empty()) {
    sub = ".templateFile";
    name = ResolveTemplatePath(file, src.config_dir);
    auto read = ReadFile(name);
    if (!read.ok()) return err(sub, read.status().message());
    body = std::move(read).value();
  } else {
    // templateData alone: the default template, which step-ca renders
    // with that data too.
    auto parsed = DefaultX509TemplateOptions();
    opts->tmpl = parsed->tmpl;
    return std::shared_ptr<const X509TemplateOptions>(std::move(opts));
  }
  auto parsed = tmpl::Template::Parse(name, body);
  if (!parsed.ok()) return err(sub, parsed.error.message);
  opts->tmpl = parsed.tmpl;
  opts->custom = true;
  return std::shared_ptr<const X509TemplateOptions>(std::move(opts));
}

Result<tmpl::X509CertificateTemplate> RenderX509Template(const X509TemplateOptions& options,
                                                         tmpl::X509TemplateInput in) {
  if (!options.custom) in.user_data = nullptr;
  in.provisioner_data = options.data.get();
  const tmpl::ExecResult out = options.tmpl->Execute(tmpl::X509TemplateData(in));
  switch (out.error.kind) {
    case tmpl::ErrorKind::kNone: break;
    case tmpl::ErrorKind::kFail: return InvalidArgument(out.error.fail_message);
    case tmpl::ErrorKind::kLimit:
    case tmpl::ErrorKind::kExec:
    case tmpl::ErrorKind::kParse:
      return InvalidArgument("error applying certificate template: " + out.error.message);
  }
  auto cert = tmpl::ParseX509CertificateJson(out.output);
  if (!cert.ok())
    return InvalidArgument("error applying certificate template: " + cert.status().message());
  return cert;
}

Result<std::shared_ptr<const tmpl::X509CertificateTemplate>> LeafProfile(
    const X509TemplateOptions& options, const tmpl::X509TemplateInput& in,
    const tmpl::X509Name& default_subject, const DefaultLeafRevocation& revocation) {
  tmpl::X509CertificateTemplate t;
  if (options.custom) {
    STEPCA_ASSIGN_OR_RETURN(t, RenderX509Template(options, in));
  } else {
    t = DefaultLeafFields(in);
    t.crl_distribution_points = revocation.crl_distribution_points;
    t.ocsp_server = revocation.ocsp_servers;
  }
  ApplyDefaultSubject(default_subject, &t.subject);
  return std::make_shared<const tmpl::X509CertificateTemplate>(std::move(t));
}

tmpl::X509CertificateTemplate DefaultLeafFields(const tmpl::X509TemplateInput& in) {
  tmpl::X509CertificateTemplate t;
  t.subject.common_name = in.common_name;
  const SanSet s = ClassifySans(in.sans);
  for (auto [list, type] : {std::pair{&s.dns, "dns"}, std::pair{&s.ips, "ip"},
                            std::pair{&s.emails, "email"}, std::pair{&s.uris, "uri"}})
    for (const auto& v : *list) t.sans.push_back(tmpl::X509San{type, v});
  EVP_PKEY* key = in.csr != nullptr ? X509_REQ_get0_pubkey(in.csr) : nullptr;
  t.key_usage = tmpl::kKuDigitalSignature;
  if (key != nullptr && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) t.key_usage |= tmpl::kKuKeyEncipherment;
  t.ext_key_usage = {"serverauth", "clientauth"};
  return t;
}

SanSet TemplateNames(const tmpl::X509CertificateTemplate& t) {
  SanSet s;
  s.dns = t.dns_names;
  s.emails = t.email_addresses;
  s.ips = t.ip_addresses;
  s.uris = t.uris;
  for (const auto& san : t.sans) {
    if (san.type == "dns") s.dns.push_back(san.value);
    else if (san.type == "email") s.emails.push_back(san.value);
    else if (san.type == "ip") s.ips.push_back(san.value);
    else if (san.type == "uri") s.uris.push_back(san.value);
  }
  return s;
}

void ApplyDefaultSubject(const tmpl::X509Name& def, tmpl::X509Name* s) {
  auto fill = [](const std::vector<std::string>& d, std::vector<std::string>* v) {
    if (v->empty() && !d.empty() && !d[0].empty()) v->push_back(d[0]);
  };
  fill(def.country, &s->country);
  fill(def.organization, &s->organization);
  fill(def.organizational_unit, &s->organizational_unit);
  fill(def.locality, &s->locality);
  fill(def.province, &s->province);
  fill(def.street_address, &s->street_address);
  if (s->serial_number.empty()) s->serial_number = def.serial_number;
  if (s->common_name.empty()) s->common_name = def.common_name;
}

Result<tmpl::X509Name> ParseDefaultSubject(const json_t* obj, const std::string& field) {
  tmpl::X509Name n;
  if (obj == nullptr || json_is_null(obj)) return n;
  if (!json_is_object(obj)) return InvalidArgument("field " + Quote(field) + ": must be an object");
  struct F {
    const char* key;
    std::vector<std::string>* list;
    std::string* one;
  };
  const F fields[] = {{"country", &n.country, nullptr},
                      {"organization", &n.organization, nullptr},
                      {"organizationalUnit", &n.organizational_unit, nullptr},
                      {"locality", &n.locality, nullptr},
                      {"province", &n.province, nullptr},
                      {"streetAddress", &n.street_address, nullptr},
                      {"serialNumber", nullptr, &n.serial_number},
                      {"commonName", nullptr, &n.common_name}};
  for (const F& f : fields) {
    const json_t* v = json_object_get(obj, f.key);
    if (v == nullptr || json_is_null(v)) continue;
    if (!json_is_string(v))
      return InvalidArgument("field " + Quote(field + "." + f.key) + ": must be a string");
    const std::string s = json_string_value(v);
    if (s.empty()) continue;
    if (f.list) f.list->push_back(s);
    else *f.one = s;
  }
  return n;
}

}  // namespace stepca
