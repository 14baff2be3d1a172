// new-account, account/<id> (update, deactivate), account/<id>/orders
// (RFC 8555 sections 7.3, 7.1.2.1).
#include <openssl/crypto.h>

#include <cstring>

#include "authority/acme/authenticate.h"
#include "authority/acme/common.h"
#include "authority/acme/resources.h"
#include "authority/acme/server.h"
#include "authority/jose/jwk.h"
#include "authority/provisioner/provisioner.h"
#include "authority/state/acme_accounts.h"
#include "authority/state/acme_orders.h"
#include "authority/x509/csr.h"

namespace stepca {
namespace acme {
namespace {

constexpr size_t kMaxContacts = 10;
constexpr size_t kOrdersPage = 100;
constexpr int kCasAttempts = 5;

JsonPtr AccountJson(const Request& r, const Account& acct) {
  JsonPtr j(json_object());
  json_object_set_new(j.get(), "status", json_string(acct.status.c_str()));
  json_t* c = json_array();
  for (auto& s : acct.contact) json_array_append_new(c, json_string(s.c_str()));
  json_object_set_new(j.get(), "contact", c);
  json_object_set_new(j.get(), "orders", json_string((r.AccountUrl(acct.id) + "/orders").c_str()));
  return j;
}

void AnswerAccount(const Request& r, const Account& acct, int status, HttpResponse* out) {
  JsonPtr j = AccountJson(r, acct);
  *out = JsonResponse(status, j.get());
  out->headers.emplace_back("Location", r.AccountUrl(acct.id));
}

// A clean-up that failed after the answer was decided: the answer stands,
// the failure goes to the log.
void NoteCleanup(HttpResponse* out, const std::string& what, const Status& st) {
  if (st.ok()) return;
  out->log_level = LogLevel::kError;
  out->log_message = "acme: " + what + ": " + st.LogText();
}

Problem ParseContacts(const json_t* payload, std::vector<std::string>* out) {
  const json_t* c = json_object_get(payload, "contact");
  if (c == nullptr || json_is_null(c)) return Problem::Ok();
  if (!json_is_array(c) || json_array_size(c) > kMaxContacts)
    return Malformed("contact must be an array of at most 10 URLs");
  size_t i;
  const json_t* v;
  out->clear();
  json_array_foreach(c, i, v) {
    if (!json_is_string(v)) return Malformed("contact entries must be strings");
    std::string s = json_string_value(v);
    if (!StartsWith(s, "mailto:")) {
      Problem p = Malformed("only mailto: contacts are supported");
      p.type = "unsupportedContact";
      return p;
    }
    if (!IsValidEmail(s.substr(7)) || s.find(',') != std::string::npos) {
      Problem p = Malformed("invalid contact " + s.substr(0, 128));
      p.type = "invalidContact";
      return p;
    }
    out->push_back(s);
  }
  return Problem::Ok();
}

Problem CheckEab(const Request& r, const json_t* payload, const std::string& thumb, std::string* kid) {
  const json_t* eab = json_object_get(payload, "externalAccountBinding");
  if (eab == nullptr || json_is_null(eab))
    return ExternalAccountRequired("this provisioner requires an external account binding");
  FlatJws inner;
  Problem p = ParseFlatJwsObject(eab, &inner);
  if (!p.ok()) return p;
  const std::string& alg = inner.jws.alg;
  if (alg != "HS256" && alg != "HS384" && alg != "HS512")
    return BadSignatureAlgorithm("the external account binding must use HS256, HS384 or HS512");
  if (inner.has_nonce) return Malformed("the external account binding must not have a nonce");
  if (inner.url != r.jws.url) return Unauthorized("the external account binding url does not match");
  if (inner.kid.empty()) return Malformed("the external account binding needs a kid");
  auto it = r.settings->eab_keys.find(inner.kid);
  if (it == r.settings->eab_keys.end()) return Unauthorized("unknown external account binding key");
  const std::string mac = HmacSign(alg, it->second, inner.jws.signing_input);
  if (mac.empty() || mac.size() != inner.jws.signature.size() ||
      CRYPTO_memcmp(mac.data(), inner.jws.signature.data(), mac.size()) != 0)
    return Unauthorized("the external account binding signature is invalid");
  auto bound = ParseJwkText(inner.payload);
  if (!bound.ok()) return Malformed("the external account binding payload is not a JWK");
  auto bt = JwkThumbprint(bound->key.get());
  if (!bt.ok() || *bt != thumb) return Unauthorized("the external account binding is for another key");
  *kid = inner.kid;
  return Problem::Ok();
}

}  // namespace

Problem NewAccount(Request& r, HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kJwk);
  if (!p.ok()) return p;
  JsonPtr payload;
  p = PayloadObject(r, &payload);
  if (!p.ok()) return p;
  auto thumb = JwkThumbprint(r.jws.jwk->key.get());
  if (!thumb.ok()) return ServerInternal(thumb.status().message());
  const std::string& prov = r.provisioner->name();
  AcmeAccounts accounts(r.store);

  auto existing = accounts.FindByKey(prov, *thumb);
  if (!existing.ok()) return FromStatus(existing.status());
  if (existing->has_value()) {
    const Account& acct = (*existing)->record;
    if (acct.status != "valid") return Unauthorized("the account is " + acct.status);
    AnswerAccount(r, acct, 200, out);
    return Problem::Ok();
  }
  if (json_is_true(json_object_get(payload.get(), "onlyReturnExisting")))
    return AccountDoesNotExist("no account exists with this key");

  Account acct;
  p = ParseContacts(payload.get(), &acct.contact);
  if (!p.ok()) return p;
  acct.id = RandomId();
  acct.provisioner = prov;
  acct.thumbprint = *thumb;
  auto key_json = JwkToJson(r.jws.jwk->key.get(), false, "", "");
  if (!key_json.ok()) return ServerInternal(key_json.status().message());
  acct.key = Dump(key_json->get());
  acct.created_at = Now3339();

  if (r.settings->require_eab) {
    p = CheckEab(r, payload.get(), *thumb, &acct.eab_kid);
    if (!p.ok()) return p;
    Status st = accounts.BindEab(prov, acct.eab_kid, acct.id);
    if (st.code() == Code::kAlreadyExists)
      return Unauthorized("the external account binding key is already bound to an account");
    if (!st.ok()) return FromStatus(st);
  }
  auto release_eab = [&]() {
    return acct.eab_kid.empty() ? Status::Ok() : accounts.UnbindEab(prov, acct.eab_kid);
  };

  // The account first, then the key index: a reader that finds the index
  // always finds the account. If another request bound this key first,
  // ours (unreachable: nobody knows its id) is withdrawn and theirs
  // returned.
  Status st = accounts.Insert(acct);
  if (!st.ok()) {
    p = FromStatus(st);
    Status undo = release_eab();
    if (!undo.ok()) p.log += "; the EAB key stays bound: " + undo.LogText();
    return p;
  }
  st = accounts.BindKey(prov, *thumb, acct.id);
  if (st.code() == Code::kAlreadyExists) {
    auto other = accounts.FindByKey(prov, *thumb);
    if (!other.ok()) return FromStatus(other.status());
    if (!other->has_value()) return ServerInternal("account key index without its account");
    AnswerAccount(r, (*other)->record, 200, out);
    NoteCleanup(out, "withdrawing account " + acct.id, accounts.Withdraw(acct.id));
    NoteCleanup(out, "releasing EAB key of account " + acct.id, release_eab());
    return Problem::Ok();
  }
  if (!st.ok()) return FromStatus(st);
  AnswerAccount(r, acct, 201, out);
  out->log_level = LogLevel::kInfo;
  out->log_message = "acme new account " + acct.id + " provisioner=\"" + prov + "\"";
  return Problem::Ok();
}

Problem UpdateAccount(Request& r, const std::string& id, HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kKid);
  if (!p.ok()) return p;
  if (r.account.record.id != id) return Unauthorized("the account URL does not match the kid");
  if (!r.PostAsGet()) {
    JsonPtr payload;
    p = PayloadObject(r, &payload);
    if (!p.ok()) return p;
    const json_t* status = json_object_get(payload.get(), "status");
    if (status != nullptr &&
        (!json_is_string(status) || std::strcmp(json_string_value(status), "deactivated") != 0))
      return Malformed("the only status a client may set is deactivated");
    std::vector<std::string> contact;
    const bool has_contact = json_object_get(payload.get(), "contact") != nullptr &&
                             !json_is_null(json_object_get(payload.get(), "contact"));
    p = ParseContacts(payload.get(), &contact);
    if (!p.ok()) return p;
    AcmeAccounts accounts(r.store);
    // Applied to the record as stored; a concurrent change (another
    // update, a key change) makes us re-read and apply again.
    for (int attempt = 0;; ++attempt) {
      Account next = r.account.record;
      if (status != nullptr) next.status = "deactivated";
      if (has_contact) next.contact = contact;
      Status st = accounts.Replace(r.account, next);
      if (st.ok()) {
        r.account.record = std::move(next);
        break;
      }
      if (st.code() != Code::kAlreadyExists) return FromStatus(st);
      if (attempt + 1 >= kCasAttempts) return Conflict("the account is being changed; retry");
      auto fresh = accounts.Load(id);
      if (!fresh.ok()) return FromStatus(fresh.status());
      if (!fresh->has_value()) return AccountDoesNotExist("no account with this kid");
      r.account = std::move(**fresh);
      if (r.account.record.status != "valid")
        return Unauthorized("the account is " + r.account.record.status);
    }
  }
  AnswerAccount(r, r.account.record, 200, out);
  return Problem::Ok();
}

Problem AccountOrders(Request& r, const std::string& id, HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kKid);
  if (!p.ok()) return p;
  if (r.account.record.id != id) return Unauthorized("the account URL does not match the kid");
  if (!r.PostAsGet()) return Malformed("the orders list is read with POST-as-GET");
  bool found = false;
  std::string cursor = QueryParam(r.http.query, "cursor", &found);
  size_t from = found ? std::strtoull(cursor.c_str(), nullptr, 10) : 0;
  size_t next = 0;
  AcmeOrders orders(r.store);
  auto ids = orders.ListForAccount(id, from, kOrdersPage, &next);
  if (!ids.ok()) return FromStatus(ids.status());
  JsonPtr list(json_array());
  for (auto& oid : *ids) {
    auto o = orders.Load(oid);
    if (!o.ok()) return FromStatus(o.status());
    if (!o->has_value()) continue;  // expired
    json_array_append_new(list.get(), json_string(r.OrderUrl(oid).c_str()));
  }
  JsonPtr body(json_object());
  json_object_set(body.get(), "orders", list.get());
  *out = JsonResponse(200, body.get());
  if (next != 0)
    out->headers.emplace_back("Link", "<" + r.AccountUrl(id) + "/orders?cursor=" +
                                          std::to_string(next) + ">;rel=\"next\"");
  return Problem::Ok();
}

}  // namespace acme
}  // namespace stepca
