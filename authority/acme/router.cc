#include "authority/acme/router.h"

#include <strings.h>

#include <vector>

#include "authority/acme/common.h"
#include "authority/acme/resources.h"
#include "authority/acme/server.h"
#include "authority/authority.h"
#include "authority/state/acme_nonces.h"

namespace stepca {
namespace acme {
namespace {

HttpResponse MethodNotAllowedProblem() {
  Problem p = Malformed("method not allowed");
  p.status = 405;
  return ProblemResponse(p);
}

// The configured base URL; else https:// + Host when its host part is one
// of ca.json's dnsNames; else https:// + dnsNames[0]. A Host is never
// echoed unless it names this CA.
std::string Origin(Service& s, const HttpRequest& req) {
  if (!s.base_url().empty()) return s.base_url();
  const auto& names = s.authority().config().dns_names;
  std::string host(req.host);
  std::string hostname = host;
  bool ok = !host.empty() && host.size() <= 260;
  if (ok && host[0] == '[') {
    size_t e = host.find(']');
    ok = e != std::string::npos;
    if (ok) {
      hostname = host.substr(1, e - 1);
      std::string port = host.substr(e + 1);
      ok = port.empty() || (port[0] == ':' && port.size() > 1 &&
                            port.find_first_not_of("0123456789", 1) == std::string::npos);
    }
  } else if (ok) {
    size_t c = host.find(':');
    if (c != std::string::npos) {
      hostname = host.substr(0, c);
      std::string port = host.substr(c + 1);
      ok = !port.empty() && port.size() <= 5 &&
           port.find_first_not_of("0123456789") == std::string::npos;
    }
  }
  if (ok) {
    for (auto& n : names)
      if (strcasecmp(n.c_str(), hostname.c_str()) == 0) return "https://" + host;
  }
  return "https://" + (names.empty() ? std::string("localhost") : names[0]);
}

HttpResponse Dispatch(Request& r, std::string_view rest) {
  const HttpRequest& req = r.http;
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";
  if (rest == "directory") return get ? Directory(r) : MethodNotAllowedProblem();
  if (rest == "new-nonce") return get ? NewNonce(r) : MethodNotAllowedProblem();
  std::vector<std::string> seg;
  for (size_t i = 0; i <= rest.size();) {
    size_t e = rest.find('/', i);
    if (e == std::string_view::npos) e = rest.size();
    seg.emplace_back(rest.substr(i, e - i));
    i = e + 1;
  }
  const bool known =
      rest == "new-account" || rest == "new-order" || rest == "revoke-cert" ||
      rest == "key-change" || (seg.size() == 2 && (seg[0] == "account" || seg[0] == "order" ||
                                                   seg[0] == "authz" || seg[0] == "certificate")) ||
      (seg.size() == 3 && ((seg[0] == "account" && seg[2] == "orders") ||
                           (seg[0] == "order" && seg[2] == "finalize") || seg[0] == "challenge"));
  if (!known) return ProblemResponse(NotFoundProblem("no such ACME resource"));
  if (!post) return MethodNotAllowedProblem();
  std::string_view ct = req.content_type;
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  // Size first: an absent header is an empty view whose data() may be null,
  // which strncasecmp must not be given.
  constexpr std::string_view kJose = "application/jose+json";
  if (ct.size() != kJose.size() || strncasecmp(ct.data(), kJose.data(), kJose.size()) != 0) {
    Problem p = Malformed("Content-Type must be application/jose+json");
    p.status = 415;
    return ProblemResponse(p);
  }
  for (auto& s : seg)
    if (s.empty() || s.size() > 64) return ProblemResponse(NotFoundProblem("no such ACME resource"));

  HttpResponse out;
  Problem p;
  if (rest == "new-account") p = NewAccount(r, &out);
  else if (rest == "new-order") p = NewOrder(r, &out);
  else if (rest == "revoke-cert") p = RevokeCert(r, &out);
  else if (rest == "key-change") p = KeyChange(r, &out);
  else if (seg[0] == "account" && seg.size() == 2) p = UpdateAccount(r, seg[1], &out);
  else if (seg[0] == "account") p = AccountOrders(r, seg[1], &out);
  else if (seg[0] == "order" && seg.size() == 2) p = GetOrder(r, seg[1], &out);
  else if (seg[0] == "order") p = Finalize(r, seg[1], &out);
  else if (seg[0] == "authz") p = GetAuthz(r, seg[1], &out);
  else if (seg[0] == "challenge") p = PostChallenge(r, seg[1], seg[2], &out);
  else p = GetCertificate(r, seg[1], &out);
  return p.ok() ? out : ProblemResponse(p);
}

}  // namespace

bool IsAcmePath(std::string_view path) {
  return StartsWith(path, "/acme/") || StartsWith(path, "/2.0/acme/");
}

HttpResponse Route(Service& service, const HttpRequest& req) {
  std::string_view path = req.path;
  std::string_view prefix = StartsWith(path, "/2.0/acme/") ? "/2.0/acme/" : "/acme/";
  path.remove_prefix(prefix.size());
  const size_t slash = path.find('/');
  const std::string name(path.substr(0, slash));
  const std::string_view rest = slash == std::string_view::npos ? "" : path.substr(slash + 1);
  Request r(service, service.store(), req);
  r.provisioner = service.authority().config().provisioners.ByName(name);
  if (r.provisioner == nullptr || r.provisioner->type() != ProvisionerType::kAcme) {
    // step-ca's answer (wire fixture acme-directory-unknown-provisioner).
    JsonPtr body(json_pack("{s:s,s:s,s:s}", "type", "notFound", "detail", "resource not found",
                           "message", ("provisioner " + name.substr(0, 128) + " not found").c_str()));
    return JsonResponse(404, body.get());
  }
  r.settings = &service.Settings(*r.provisioner);
  r.origin = Origin(service, req);
  r.base = r.origin + std::string(prefix.substr(0, prefix.size() - 1)) + "/" + PathEscape(name);

  HttpResponse resp = Dispatch(r, rest);
  auto nonce = AcmeNonces(r.store).Issue();
  if (!nonce.ok()) {
    resp = ProblemResponse(FromStatus(nonce.status()));
  } else {
    resp.headers.emplace_back("Replay-Nonce", *nonce);
  }
  resp.headers.emplace_back("Link", "<" + r.base + "/directory>;rel=\"index\"");
  resp.headers.emplace_back("Cache-Control", "no-store");
  return resp;
}

}  // namespace acme
}  // namespace stepca
