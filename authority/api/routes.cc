// step-ca's CA API routes, each also under /1.0; HEAD is served as GET.
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "authority/acme/server.h"
#include "authority/admin/admin_routes.h"
#include "authority/admin/admin_service.h"
#include "authority/api/http.h"
#include "authority/api/json_log.h"
#include "authority/api/renew_routes.h"
#include "authority/api/router.h"
#include "authority/api/ssh_routes.h"
#include "authority/authority.h"
#include "authority/metrics.h"
#include "authority/revocation/routes.h"
#include "authority/uuid.h"

namespace stepca {
namespace {

constexpr size_t kDefaultPageSize = 20;
constexpr size_t kMaxPageSize = 100;

// A request id is echoed only when it is short printable text.
bool UsableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

HttpResponse CertList(int status, const std::vector<const std::vector<std::string>*>& lists) {
  JsonPtr crts(json_array());
  for (auto* l : lists)
    for (auto& pem : *l) json_array_append_new(crts.get(), json_string(pem.c_str()));
  JsonPtr body(json_object());
  json_object_set(body.get(), "crts", crts.get());
  return JsonResponse(status, body.get());
}

HttpResponse PemBundle(const std::vector<std::string>& pems) {
  HttpResponse r;
  r.content_type = "application/x-pem-file";
  for (auto& p : pems) r.body += p;
  return r;
}

class Router {
 public:
  Router(Authority& a, const HttpRequest& r) : a_(a), req_(r) {}

  HttpResponse Route() {
    if (acme::IsAcmePath(req_.path)) return a_.acme().Handle(req_);
    if (auto r = AdminRoute(a_, req_)) return std::move(*r);
    std::string_view path = req_.path;
    if (path == "/1.0") path = "/";
    else if (path.substr(0, 5) == "/1.0/") path.remove_prefix(4);
    const bool get = req_.method == "GET" || req_.method == "HEAD";
    const bool post = req_.method == "POST";

    if (path == "/health") return get ? Health() : MethodNotAllowed();
    if (path == "/version") return get ? Version() : MethodNotAllowed();
    if (path == "/roots") return get ? CertList(201, {&a_.root_pems()}) : MethodNotAllowed();
    if (path == "/roots.pem") return get ? PemBundle(a_.root_pems()) : MethodNotAllowed();
    if (path == "/federation")
      return get ? CertList(201, {&a_.root_pems(), &a_.federated_pems()}) : MethodNotAllowed();
    if (path == "/intermediates") {
      if (!get) return MethodNotAllowed();
      if (a_.intermediate_pems().empty()) return ErrorResponse(Unimplemented("no intermediates"));
      return CertList(201, {&a_.intermediate_pems()});
    }
    if (path == "/intermediates.pem") {
      if (!get) return MethodNotAllowed();
      if (a_.intermediate_pems().empty()) return ErrorResponse(Unimplemented("no intermediates"));
      return PemBundle(a_.intermediate_pems());
    }
    if (path == "/provisioners") return get ? Provisioners() : MethodNotAllowed();
    if (path == "/sign") return post ? Sign() : MethodNotAllowed();
    if (path == "/renew" || path == "/re-sign")
      return post ? RenewRoute(a_, req_, false) : MethodNotAllowed();
    if (path == "/rekey") return post ? RenewRoute(a_, req_, true) : MethodNotAllowed();
    if (path == "/revoke") return post ? RevokeRoute(a_, req_) : MethodNotAllowed();
    if (IsSshPath(path)) return SshRoute(a_, req_, path);
    if (auto r = RevocationRoute(a_, req_, path)) return std::move(*r);

    // One-segment parameters.
    if (path.substr(0, 6) == "/root/" && path.size() > 6 &&
        path.find('/', 6) == std::string_view::npos)
      return get ? RootBySha(path.substr(6)) : MethodNotAllowed();
    static constexpr std::string_view kEnc = "/encrypted-key";
    if (path.substr(0, 14) == "/provisioners/" && path.size() > 14 + kEnc.size() &&
        path.substr(path.size() - kEnc.size()) == kEnc) {
      std::string_view kid = path.substr(14, path.size() - 14 - kEnc.size());
      if (kid.find('/') == std::string_view::npos)
        return get ? EncryptedKey(kid) : MethodNotAllowed();
    }
    return NotFoundText();
  }

 private:
  HttpResponse Health() {
    JsonPtr body(json_pack("{s:s}", "status", "ok"));
    return JsonResponse(200, body.get());
  }

  HttpResponse Version() {
    JsonPtr body(json_pack("{s:s}", "version", a_.version().c_str()));
    return JsonResponse(200, body.get());
  }

  HttpResponse RootBySha(std::string_view sha) {
    std::string clean;
    for (char c : sha) {
      if (c != '-') clean.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    const auto& fps = a_.fingerprints();
    for (size_t i = 0; i < fps.size(); ++i) {
      if (fps[i] != clean) continue;
      const size_t nroots = a_.root_pems().size();
      const std::string& pem =
          i < nroots ? a_.root_pems()[i] : a_.federated_pems()[i - nroots];
      JsonPtr body(json_pack("{s:s}", "ca", pem.c_str()));
      return JsonResponse(200, body.get());
    }
    return ErrorResponse(NotFound("certificate with fingerprint " + clean.substr(0, 64) +
                                  " was not found"));
  }

  HttpResponse Provisioners() {
    bool found = false;
    std::string cursor = QueryParam(req_.query, "cursor", &found);
    std::string limit_s = QueryParam(req_.query, "limit", &found);
    size_t limit = kDefaultPageSize;
    if (found && !limit_s.empty()) {
      char* end = nullptr;
      long v = std::strtol(limit_s.c_str(), &end, 10);
      if (end == limit_s.c_str() || *end != '\0' || limit_s.size() > 9)
        return ErrorResponse(InvalidArgument("limit '" + limit_s.substr(0, 32) + "' is not an integer"));
      if (v > 0) limit = static_cast<size_t>(v);
    }
    if (limit > kMaxPageSize) limit = kMaxPageSize;
    std::string next;
    auto page = a_.config().provisioners.Page(cursor, limit, &next);
    JsonPtr list(json_array());
    for (auto* p : page) json_array_append(list.get(), const_cast<json_t*>(p->json()));
    JsonPtr body(json_object());
    json_object_set(body.get(), "provisioners", list.get());
    json_object_set_new(body.get(), "nextCursor", json_string(next.c_str()));
    return JsonResponse(200, body.get());
  }

  HttpResponse EncryptedKey(std::string_view kid) {
    const JwkProvisioner* p = a_.config().provisioners.JwkByKid(std::string(kid));
    if (p == nullptr || p->encrypted_key().empty())
      return ErrorResponse(NotFound("encrypted key with kid " + std::string(kid.substr(0, 128)) +
                                    " was not found"));
    JsonPtr body(json_pack("{s:s}", "key", p->encrypted_key().c_str()));
    return JsonResponse(200, body.get());
  }

  static Status StringMember(const json_t* obj, const char* name, std::string* out) {
    const json_t* v = json_object_get(obj, name);
    if (v == nullptr || json_is_null(v)) return Status::Ok();
    if (!json_is_string(v)) return InvalidArgument(std::string("error decoding json: ") + name + " must be a string");
    out->assign(json_string_value(v), json_string_length(v));
    return Status::Ok();
  }

  static Status TimeMember(const json_t* obj, const char* name, TimeDuration* out) {
    std::string s;
    STEPCA_RETURN_IF_ERROR(StringMember(obj, name, &s));
    auto td = ParseTimeDuration(s);
    if (!td) return InvalidArgument(std::string("error decoding json: invalid ") + name + " \"" + s.substr(0, 64) + "\"");
    *out = *td;
    return Status::Ok();
  }

  HttpResponse Sign() {
    json_error_t jerr;
    JsonPtr body(json_loadb(req_.body.data(), req_.body.size(), JSON_DISABLE_EOF_CHECK, &jerr));
    if (!body || !json_is_object(body.get()))
      return ErrorResponse(InvalidArgument("error decoding json").WithDetail(body ? "not an object" : jerr.text));
    SignRequest sr;
    Status st = StringMember(body.get(), "csr", &sr.csr_pem);
    if (st.ok()) st = StringMember(body.get(), "ott", &sr.ott);
    if (st.ok()) st = TimeMember(body.get(), "notBefore", &sr.not_before);
    if (st.ok()) st = TimeMember(body.get(), "notAfter", &sr.not_after);
    if (!st.ok()) return ErrorResponse(st);
    if (const json_t* td = json_object_get(body.get(), "templateData"); td && !json_is_null(td)) {
      char* text = json_dumps(td, JSON_COMPACT | JSON_ENCODE_ANY);
      if (text != nullptr) sr.template_data = text;
      free(text);
    }

    auto result = a_.policy().Sign(sr);
    if (!result.ok()) return ErrorResponse(result.status().Wrap("sign"));

    const IssuedCertificate& leaf = result->leaf;
    JsonPtr chain(json_array());
    json_array_append_new(chain.get(), json_string(leaf.pem.c_str()));
    const std::vector<std::string>& issuers = a_.ChainFor(leaf);
    for (auto& p : issuers) json_array_append_new(chain.get(), json_string(p.c_str()));
    JsonPtr out(json_object());
    json_object_set_new(out.get(), "crt", json_string(leaf.pem.c_str()));
    json_object_set_new(out.get(), "ca",
                        issuers.empty() ? json_null() : json_string(issuers[0].c_str()));
    json_object_set(out.get(), "certChain", chain.get());
    json_object_set(out.get(), "tlsOptions", a_.config().tls_options.get());
    HttpResponse r = JsonResponse(201, out.get());
    r.log_level = LogLevel::kInfo;
    char na[64] = "";
    const ASN1_TIME* t = X509_get0_notAfter(leaf.cert.get());
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (ASN1_TIME_print(bio.get(), t) == 1) {
      int n = BIO_read(bio.get(), na, sizeof na - 1);
      na[n > 0 ? n : 0] = '\0';
    }
    r.log_message = "issued certificate serial=" + leaf.serial + " provisioner=\"" +
                    result->provisioner + "\" not-after=\"" + na + "\"";
    return r;
  }

  Authority& a_;
  const HttpRequest& req_;
};

}  // namespace

HttpResponse HandleHttp(Authority& authority, const HttpRequest& request) {
  // A provisioner added or removed on any node is in effect from here on.
  Status refreshed = authority.admin() ? authority.admin()->Refresh() : Status::Ok();
  HttpResponse resp = Router(authority, request).Route();
  if (!refreshed.ok() && resp.log_message.empty()) {
    resp.log_level = LogLevel::kWarn;
    resp.log_message = "admin: provisioners not refreshed: " + refreshed.LogText();
  }
  authority.metrics().Request(request.path, resp.status);
  std::string id;
  if (UsableRequestId(request.request_id)) id = request.request_id;
  else if (UsableRequestId(request.legacy_request_id)) id = request.legacy_request_id;
  else id = NewUuidV4();
  resp.headers.emplace_back("X-Request-Id", id);
  if (!resp.log_message.empty() && authority.config().logger_format == "json")
    resp.log_message = JsonLogLine(resp.log_level, id, resp.status, request.method, request.path,
                                   resp.log_message);
  else if (!resp.log_message.empty())
    resp.log_message = std::to_string(resp.status) + " " + std::string(request.method) +
                       " " + std::string(request.path.substr(0, 256)) + " request-id=" + id + ": " +
                       resp.log_message;
  return resp;
}

}  // namespace stepca
