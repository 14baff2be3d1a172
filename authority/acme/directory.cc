// directory and new-nonce (RFC 8555 sections 7.1.1, 7.2). The nonce itself
// is added to every answer by the router.
#include "authority/acme/resources.h"
#include "authority/acme/server.h"

namespace stepca {
namespace acme {

HttpResponse Directory(const Request& r) {
  const std::string& b = r.base;
  JsonPtr d(json_object());
  json_object_set_new(d.get(), "newNonce", json_string((b + "/new-nonce").c_str()));
  json_object_set_new(d.get(), "newAccount", json_string((b + "/new-account").c_str()));
  json_object_set_new(d.get(), "newOrder", json_string((b + "/new-order").c_str()));
  json_object_set_new(d.get(), "revokeCert", json_string((b + "/revoke-cert").c_str()));
  json_object_set_new(d.get(), "keyChange", json_string((b + "/key-change").c_str()));
  json_t* meta = json_object();
  if (r.settings->require_eab) json_object_set_new(meta, "externalAccountRequired", json_true());
  json_object_set_new(d.get(), "meta", meta);
  return JsonResponse(200, d.get());
}

HttpResponse NewNonce(const Request& r) {
  HttpResponse out;
  out.status = r.http.method == "HEAD" ? 200 : 204;
  return out;
}

}  // namespace acme
}  // namespace stepca
