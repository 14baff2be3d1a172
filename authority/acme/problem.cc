#include "authority/acme/problem.h"

#include "authority/ossl.h"

#include <utility>

namespace stepca {
namespace acme {
namespace {

Problem Make(const char* type, int status, std::string detail) {
  Problem p;
  p.type = type;
  p.status = status;
  p.detail = std::move(detail);
  return p;
}

}  // namespace

Problem Malformed(std::string d) { return Make("malformed", 400, std::move(d)); }
Problem BadNonce(std::string d) { return Make("badNonce", 400, std::move(d)); }
Problem BadSignatureAlgorithm(std::string d) { return Make("badSignatureAlgorithm", 400, std::move(d)); }
Problem Unauthorized(std::string d) { return Make("unauthorized", 403, std::move(d)); }
Problem AccountDoesNotExist(std::string d) { return Make("accountDoesNotExist", 400, std::move(d)); }
Problem RejectedIdentifier(std::string d) { return Make("rejectedIdentifier", 400, std::move(d)); }
Problem UnsupportedIdentifier(std::string d) { return Make("unsupportedIdentifier", 400, std::move(d)); }
Problem BadCsr(std::string d) { return Make("badCSR", 400, std::move(d)); }
Problem OrderNotReady(std::string d) { return Make("orderNotReady", 403, std::move(d)); }
Problem AlreadyRevoked(std::string d) { return Make("alreadyRevoked", 400, std::move(d)); }
Problem BadRevocationReason(std::string d) { return Make("badRevocationReason", 400, std::move(d)); }
Problem ExternalAccountRequired(std::string d) { return Make("externalAccountRequired", 400, std::move(d)); }
Problem Conflict(std::string d) { return Make("malformed", 409, std::move(d)); }
Problem NotFoundProblem(std::string d) { return Make("malformed", 404, std::move(d)); }

Problem ServerInternal(std::string log) {
  Problem p = Make("serverInternal", 500, "the server experienced an internal error");
  p.log = std::move(log);
  return p;
}

Problem FromStatus(const Status& st) {
  if (st.code() == Code::kUnavailable) {
    Problem p = Make("serverInternal", 503, st.message() + "; nothing was changed, please retry");
    p.log = st.LogText();
    return p;
  }
  return ServerInternal(st.LogText());
}

HttpResponse ProblemResponse(const Problem& p) {
  JsonPtr body(json_object());
  const std::string type = "urn:ietf:params:acme:error:" + p.type;
  json_object_set_new(body.get(), "type", json_string(type.c_str()));
  json_object_set_new(body.get(), "detail", json_string(p.detail.c_str()));
  HttpResponse r = JsonResponse(p.status, body.get());
  r.content_type = "application/problem+json";
  if (p.status >= 500) {
    r.log_level = LogLevel::kError;
    r.log_message = "acme " + p.type + ": " + (p.log.empty() ? p.detail : p.log);
  } else if (p.status >= 400) {
    // Like /sign: every refusal leaves one line (with the request id, added
    // by HandleHttp), so an operator can see why a client failed.
    r.log_level = LogLevel::kInfo;
    r.log_message = "acme " + p.type + ": " + p.detail + (p.log.empty() ? "" : ": " + p.log);
  }
  return r;
}

}  // namespace acme
}  // namespace stepca
