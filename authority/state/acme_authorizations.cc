#include "authority/state/acme_authorizations.h"

#include "authority/state/acme_orders.h"
#include "authority/state/record_json.h"

namespace stepca {

std::string AcmeAuthorizations::Key(std::string_view id) { return "acme_authz/" + std::string(id); }

std::string AcmeAuthorizations::Encode(const acme::Authz& a) {
  using namespace state_json;
  JsonPtr j(json_object());
  SetNonEmpty(j.get(), "id", a.id);
  SetNonEmpty(j.get(), "account", a.account);
  SetNonEmpty(j.get(), "provisioner", a.provisioner);
  json_object_set_new(j.get(), "identifier",
                      json_pack("{s:s,s:s}", "type", a.identifier.type.c_str(), "value",
                                a.identifier.value.c_str()));
  json_object_set_new(j.get(), "wildcard", json_boolean(a.wildcard));
  SetNonEmpty(j.get(), "status", a.status);
  SetNonEmpty(j.get(), "expires", a.expires);
  SetNonEmpty(j.get(), "token", a.token);
  json_t* chs = json_array();
  for (const auto& c : a.challenges) {
    json_t* cj = json_object();
    SetNonEmpty(cj, "id", c.id);
    SetNonEmpty(cj, "type", c.type);
    SetNonEmpty(cj, "status", c.status);
    SetNonEmpty(cj, "validated", c.validated);
    SetNonEmpty(cj, "error", c.error);
    SetNonEmpty(cj, "processingSince", c.processing_since);
    json_array_append_new(chs, cj);
  }
  json_object_set_new(j.get(), "challenges", chs);
  return Dump(j.get());
}

std::optional<acme::Authz> AcmeAuthorizations::Decode(std::string_view bytes) {
  using namespace state_json;
  JsonPtr j = LoadObject(bytes);
  if (!j) return std::nullopt;
  acme::Authz a;
  a.id = String(j.get(), "id");
  a.account = String(j.get(), "account");
  a.provisioner = String(j.get(), "provisioner");
  const json_t* ident = json_object_get(j.get(), "identifier");
  a.identifier = {String(ident, "type"), String(ident, "value")};
  a.wildcard = json_is_true(json_object_get(j.get(), "wildcard"));
  a.status = String(j.get(), "status");
  a.expires = String(j.get(), "expires");
  a.token = String(j.get(), "token");
  size_t i;
  const json_t* v;
  json_array_foreach(json_object_get(j.get(), "challenges"), i, v) {
    acme::Challenge c;
    c.id = String(v, "id");
    c.type = String(v, "type");
    c.status = String(v, "status");
    c.validated = String(v, "validated");
    c.error = String(v, "error");
    c.processing_since = String(v, "processingSince");
    a.challenges.push_back(std::move(c));
  }
  if (a.id.empty()) return std::nullopt;
  return a;
}

Result<std::optional<Stored<acme::Authz>>> AcmeAuthorizations::Load(std::string_view id) {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(Key(id)));
  if (!bytes) return std::optional<Stored<acme::Authz>>();
  auto a = Decode(*bytes);
  if (!a) return Internal("acme: damaged authorization record " + std::string(id));
  return std::optional<Stored<acme::Authz>>(Stored<acme::Authz>{std::move(*a), std::move(*bytes)});
}

Status AcmeAuthorizations::Insert(const acme::Authz& authz) {
  return store_.PutIfAbsent(Key(authz.id), Encode(authz), acme::kObjectTtl);
}

Status AcmeAuthorizations::Replace(const Stored<acme::Authz>& from, const acme::Authz& next) {
  return store_.CompareAndSwap(Key(from.record.id), from.bytes, Encode(next), acme::kObjectTtl);
}

}  // namespace stepca
