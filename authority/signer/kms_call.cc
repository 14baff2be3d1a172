#include "authority/signer/kms_call.h"

#include <jansson.h>

#include <optional>
#include <utility>

#include "shared/base64.h"

namespace stepca {

Result<cloud::HttpResponse> SendWithBearer(const std::string& method, const std::string& url,
                                           std::string token, const std::string& body) {
  cloud::HttpRequest r;
  r.method = method;
  r.url = url;
  r.headers = {"Authorization: Bearer " + token, "Content-Type: application/json"};
  r.body = body;
  Wipe(token);
  auto resp = cloud::SendHttp(r);
  for (auto& h : r.headers) Wipe(h);
  return resp;
}

Result<std::string> SignatureFromAnswer(const Result<JsonPtr>& answer, const char* field,
                                        bool url_safe, const std::string& key,
                                        const std::string& missing) {
  if (!answer.ok())
    return Unavailable("the CA key is unavailable")
        .WithDetail("ca key " + key + ": " + answer.status().message());
  const char* sig = json_string_value(json_object_get(answer->get(), field));
  std::optional<std::string> raw;
  if (sig != nullptr) raw = url_safe ? Base64UrlDecode(sig) : Base64Decode(sig);
  if (!raw || raw->empty())
    return Unavailable("the CA key is unavailable").WithDetail("ca key " + key + ": " + missing);
  return std::move(*raw);
}

}  // namespace stepca
