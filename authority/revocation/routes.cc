#include "authority/revocation/routes.h"

#include "authority/authority.h"
#include "authority/revocation/crl_service.h"
#include "authority/revocation/ocsp_responder.h"
#include "shared/base64.h"

namespace stepca {
namespace {

std::string Pem(const std::string& der) {
  std::string b64 = Base64Encode(der), out = "-----BEGIN X509 CRL-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END X509 CRL-----\n";
}

HttpResponse Crl(Authority& a, const HttpRequest& req) {
  if (req.method != "GET" && req.method != "HEAD") return MethodNotAllowed();
  if (a.crl() == nullptr) return ErrorResponse(NotFound("crl is not enabled in ca.json"));
  auto crl = a.crl()->Serve();
  if (!crl.ok()) return ErrorResponse(crl.status());
  bool found = false;
  const std::string pem = QueryParam(req.query, "pem", &found);
  HttpResponse r;
  if (found && (pem == "true" || pem == "1")) {
    r.content_type = "application/x-pem-file";
    r.body = Pem(crl->der);
  } else {
    r.content_type = "application/pkix-crl";
    r.body = crl->der;
  }
  return r;
}

HttpResponse Ocsp(Authority& a, const HttpRequest& req, std::string_view rest) {
  std::string request;
  if (req.method == "POST") {
    if (!rest.empty()) return NotFoundText();
    request.assign(req.body.data(), req.body.size());
  } else if (req.method == "GET" || req.method == "HEAD") {
    // nginx has already percent-decoded the path; what is left is base64.
    if (rest.size() > 2 * kMaxOcspRequestBytes) {
      request.assign(kMaxOcspRequestBytes + 1, '\0');  // refused for its size below
    } else if (auto der = Base64Decode(rest)) {
      request = std::move(*der);
    } else {
      HttpResponse r;
      r.status = 400;
      r.content_type = "application/ocsp-response";
      r.body = OcspErrorResponse(1);  // malformedRequest
      r.log_level = LogLevel::kInfo;
      r.log_message = "ocsp: malformed request: the GET path is not base64";
      return r;
    }
  } else {
    return MethodNotAllowed();
  }
  OcspAnswer ans = a.ocsp()->Respond(request);
  HttpResponse r;
  r.status = ans.http_status;
  r.content_type = "application/ocsp-response";
  r.body = std::move(ans.der);
  if (req.method != "POST" && ans.http_status == 200 && ans.max_age > 0)
    r.headers.emplace_back("Cache-Control", "max-age=" + std::to_string(ans.max_age) +
                                                ", public, no-transform, must-revalidate");
  if (!ans.log_message.empty()) {
    r.log_level = ans.http_status >= 500 ? LogLevel::kError : LogLevel::kInfo;
    r.log_message = ans.log_message;
  }
  return r;
}

}  // namespace

std::optional<HttpResponse> RevocationRoute(Authority& a, const HttpRequest& req,
                                            std::string_view api_path) {
  if (api_path == "/crl") return Crl(a, req);
  if (a.ocsp() != nullptr) {
    const std::string& base = a.ocsp()->config().path;
    std::string_view path = req.path;
    if (path == base) return Ocsp(a, req, "");
    if (path.size() > base.size() + 1 && path.substr(0, base.size()) == base &&
        path[base.size()] == '/')
      return Ocsp(a, req, path.substr(base.size() + 1));
  }
  return std::nullopt;
}

}  // namespace stepca
