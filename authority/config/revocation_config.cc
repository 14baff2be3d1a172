#include "authority/config/revocation_config.h"

namespace stepca {
namespace {

Status Err(const std::string& field, const std::string& msg) {
  return InvalidArgument("field \"" + field + "\": " + msg);
}

Status Bool(const json_t* obj, const char* name, const std::string& field, bool* out) {
  const json_t* v = json_object_get(obj, name);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_boolean(v)) return Err(field, "must be true or false");
  *out = json_is_true(v);
  return Status::Ok();
}

Status String(const json_t* obj, const char* name, const std::string& field, std::string* out) {
  const json_t* v = json_object_get(obj, name);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_string(v)) return Err(field, "must be a string");
  out->assign(json_string_value(v), json_string_length(v));
  return Status::Ok();
}

// A Go duration string ("24h", "90m"); present means positive.
Status GoDuration(const json_t* obj, const char* name, const std::string& field, Duration* out,
                  bool* present) {
  std::string s;
  STEPCA_RETURN_IF_ERROR(String(obj, name, field, &s));
  if (present != nullptr) *present = !s.empty();
  if (s.empty()) return Status::Ok();
  auto d = ParseGoDuration(s);
  if (!d) return Err(field, "\"" + s.substr(0, 64) + "\" is not a duration (such as \"24h\")");
  if (d->count() <= 0) return Err(field, "must be positive");
  *out = *d;
  return Status::Ok();
}

Status HttpUrl(const std::string& url, const std::string& field) {
  if (url.empty()) return Status::Ok();
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return Err(field, "must be an http:// or https:// URL");
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f) return Err(field, "must be plain ASCII without spaces");
  return Status::Ok();
}

Status ParseCrl(const json_t* crl, CrlConfig* c) {
  if (crl == nullptr || json_is_null(crl)) return Status::Ok();
  if (!json_is_object(crl)) return Err("crl", "must be an object");
  STEPCA_RETURN_IF_ERROR(Bool(crl, "enabled", "crl.enabled", &c->enabled));
  STEPCA_RETURN_IF_ERROR(Bool(crl, "generateOnRevoke", "crl.generateOnRevoke", &c->generate_on_revoke));
  STEPCA_RETURN_IF_ERROR(
      GoDuration(crl, "cacheDuration", "crl.cacheDuration", &c->cache_duration, nullptr));
  bool renew_set = false;
  STEPCA_RETURN_IF_ERROR(
      GoDuration(crl, "renewPeriod", "crl.renewPeriod", &c->renew_period, &renew_set));
  if (!renew_set) c->renew_period = c->cache_duration / 3 * 2;
  if (c->renew_period >= c->cache_duration)
    return Err("crl.renewPeriod", "must be shorter than crl.cacheDuration (" +
                                      FormatGoDuration(c->cache_duration) + ")");
  STEPCA_RETURN_IF_ERROR(String(crl, "idpURL", "crl.idpURL", &c->idp_url));
  return HttpUrl(c->idp_url, "crl.idpURL");
}

Status ParseOcsp(const json_t* o, OcspConfig* c) {
  if (o == nullptr || json_is_null(o)) return Status::Ok();
  if (!json_is_object(o)) return Err("nginxStepca.ocsp", "must be an object");
  c->enabled = true;
  STEPCA_RETURN_IF_ERROR(Bool(o, "enabled", "nginxStepca.ocsp.enabled", &c->enabled));
  c->path = "/ocsp";
  STEPCA_RETURN_IF_ERROR(String(o, "path", "nginxStepca.ocsp.path", &c->path));
  if (c->path.empty() || c->path[0] != '/' || c->path.size() > 256)
    return Err("nginxStepca.ocsp.path", "must be a path starting with \"/\"");
  while (c->path.size() > 1 && c->path.back() == '/') c->path.pop_back();
  // The CA API and ACME own their paths; a responder there would hide a route.
  for (const char* taken : {"/1.0", "/acme", "/2.0", "/crl", "/sign", "/renew", "/revoke", "/roots"})
    if (c->path == taken || c->path == "/")
      return Err("nginxStepca.ocsp.path", "\"" + c->path + "\" is a CA API path");
  STEPCA_RETURN_IF_ERROR(String(o, "url", "nginxStepca.ocsp.url", &c->url));
  STEPCA_RETURN_IF_ERROR(HttpUrl(c->url, "nginxStepca.ocsp.url"));
  STEPCA_RETURN_IF_ERROR(GoDuration(o, "validity", "nginxStepca.ocsp.validity", &c->validity, nullptr));
  STEPCA_RETURN_IF_ERROR(String(o, "responderCert", "nginxStepca.ocsp.responderCert", &c->responder_cert));
  STEPCA_RETURN_IF_ERROR(String(o, "responderKey", "nginxStepca.ocsp.responderKey", &c->responder_key));
  if (c->responder_cert.empty() != c->responder_key.empty())
    return Err(c->responder_cert.empty() ? "nginxStepca.ocsp.responderCert" : "nginxStepca.ocsp.responderKey",
               "responderCert and responderKey go together");
  return Status::Ok();
}

}  // namespace

Result<RevocationConfig> ParseRevocationConfig(const json_t* crl, const json_t* ext) {
  RevocationConfig rc;
  STEPCA_RETURN_IF_ERROR(ParseCrl(crl, &rc.crl));
  if (ext != nullptr && !json_is_null(ext)) {
    if (!json_is_object(ext)) return Err("nginxStepca", "must be an object");
    STEPCA_RETURN_IF_ERROR(GoDuration(ext, "crlCheckInterval", "nginxStepca.crlCheckInterval",
                                      &rc.crl.check_interval, nullptr));
    if (rc.crl.check_interval > std::chrono::hours(1))
      return Err("nginxStepca.crlCheckInterval", "must be at most 1h");
    STEPCA_RETURN_IF_ERROR(ParseOcsp(json_object_get(ext, "ocsp"), &rc.ocsp));
  }
  return rc;
}

}  // namespace stepca
