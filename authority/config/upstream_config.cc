#include "authority/config/upstream_config.h"

#include <cctype>
#include <cstring>
#include <string>

namespace stepca {
namespace {

Status Err(const std::string& field, const std::string& msg) {
  return InvalidArgument("field \"nginxStepca.upstream." + field + "\": " + msg);
}

Status Timeout(const json_t* obj, const char* name, Duration* out) {
  const json_t* v = json_object_get(obj, name);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_string(v)) return Err(name, "must be a duration string (such as \"10s\")");
  const std::string s(json_string_value(v), json_string_length(v));
  auto d = ParseGoDuration(s);
  if (!d) return Err(name, "\"" + s.substr(0, 64) + "\" is not a duration (such as \"10s\")");
  // Below a millisecond libcurl would read 0 as "no timeout at all".
  if (*d < std::chrono::milliseconds(1)) return Err(name, "must be at least 1ms");
  // A pool thread waits this long: a worker's pool would drain fast.
  if (*d > std::chrono::minutes(5)) return Err(name, "must be at most 5m");
  *out = *d;
  return Status::Ok();
}

}  // namespace

Result<UpstreamTimeouts> ParseUpstreamTimeouts(const json_t* ext) {
  UpstreamTimeouts t;
  if (ext == nullptr || json_is_null(ext) || !json_is_object(ext)) return t;  // ca_config checks the type
  const json_t* up = json_object_get(ext, "upstream");
  if (up == nullptr || json_is_null(up)) return t;
  if (!json_is_object(up))
    return InvalidArgument("field \"nginxStepca.upstream\": must be an object");
  STEPCA_RETURN_IF_ERROR(Timeout(up, "connectTimeout", &t.connect));
  STEPCA_RETURN_IF_ERROR(Timeout(up, "timeout", &t.total));
  if (t.connect > t.total) return Err("connectTimeout", "must not exceed nginxStepca.upstream.timeout");
  return t;
}

Result<std::string> ParseUpstreamClientCertHeader(const json_t* ext) {
  if (ext == nullptr || !json_is_object(ext)) return std::string();
  const json_t* up = json_object_get(ext, "upstream");
  if (!json_is_object(up)) return std::string();  // ParseUpstreamTimeouts names a wrong type
  const json_t* v = json_object_get(up, "clientCertHeader");
  if (v == nullptr || json_is_null(v)) return std::string();
  if (!json_is_string(v)) return Err("clientCertHeader", "must be a header name (such as \"X-Client-Cert\")");
  const std::string name(json_string_value(v), json_string_length(v));
  // RFC 9110 token characters: anything else would let ca.json inject a
  // second header line into every renewal the RA forwards.
  static const char kTokenPunct[] = "!#$%&'*+-.^_`|~";
  bool token = !name.empty() && name.size() <= 64;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::strchr(kTokenPunct, c) == nullptr) token = false;
  if (!token) return Err("clientCertHeader", "\"" + name.substr(0, 64) + "\" is not a header name");
  return name;
}

}  // namespace stepca
