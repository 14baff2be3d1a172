#include "cli/sign_flow.h"

#include "authority/jose/jws.h"
#include "authority/ossl.h"
#include "cli/go_json.h"
#include "cli/http.h"

namespace stepca {
namespace cli {

std::string BuildSignBody(const std::string& csr_pem, const std::string& ott,
                          const std::string& not_before,
                          const std::string& not_after) {
  JsonPtr body(json_object());
  json_object_set_new(body.get(), "csr", json_string(csr_pem.c_str()));
  json_object_set_new(body.get(), "ott", json_string(ott.c_str()));
  if (!not_before.empty()) {
    json_object_set_new(body.get(), "notBefore", json_string(not_before.c_str()));
  }
  if (!not_after.empty()) {
    json_object_set_new(body.get(), "notAfter", json_string(not_after.c_str()));
  }
  return GoJson(body.get());
}

Result<std::string> ChainFromSignResponse(const json_t* response) {
  auto with_newline = [](std::string pem) {
    if (!pem.empty() && pem.back() != '\n') pem.push_back('\n');
    return pem;
  };
  std::string out;
  const json_t* chain = json_object_get(response, "certChain");
  if (json_is_array(chain) && json_array_size(chain) > 0) {
    size_t i;
    json_t* c;
    json_array_foreach(chain, i, c) {
      const char* pem = json_string_value(c);
      if (pem == nullptr) return Internal("invalid certChain in the CA response");
      out += with_newline(pem);
    }
    return out;
  }
  const char* crt = json_string_value(json_object_get(response, "crt"));
  if (crt == nullptr) return Internal("the CA response has no certificate");
  out = with_newline(crt);
  const char* ca = json_string_value(json_object_get(response, "ca"));
  if (ca != nullptr) out += with_newline(ca);
  return out;
}

Result<std::string> SignCsr(const std::string& ca_url, const std::string& root_file,
                            const std::string& body) {
  STEPCA_ASSIGN_OR_RETURN(
      HttpResponse resp, HttpPostJson(NormalizeCaUrl(ca_url) + "/1.0/sign", body, root_file));
  STEPCA_ASSIGN_OR_RETURN(JsonPtr j, JsonBody(resp));
  return ChainFromSignResponse(j.get());
}

Result<TokenNames> TokenNamesOf(const std::string& token) {
  STEPCA_ASSIGN_OR_RETURN(Jws jws, ParseCompactJws(token));
  TokenNames names;
  const char* sub = json_string_value(json_object_get(jws.payload.get(), "sub"));
  if (sub != nullptr) names.subject = sub;
  const json_t* sans = json_object_get(jws.payload.get(), "sans");
  size_t i;
  json_t* s;
  json_array_foreach(sans, i, s) {
    if (json_is_string(s)) names.sans.push_back(json_string_value(s));
  }
  return names;
}

}  // namespace cli
}  // namespace stepca
