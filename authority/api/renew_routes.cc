#include "authority/api/renew_routes.h"

#include "authority/authority.h"

namespace stepca {
namespace {

constexpr size_t kMaxReason = 1024;

// step-ca's SignResponse: crt, ca, certChain (leaf + intermediates), tlsOptions.
HttpResponse SignResponseFor(Authority& a, const IssuedCertificate& leaf) {
  JsonPtr chain(json_array());
  json_array_append_new(chain.get(), json_string(leaf.pem.c_str()));
  const std::vector<std::string>& issuers = a.ChainFor(leaf);
  for (auto& p : issuers) json_array_append_new(chain.get(), json_string(p.c_str()));
  JsonPtr out(json_object());
  json_object_set_new(out.get(), "crt", json_string(leaf.pem.c_str()));
  json_object_set_new(out.get(), "ca",
                      issuers.empty() ? json_null() : json_string(issuers[0].c_str()));
  json_object_set(out.get(), "certChain", chain.get());
  if (a.config().tls_options) json_object_set(out.get(), "tlsOptions", a.config().tls_options.get());
  return JsonResponse(201, out.get());
}

Result<JsonPtr> DecodeObject(std::string_view body) {
  json_error_t jerr;
  JsonPtr j(json_loadb(body.data(), body.size(), JSON_DISABLE_EOF_CHECK, &jerr));
  if (!j || !json_is_object(j.get()))
    return InvalidArgument("error decoding json").WithDetail(j ? "not an object" : jerr.text);
  return j;
}

Status StringField(const json_t* obj, const char* name, std::string* out) {
  const json_t* v = json_object_get(obj, name);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_string(v))
    return InvalidArgument(std::string("error decoding json: ") + name + " must be a string");
  out->assign(json_string_value(v), json_string_length(v));
  return Status::Ok();
}

}  // namespace

HttpResponse RenewRoute(Authority& a, const HttpRequest& req, bool rekey) {
  RenewRequest rr;
  rr.peer_cert_der = req.peer_cert_der;
  rr.authorization = req.authorization;
  rr.rekey = rekey;
  if (rekey) {
    // step-ca asks for the client certificate before it reads the body.
    if (req.peer_cert_der.empty())
      return ErrorResponse(InvalidArgument("missing client certificate"));
    auto body = DecodeObject(req.body);
    if (!body.ok()) return ErrorResponse(body.status());
    Status st = StringField(body->get(), "csr", &rr.csr_pem);
    if (!st.ok()) return ErrorResponse(st);
  }
  const char* what = rekey ? "rekey" : "renew";
  auto result = a.policy().Renew(rr);
  if (!result.ok()) {
    // A failure without a status of its own is step-ca's 500.
    return ErrorResponse(result.status().Wrap(what));
  }
  HttpResponse r = SignResponseFor(a, result->leaf);
  r.log_level = LogLevel::kInfo;
  r.log_message = std::string(rekey ? "rekeyed" : "renewed") +
                  " certificate serial=" + result->leaf.serial + " provisioner=\"" +
                  result->provisioner + "\" by " +
                  (req.peer_cert_der.empty() ? "renew token" : "client certificate");
  return r;
}

HttpResponse RevokeRoute(Authority& a, const HttpRequest& req) {
  auto body = DecodeObject(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  RevokeRequest rr;
  rr.peer_cert_der = req.peer_cert_der;
  Status st = StringField(body->get(), "serial", &rr.serial);
  if (st.ok()) st = StringField(body->get(), "ott", &rr.ott);
  if (st.ok()) st = StringField(body->get(), "reason", &rr.reason);
  if (!st.ok()) return ErrorResponse(st);
  const json_t* code = json_object_get(body->get(), "reasonCode");
  if (code != nullptr && !json_is_null(code)) {
    if (!json_is_integer(code))
      return ErrorResponse(InvalidArgument("error decoding json: reasonCode must be an integer"));
    rr.reason_code = json_integer_value(code);
  }
  const json_t* passive = json_object_get(body->get(), "passive");
  if (passive != nullptr && !json_is_null(passive)) {
    if (!json_is_boolean(passive))
      return ErrorResponse(InvalidArgument("error decoding json: passive must be a boolean"));
    rr.passive = json_is_true(passive);
  }
  if (rr.reason.size() > kMaxReason) return ErrorResponse(InvalidArgument("reason is too long"));

  auto serial = a.policy().Revoke(rr);
  if (!serial.ok()) {
    HttpResponse r = ErrorResponse(serial.status().Wrap("revoke"));
    // passive: false is the client's choice, not the CA's failure.
    if (r.status == 501) r.log_level = LogLevel::kInfo;
    return r;
  }
  JsonPtr out(json_pack("{s:s}", "status", "ok"));
  HttpResponse r = JsonResponse(200, out.get());
  r.log_level = LogLevel::kInfo;
  r.log_message = "revoked certificate serial=" + serial.value() +
                  " reasonCode=" + std::to_string(rr.reason_code) + " by " +
                  (rr.ott.empty() ? "client certificate" : "token");
  return r;
}

}  // namespace stepca
