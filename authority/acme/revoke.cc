// revoke-cert and key-change (RFC 8555 sections 7.6, 7.3.5).
#include <ctime>

#include "authority/acme/authenticate.h"
#include "authority/acme/common.h"
#include "authority/acme/resources.h"
#include "authority/acme/server.h"
#include "authority/authority.h"
#include "authority/jose/jwk.h"
#include "authority/provisioner/provisioner.h"
#include "authority/state/acme_accounts.h"
#include "authority/state/acme_certificates.h"
#include "authority/state/revocations.h"
#include "authority/x509/issuer.h"
#include "shared/base64.h"

namespace stepca {
namespace acme {

Problem RevokeCert(Request& r, HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kEither);
  if (!p.ok()) return p;
  JsonPtr payload;
  p = PayloadObject(r, &payload);
  if (!p.ok()) return p;
  const json_t* c = json_object_get(payload.get(), "certificate");
  if (!json_is_string(c)) return Malformed("revokeCert needs a certificate");
  auto der = Base64UrlDecode(json_string_value(c));
  if (!der) return Malformed("the certificate is not base64url");
  const unsigned char* pp = reinterpret_cast<const unsigned char*>(der->data());
  X509Ptr cert(d2i_X509(nullptr, &pp, static_cast<long>(der->size())));
  if (!cert || pp != reinterpret_cast<const unsigned char*>(der->data()) + der->size())
    return Malformed("the certificate is not DER");
  int64_t reason = 0;
  const json_t* rj = json_object_get(payload.get(), "reason");
  if (rj != nullptr) {
    if (!json_is_integer(rj)) return BadRevocationReason("reason must be an integer");
    reason = json_integer_value(rj);
    if (reason < 0 || reason > 10 || reason == 7)
      return BadRevocationReason("unsupported revocation reason code");
  }
  const auto& intermediates = r.service.authority().config().intermediates;
  // An RA that has not learned its upstream's intermediate cannot judge.
  if (intermediates.empty()) return Unauthorized("the certificate was not issued by this CA");
  X509* issuer = intermediates[0].get();
  if (X509_check_issued(issuer, cert.get()) != X509_V_OK ||
      X509_verify(cert.get(), X509_get0_pubkey(issuer)) != 1)
    return Unauthorized("the certificate was not issued by this CA");
  const std::string serial = SerialDecimal(cert.get());
  if (r.jws.jwk) {
    if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), r.jws.jwk->key.get()) != 1)
      return Unauthorized("the JWS key is not the certificate's key");
  } else {
    auto rec = AcmeCertificates(r.store).FindBySerial(serial);
    if (!rec.ok()) return FromStatus(rec.status());
    if (!rec->has_value() || (*rec)->account != r.account.record.id)
      return Unauthorized("the account did not order this certificate");
  }
  RevocationRecord info;
  info.serial = serial;
  info.provisioner_id = r.provisioner->id();
  info.reason_code = reason;
  info.revoked_at = Clock::now();
  info.acme = true;
  struct tm tm;
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) == 1)
    info.expires_at = TimePoint(std::chrono::seconds(timegm(&tm)));
  // An upstream CA (RA mode) is told first; a local CA has nothing to tell.
  Status told = r.service.authority().ca().Revoke({serial, static_cast<int>(reason), ""});
  if (!told.ok()) return FromStatus(told);
  Status st = Revocations(r.store).Revoke(info);
  if (st.code() == Code::kAlreadyExists) return AlreadyRevoked("the certificate is already revoked");
  if (!st.ok()) return FromStatus(st);
  out->status = 200;
  out->log_level = LogLevel::kInfo;
  out->log_message = "acme revoked certificate serial=" + serial + " reason=" + std::to_string(reason);
  return Problem::Ok();
}

// The new key's index is bound first (set-if-absent: one account per key),
// then the account is swapped from the bytes authentication read, then the
// old index is dropped. A lost swap unbinds the new index again; an old
// index left behind is harmless (FindByKey checks the account's
// thumbprint) and is logged.
Problem KeyChange(Request& r, HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kKid);
  if (!p.ok()) return p;
  const Account& acct = r.account.record;
  json_error_t err;
  JsonPtr outer(json_loadb(r.jws.payload.data(), r.jws.payload.size(), JSON_REJECT_DUPLICATES, &err));
  if (!outer) return Malformed("the keyChange payload is not a JWS");
  FlatJws inner;
  p = ParseFlatJwsObject(outer.get(), &inner);
  if (!p.ok()) return p;
  if (!IsAcmeAlgorithm(inner.jws.alg)) return BadSignatureAlgorithm("unsupported inner JWS algorithm");
  if (!inner.jwk || !inner.kid.empty()) return Malformed("the inner JWS must carry the new key as jwk");
  if (inner.url != r.jws.url) return Malformed("the inner JWS url must equal the outer url");
  p = VerifyFlatJws(inner, inner.jwk->key.get());
  if (!p.ok()) return p;
  JsonPtr body(json_loadb(inner.payload.data(), inner.payload.size(), JSON_REJECT_DUPLICATES, &err));
  if (!body || !json_is_object(body.get())) return Malformed("the inner payload is not a JSON object");
  const json_t* acct_url = json_object_get(body.get(), "account");
  if (!json_is_string(acct_url) || json_string_value(acct_url) != r.AccountUrl(acct.id))
    return Unauthorized("the inner payload names another account");
  auto old_key = ParseJwk(json_object_get(body.get(), "oldKey"));
  if (!old_key.ok()) return Malformed("the inner payload needs oldKey");
  auto old_thumb = JwkThumbprint(old_key->key.get());
  if (!old_thumb.ok() || *old_thumb != acct.thumbprint)
    return Unauthorized("oldKey is not the account's key");
  auto new_thumb = JwkThumbprint(inner.jwk->key.get());
  if (!new_thumb.ok()) return ServerInternal(new_thumb.status().message());
  if (*new_thumb == acct.thumbprint) return Malformed("the new key is the current key");
  auto key_json = JwkToJson(inner.jwk->key.get(), false, "", "");
  if (!key_json.ok()) return ServerInternal(key_json.status().message());

  const std::string& prov = r.provisioner->name();
  AcmeAccounts accounts(r.store);
  Status st = accounts.BindKey(prov, *new_thumb, acct.id);
  if (st.code() == Code::kAlreadyExists) {
    // RFC 8555 asks for a Location header naming the other account; a
    // problem document carries no headers here, so only the status tells.
    return Conflict("the new key is already in use by an account");
  }
  if (!st.ok()) return FromStatus(st);
  Account next = acct;
  next.key = Dump(key_json->get());
  next.thumbprint = *new_thumb;
  st = accounts.Replace(r.account, next);
  if (!st.ok()) {
    p = st.code() == Code::kAlreadyExists ? Conflict("the account changed meanwhile; retry")
                                          : FromStatus(st);
    Status undo = accounts.UnbindKey(prov, *new_thumb);
    if (!undo.ok()) p.log += "; the new key's index is left behind: " + undo.LogText();
    return p;
  }
  const std::string old = acct.thumbprint;
  r.account.record = std::move(next);
  JsonPtr j(json_object());
  json_object_set_new(j.get(), "status", json_string(r.account.record.status.c_str()));
  json_t* c = json_array();
  for (auto& s : r.account.record.contact) json_array_append_new(c, json_string(s.c_str()));
  json_object_set_new(j.get(), "contact", c);
  json_object_set_new(j.get(), "orders",
                      json_string((r.AccountUrl(r.account.record.id) + "/orders").c_str()));
  *out = JsonResponse(200, j.get());
  out->headers.emplace_back("Location", r.AccountUrl(r.account.record.id));
  Status drop = accounts.UnbindKey(prov, old);
  if (!drop.ok()) {
    out->log_level = LogLevel::kError;
    out->log_message = "acme: the old key index of account " + r.account.record.id +
                       " is left behind: " + drop.LogText();
  }
  return Problem::Ok();
}

}  // namespace acme
}  // namespace stepca
