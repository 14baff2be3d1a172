#include "authority/acme/state.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "authority/state/acme_keys.h"
#include "shared/base64.h"

namespace stepca {
namespace acme {
namespace {

void SetStr(json_t* o, const char* k, const std::string& v) {
  if (!v.empty()) json_object_set_new(o, k, json_stringn(v.data(), v.size()));
}

std::string GetStr(const json_t* o, const char* k) {
  const json_t* v = json_object_get(o, k);
  return json_is_string(v) ? std::string(json_string_value(v), json_string_length(v)) : "";
}

json_t* StrArray(const std::vector<std::string>& v) {
  json_t* a = json_array();
  for (auto& s : v) json_array_append_new(a, json_stringn(s.data(), s.size()));
  return a;
}

std::vector<std::string> GetStrArray(const json_t* o, const char* k) {
  std::vector<std::string> out;
  const json_t* a = json_object_get(o, k);
  size_t i;
  const json_t* v;
  json_array_foreach(a, i, v) if (json_is_string(v)) out.emplace_back(json_string_value(v));
  return out;
}

json_t* IdentJson(const Identifier& id) {
  return json_pack("{s:s,s:s}", "type", id.type.c_str(), "value", id.value.c_str());
}

Identifier GetIdent(const json_t* j) { return {GetStr(j, "type"), GetStr(j, "value")}; }

std::string Dump(const json_t* j) {
  char* s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  std::string out = s ? s : "";
  std::free(s);
  return out;
}

}  // namespace

std::string RandomId() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  return Base64UrlEncode(std::string(reinterpret_cast<char*>(b), sizeof b));
}

JsonPtr ToJson(const Account& a) {
  JsonPtr j(json_object());
  SetStr(j.get(), "id", a.id);
  SetStr(j.get(), "provisioner", a.provisioner);
  SetStr(j.get(), "status", a.status);
  json_object_set_new(j.get(), "contact", StrArray(a.contact));
  SetStr(j.get(), "key", a.key);
  SetStr(j.get(), "thumbprint", a.thumbprint);
  SetStr(j.get(), "createdAt", a.created_at);
  SetStr(j.get(), "eabKid", a.eab_kid);
  return j;
}

bool FromJson(const json_t* j, Account* a) {
  if (!json_is_object(j)) return false;
  a->id = GetStr(j, "id");
  a->provisioner = GetStr(j, "provisioner");
  a->status = GetStr(j, "status");
  a->contact = GetStrArray(j, "contact");
  a->key = GetStr(j, "key");
  a->thumbprint = GetStr(j, "thumbprint");
  a->created_at = GetStr(j, "createdAt");
  a->eab_kid = GetStr(j, "eabKid");
  return !a->id.empty() && !a->key.empty();
}

JsonPtr ToJson(const Order& o) {
  JsonPtr j(json_object());
  SetStr(j.get(), "id", o.id);
  SetStr(j.get(), "account", o.account);
  SetStr(j.get(), "provisioner", o.provisioner);
  SetStr(j.get(), "status", o.status);
  SetStr(j.get(), "expires", o.expires);
  SetStr(j.get(), "notBefore", o.not_before);
  SetStr(j.get(), "notAfter", o.not_after);
  json_t* ids = json_array();
  for (auto& i : o.identifiers) json_array_append_new(ids, IdentJson(i));
  json_object_set_new(j.get(), "identifiers", ids);
  json_object_set_new(j.get(), "authzs", StrArray(o.authzs));
  SetStr(j.get(), "certificate", o.certificate);
  SetStr(j.get(), "error", o.error);
  return j;
}

bool FromJson(const json_t* j, Order* o) {
  if (!json_is_object(j)) return false;
  o->id = GetStr(j, "id");
  o->account = GetStr(j, "account");
  o->provisioner = GetStr(j, "provisioner");
  o->status = GetStr(j, "status");
  o->expires = GetStr(j, "expires");
  o->not_before = GetStr(j, "notBefore");
  o->not_after = GetStr(j, "notAfter");
  o->identifiers.clear();
  size_t i;
  const json_t* v;
  json_array_foreach(json_object_get(j, "identifiers"), i, v) o->identifiers.push_back(GetIdent(v));
  o->authzs = GetStrArray(j, "authzs");
  o->certificate = GetStr(j, "certificate");
  o->error = GetStr(j, "error");
  return !o->id.empty();
}

JsonPtr ToJson(const Authz& a) {
  JsonPtr j(json_object());
  SetStr(j.get(), "id", a.id);
  SetStr(j.get(), "account", a.account);
  SetStr(j.get(), "provisioner", a.provisioner);
  json_object_set_new(j.get(), "identifier", IdentJson(a.identifier));
  json_object_set_new(j.get(), "wildcard", json_boolean(a.wildcard));
  SetStr(j.get(), "status", a.status);
  SetStr(j.get(), "expires", a.expires);
  SetStr(j.get(), "token", a.token);
  json_t* chs = json_array();
  for (auto& c : a.challenges) {
    json_t* cj = json_object();
    SetStr(cj, "id", c.id);
    SetStr(cj, "type", c.type);
    SetStr(cj, "status", c.status);
    SetStr(cj, "validated", c.validated);
    SetStr(cj, "error", c.error);
    json_array_append_new(chs, cj);
  }
  json_object_set_new(j.get(), "challenges", chs);
  return j;
}

bool FromJson(const json_t* j, Authz* a) {
  if (!json_is_object(j)) return false;
  a->id = GetStr(j, "id");
  a->account = GetStr(j, "account");
  a->provisioner = GetStr(j, "provisioner");
  a->identifier = GetIdent(json_object_get(j, "identifier"));
  a->wildcard = json_is_true(json_object_get(j, "wildcard"));
  a->status = GetStr(j, "status");
  a->expires = GetStr(j, "expires");
  a->token = GetStr(j, "token");
  a->challenges.clear();
  size_t i;
  const json_t* v;
  json_array_foreach(json_object_get(j, "challenges"), i, v) {
    Challenge c;
    c.id = GetStr(v, "id");
    c.type = GetStr(v, "type");
    c.status = GetStr(v, "status");
    c.validated = GetStr(v, "validated");
    c.error = GetStr(v, "error");
    a->challenges.push_back(c);
  }
  return !a->id.empty();
}

JsonPtr ToJson(const CertRecord& c) {
  JsonPtr j(json_object());
  SetStr(j.get(), "id", c.id);
  SetStr(j.get(), "account", c.account);
  SetStr(j.get(), "serial", c.serial);
  SetStr(j.get(), "chain", c.chain);
  return j;
}

bool FromJson(const json_t* j, CertRecord* c) {
  if (!json_is_object(j)) return false;
  c->id = GetStr(j, "id");
  c->account = GetStr(j, "account");
  c->serial = GetStr(j, "serial");
  c->chain = GetStr(j, "chain");
  return !c->id.empty();
}

template <typename T>
Result<std::optional<T>> Load(Store& store, const std::string& key) {
  auto v = store.Get(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<T>();
  json_error_t err;
  JsonPtr j(json_loadb((*v)->data(), (*v)->size(), 0, &err));
  T t;
  if (!j || !FromJson(j.get(), &t)) return Internal("acme: corrupt store record " + key);
  return std::optional<T>(std::move(t));
}

template <typename T>
Status Save(Store& store, const std::string& key, const T& v, std::chrono::seconds ttl) {
  return store.Put(key, Dump(ToJson(v).get()), ttl);
}

template <typename T>
Status SaveIfAbsent(Store& store, const std::string& key, const T& v, std::chrono::seconds ttl) {
  return store.PutIfAbsent(key, Dump(ToJson(v).get()), ttl);
}

#define STEPCA_ACME_INSTANTIATE(T)                                                         \
  template Result<std::optional<T>> Load<T>(Store&, const std::string&);                   \
  template Status Save<T>(Store&, const std::string&, const T&, std::chrono::seconds);     \
  template Status SaveIfAbsent<T>(Store&, const std::string&, const T&, std::chrono::seconds);
STEPCA_ACME_INSTANTIATE(Account)
STEPCA_ACME_INSTANTIATE(Order)
STEPCA_ACME_INSTANTIATE(Authz)
STEPCA_ACME_INSTANTIATE(CertRecord)
#undef STEPCA_ACME_INSTANTIATE

Result<size_t> AppendAccountOrder(Store& store, const std::string& account,
                                  const std::string& order_id) {
  const std::string hint_key = acme_keys::AccountOrdersNext(account);
  size_t n = 0;
  auto hint = store.Get(hint_key);
  if (!hint.ok()) return hint.status();
  if (hint->has_value()) n = std::strtoull((*hint)->c_str(), nullptr, 10);
  for (size_t tries = 0; tries < kMaxOrderSlotsScan; ++tries, ++n) {
    Status st = store.PutIfAbsent(acme_keys::AccountOrderSlot(account, n),
                                  order_id, std::chrono::seconds(0));
    if (st.code() == Code::kAlreadyExists) continue;
    STEPCA_RETURN_IF_ERROR(st);
    // Only a hint: a racing writer may set a smaller value, which merely
    // costs the next writer a few PutIfAbsent misses.
    STEPCA_RETURN_IF_ERROR(store.Put(hint_key, std::to_string(n + 1), std::chrono::seconds(0)));
    return n;
  }
  return Internal("acme: account order list is full");
}

Result<std::vector<std::string>> ListAccountOrders(Store& store, const std::string& account,
                                                   size_t from, size_t limit, size_t* next) {
  std::vector<std::string> ids;
  *next = 0;
  for (size_t n = from; n < from + limit; ++n) {
    auto v = store.Get(acme_keys::AccountOrderSlot(account, n));
    if (!v.ok()) return v.status();
    if (!v->has_value()) return ids;
    ids.push_back(**v);
  }
  *next = from + limit;
  return ids;
}

}  // namespace acme
}  // namespace stepca
