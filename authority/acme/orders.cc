// new-order and order/<id> (RFC 8555 sections 7.4, 7.1.3).
#include <algorithm>
#include <cstring>
#include <set>

#include "authority/acme/authenticate.h"
#include "authority/acme/common.h"
#include "authority/acme/resources.h"
#include "authority/acme/server.h"
#include "authority/authority.h"
#include "authority/provisioner/provisioner.h"
#include "authority/state/acme_authorizations.h"
#include "authority/x509/csr.h"
#include "authority/x509/validity.h"

namespace stepca {
namespace acme {
namespace {

Problem ParseIdentifiers(const json_t* payload, std::vector<Identifier>* out) {
  const json_t* ids = json_object_get(payload, "identifiers");
  if (!json_is_array(ids) || json_array_size(ids) == 0)
    return Malformed("identifiers must be a non-empty array");
  if (json_array_size(ids) > kMaxSans) return RejectedIdentifier("too many identifiers");
  std::set<std::string> seen;
  size_t i;
  const json_t* v;
  json_array_foreach(ids, i, v) {
    const json_t* t = json_object_get(v, "type");
    const json_t* val = json_object_get(v, "value");
    if (!json_is_string(t) || !json_is_string(val))
      return Malformed("identifiers need type and value strings");
    std::string type = json_string_value(t);
    std::string value(json_string_value(val), json_string_length(val));
    if (value.size() > kMaxNameLength || value.find('\0') != std::string::npos)
      return RejectedIdentifier("identifier value is too long or not printable");
    Identifier id;
    if (type == "dns") {
      value = Lower(value);
      if (!IsValidDnsName(value) || value.back() == '.')
        return RejectedIdentifier("invalid DNS identifier " + value.substr(0, 64));
      if (!CanonicalIp(value).empty()) return RejectedIdentifier("an IP address is not a dns identifier");
      id = {"dns", value};
    } else if (type == "ip") {
      std::string c = CanonicalIp(value);
      if (c.empty()) return RejectedIdentifier("invalid IP identifier " + value.substr(0, 64));
      id = {"ip", c};
    } else {
      return UnsupportedIdentifier("identifier type " + type.substr(0, 32) + " is not supported");
    }
    if (seen.insert(id.type + ":" + id.value).second) out->push_back(id);
  }
  return Problem::Ok();
}

std::vector<std::string> ChallengeTypes(const Request& r, const Identifier& id, bool wildcard) {
  std::vector<std::string> types;
  if (id.type == "dns") {
    if (!wildcard) types = {"http-01", "dns-01", "tls-alpn-01"};
    else types = {"dns-01"};
  } else {
    types = {"http-01", "tls-alpn-01"};
  }
  const auto& allowed = r.settings->challenges;
  if (allowed.empty()) return types;
  std::vector<std::string> out;
  for (auto& t : types)
    if (std::find(allowed.begin(), allowed.end(), t) != allowed.end()) out.push_back(t);
  return out;
}

}  // namespace

Problem NewOrder(Request& r, HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kKid);
  if (!p.ok()) return p;
  JsonPtr payload;
  p = PayloadObject(r, &payload);
  if (!p.ok()) return p;
  Order order;
  p = ParseIdentifiers(payload.get(), &order.identifiers);
  if (!p.ok()) return p;
  // Name policies (the provisioner's, then the authority's) refuse here,
  // before any authorization is made, as step-ca does.
  const NamePolicies& policies = r.service.authority().policy().name_policies();
  for (const auto& ident : order.identifiers) {
    Status allowed = policies.CheckIdentifier(r.provisioner, ident.type, ident.value);
    if (!allowed.ok()) return RejectedIdentifier(allowed.message());
  }
  for (const char* f : {"notBefore", "notAfter"}) {
    const json_t* v = json_object_get(payload.get(), f);
    if (v == nullptr || json_is_null(v)) continue;
    // Go's zero time.Time, which step 0.19 sends for "not asked for";
    // step-ca reads it as unset (IsZero).
    if (json_is_string(v) && std::strcmp(json_string_value(v), "0001-01-01T00:00:00Z") == 0)
      continue;
    if (!json_is_string(v) || !ParseRfc3339(json_string_value(v)))
      return Malformed(std::string(f) + " must be an RFC 3339 time");
    (std::strcmp(f, "notBefore") == 0 ? order.not_before : order.not_after) = json_string_value(v);
  }
  if (!order.not_before.empty() && !order.not_after.empty() &&
      *ParseRfc3339(order.not_after) <= *ParseRfc3339(order.not_before))
    return Malformed("notAfter must be after notBefore");
  // The lifetime asked for, against the provisioner's limits now rather than
  // only at finalize. Without backdate: the finalize-time window (later,
  // backdated) is never longer than this one.
  if (!order.not_before.empty() || !order.not_after.empty()) {
    TimeDuration nb, na;
    if (!order.not_before.empty()) nb = *ParseTimeDuration(order.not_before);
    if (!order.not_after.empty()) na = *ParseTimeDuration(order.not_after);
    const TimePoint at = Clock::now();
    auto v = ComputeValidity(at, nb, na, r.provisioner->claims(), Duration::zero(),
                             at + std::chrono::hours(24 * 365 * 100));
    if (!v.ok()) return Malformed(v.status().message());
  }

  const std::string& account = r.account.record.id;
  const TimePoint now = Clock::now();
  order.id = RandomId();
  order.account = account;
  order.provisioner = r.provisioner->name();
  order.expires = FormatRfc3339(now + kOrderLifetime);
  std::vector<Authz> authzs;
  for (const auto& ident : order.identifiers) {
    Authz az;
    az.id = RandomId();
    az.account = account;
    az.provisioner = r.provisioner->name();
    az.wildcard = ident.type == "dns" && StartsWith(ident.value, "*.");
    az.identifier = {ident.type, az.wildcard ? ident.value.substr(2) : ident.value};
    az.expires = order.expires;
    az.token = RandomId() + RandomId();
    for (auto& t : ChallengeTypes(r, az.identifier, az.wildcard)) {
      Challenge c;
      c.id = RandomId();
      c.type = t;
      az.challenges.push_back(c);
    }
    if (az.challenges.empty())
      return RejectedIdentifier("no challenge type of this provisioner fits " + ident.value);
    order.authzs.push_back(az.id);
    authzs.push_back(std::move(az));
  }
  // Authorizations, then the order, then the account's list: each record
  // is written before anything that names it. A failure part way leaves
  // only records nobody names, which expire with their TTL.
  AcmeAuthorizations authz_store(r.store);
  for (const auto& az : authzs) {
    Status st = authz_store.Insert(az);
    if (!st.ok()) return FromStatus(st);
  }
  AcmeOrders orders(r.store);
  Status st = orders.Insert(order);
  if (!st.ok()) return FromStatus(st);
  auto slot = orders.AppendToAccount(account, order.id);
  if (!slot.ok()) return FromStatus(slot.status());
  JsonPtr j;
  p = OrderJson(r, order, &j);
  if (!p.ok()) return p;
  *out = JsonResponse(201, j.get());
  out->headers.emplace_back("Location", r.OrderUrl(order.id));
  return Problem::Ok();
}

Problem OrderStatus(Request& r, const Order& o, std::string* status) {
  const bool live_processing = o.status == "processing" && !ProcessingIsStale(o.processing_since);
  if (live_processing || o.status == "valid" || o.status == "invalid") {
    *status = o.status;
    return Problem::Ok();
  }
  if (Expired(o.expires)) {
    *status = "invalid";
    return Problem::Ok();
  }
  AcmeAuthorizations authzs(r.store);
  bool all_valid = true;
  for (auto& id : o.authzs) {
    auto az = authzs.Load(id);
    if (!az.ok()) return FromStatus(az.status());
    if (!az->has_value() || (*az)->record.status == "invalid" ||
        (*az)->record.status == "deactivated") {
      *status = "invalid";
      return Problem::Ok();
    }
    all_valid = all_valid && (*az)->record.status == "valid";
  }
  *status = all_valid ? "ready" : "pending";
  return Problem::Ok();
}

Problem OrderJson(Request& r, const Order& o, JsonPtr* out) {
  std::string status;
  Problem p = OrderStatus(r, o, &status);
  if (!p.ok()) return p;
  JsonPtr j(json_object());
  json_object_set_new(j.get(), "status", json_string(status.c_str()));
  json_object_set_new(j.get(), "expires", json_string(o.expires.c_str()));
  json_t* ids = json_array();
  for (auto& i : o.identifiers)
    json_array_append_new(ids, json_pack("{s:s,s:s}", "type", i.type.c_str(), "value", i.value.c_str()));
  json_object_set_new(j.get(), "identifiers", ids);
  if (!o.not_before.empty()) json_object_set_new(j.get(), "notBefore", json_string(o.not_before.c_str()));
  if (!o.not_after.empty()) json_object_set_new(j.get(), "notAfter", json_string(o.not_after.c_str()));
  json_t* azs = json_array();
  for (auto& a : o.authzs) json_array_append_new(azs, json_string(r.AuthzUrl(a).c_str()));
  json_object_set_new(j.get(), "authorizations", azs);
  json_object_set_new(j.get(), "finalize", json_string((r.OrderUrl(o.id) + "/finalize").c_str()));
  if (!o.certificate.empty())
    json_object_set_new(j.get(), "certificate", json_string(r.CertUrl(o.certificate).c_str()));
  if (!o.error.empty()) {
    json_error_t err;
    json_t* e = json_loads(o.error.c_str(), 0, &err);
    if (e != nullptr) json_object_set_new(j.get(), "error", e);
  }
  *out = std::move(j);
  return Problem::Ok();
}

Problem LoadOwnedOrder(Request& r, const std::string& id, Stored<Order>* out) {
  auto o = AcmeOrders(r.store).Load(id);
  if (!o.ok()) return FromStatus(o.status());
  if (!o->has_value()) return NotFoundProblem("no such order");
  if ((*o)->record.account != r.account.record.id)
    return Unauthorized("the order belongs to another account");
  *out = std::move(**o);
  return Problem::Ok();
}

Problem GetOrder(Request& r, const std::string& id, HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kKid);
  if (!p.ok()) return p;
  if (!r.PostAsGet()) return Malformed("orders are read with POST-as-GET");
  Stored<Order> o;
  p = LoadOwnedOrder(r, id, &o);
  if (!p.ok()) return p;
  JsonPtr j;
  p = OrderJson(r, o.record, &j);
  if (!p.ok()) return p;
  *out = JsonResponse(200, j.get());
  const json_t* st = json_object_get(j.get(), "status");
  if (json_is_string(st) && std::strcmp(json_string_value(st), "processing") == 0)
    out->headers.emplace_back("Retry-After", "1");
  return Problem::Ok();
}

}  // namespace acme
}  // namespace stepca
