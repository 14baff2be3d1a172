#include "authority/acme/authenticate.h"

#include "authority/acme/common.h"
#include "authority/acme/server.h"
#include "authority/provisioner/provisioner.h"
#include "authority/state/acme_nonces.h"

namespace stepca {
namespace acme {

Problem Authenticate(Request* r, KeyMode mode) {
  Problem p = ParseFlatJws(r->http.body, mode, &r->jws);
  if (!p.ok()) return p;
  if (r->jws.url != r->origin + std::string(r->http.path))
    return Unauthorized("the JWS url does not match the request URL");
  EVP_PKEY* key = nullptr;
  if (r->jws.jwk) {
    key = r->jws.jwk->key.get();
  } else {
    const std::string prefix = r->base + "/account/";
    const std::string& kid = r->jws.kid;
    if (!StartsWith(kid, prefix) || kid.size() == prefix.size() || kid.size() > prefix.size() + 64)
      return AccountDoesNotExist("kid is not an account URL of this server");
    const std::string id = kid.substr(prefix.size());
    if (id.find('/') != std::string::npos)
      return AccountDoesNotExist("kid is not an account URL of this server");
    auto acct = AcmeAccounts(r->store).Load(id);
    if (!acct.ok()) return FromStatus(acct.status());
    if (!acct->has_value() || (*acct)->record.provisioner != r->provisioner->name())
      return AccountDoesNotExist("no account with this kid");
    r->account = std::move(**acct);
    auto k = ParseJwkText(r->account.record.key);
    if (!k.ok()) return ServerInternal("stored account key: " + k.status().message());
    r->account_key = std::move(k->key);
    key = r->account_key.get();
  }
  p = VerifyFlatJws(r->jws, key);
  if (!p.ok()) return p;
  if (!r->jws.has_nonce || r->jws.nonce.empty()) return BadNonce("the JWS has no nonce");
  auto spent = AcmeNonces(r->store).Spend(r->jws.nonce);
  if (!spent.ok()) return FromStatus(spent.status());
  if (!*spent) return BadNonce("the nonce is unknown, expired or already used");
  if (!r->jws.jwk && r->account.record.status != "valid")
    return Unauthorized("the account is " + r->account.record.status);
  return Problem::Ok();
}

Problem PayloadObject(const Request& r, JsonPtr* out) {
  json_error_t err;
  out->reset(json_loadb(r.jws.payload.data(), r.jws.payload.size(), JSON_REJECT_DUPLICATES, &err));
  if (!*out || !json_is_object(out->get())) return Malformed("the JWS payload is not a JSON object");
  return Problem::Ok();
}

}  // namespace acme
}  // namespace stepca
