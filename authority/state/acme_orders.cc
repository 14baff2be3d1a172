#include "authority/state/acme_orders.h"

#include <cstdlib>

#include "authority/state/record_json.h"

namespace stepca {
namespace {

constexpr std::chrono::seconds kForever{0};

std::string SlotKey(std::string_view account, size_t slot) {
  return "acme_acct_orders/" + std::string(account) + "/" + std::to_string(slot);
}

std::string NextSlotKey(std::string_view account) {
  return "acme_acct_orders_next/" + std::string(account);
}

}  // namespace

std::string AcmeOrders::Key(std::string_view id) { return "acme_order/" + std::string(id); }

std::string AcmeOrders::Encode(const acme::Order& o) {
  using namespace state_json;
  JsonPtr j(json_object());
  SetNonEmpty(j.get(), "id", o.id);
  SetNonEmpty(j.get(), "account", o.account);
  SetNonEmpty(j.get(), "provisioner", o.provisioner);
  SetNonEmpty(j.get(), "status", o.status);
  SetNonEmpty(j.get(), "expires", o.expires);
  SetNonEmpty(j.get(), "notBefore", o.not_before);
  SetNonEmpty(j.get(), "notAfter", o.not_after);
  json_t* ids = json_array();
  for (const auto& i : o.identifiers)
    json_array_append_new(ids, json_pack("{s:s,s:s}", "type", i.type.c_str(), "value", i.value.c_str()));
  json_object_set_new(j.get(), "identifiers", ids);
  json_object_set_new(j.get(), "authzs", StringArray(o.authzs));
  SetNonEmpty(j.get(), "certificate", o.certificate);
  SetNonEmpty(j.get(), "error", o.error);
  SetNonEmpty(j.get(), "processingSince", o.processing_since);
  return Dump(j.get());
}

std::optional<acme::Order> AcmeOrders::Decode(std::string_view bytes) {
  using namespace state_json;
  JsonPtr j = LoadObject(bytes);
  if (!j) return std::nullopt;
  acme::Order o;
  o.id = String(j.get(), "id");
  o.account = String(j.get(), "account");
  o.provisioner = String(j.get(), "provisioner");
  o.status = String(j.get(), "status");
  o.expires = String(j.get(), "expires");
  o.not_before = String(j.get(), "notBefore");
  o.not_after = String(j.get(), "notAfter");
  size_t i;
  const json_t* v;
  json_array_foreach(json_object_get(j.get(), "identifiers"), i, v) {
    o.identifiers.push_back({String(v, "type"), String(v, "value")});
  }
  o.authzs = Strings(j.get(), "authzs");
  o.certificate = String(j.get(), "certificate");
  o.error = String(j.get(), "error");
  o.processing_since = String(j.get(), "processingSince");
  if (o.id.empty()) return std::nullopt;
  return o;
}

Result<std::optional<Stored<acme::Order>>> AcmeOrders::Load(std::string_view id) {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(Key(id)));
  if (!bytes) return std::optional<Stored<acme::Order>>();
  auto o = Decode(*bytes);
  if (!o) return Internal("acme: damaged order record " + std::string(id));
  return std::optional<Stored<acme::Order>>(Stored<acme::Order>{std::move(*o), std::move(*bytes)});
}

Status AcmeOrders::Insert(const acme::Order& order) {
  return store_.PutIfAbsent(Key(order.id), Encode(order), acme::kObjectTtl);
}

Status AcmeOrders::Replace(const Stored<acme::Order>& from, const acme::Order& next) {
  return store_.CompareAndSwap(Key(from.record.id), from.bytes, Encode(next), acme::kObjectTtl);
}

Result<size_t> AcmeOrders::AppendToAccount(std::string_view account, std::string_view order_id) {
  const std::string hint_key = NextSlotKey(account);
  size_t n = 0;
  STEPCA_ASSIGN_OR_RETURN(auto hint, store_.Get(hint_key));
  if (hint) n = std::strtoull(hint->c_str(), nullptr, 10);
  for (size_t tries = 0; tries < acme::kMaxOrderSlotsScan; ++tries, ++n) {
    Status st = store_.PutIfAbsent(SlotKey(account, n), order_id, kForever);
    if (st.code() == Code::kAlreadyExists) continue;
    STEPCA_RETURN_IF_ERROR(st);
    // Only a hint: a racing writer may set a smaller value, which merely
    // costs the next writer a few set-if-absent misses.
    STEPCA_RETURN_IF_ERROR(store_.Put(hint_key, std::to_string(n + 1), kForever));
    return n;
  }
  return Internal("acme: account order list is full");
}

Result<std::vector<std::string>> AcmeOrders::ListForAccount(std::string_view account, size_t from,
                                                            size_t limit, size_t* next) {
  std::vector<std::string> ids;
  *next = 0;
  for (size_t n = from; n < from + limit; ++n) {
    STEPCA_ASSIGN_OR_RETURN(auto v, store_.Get(SlotKey(account, n)));
    if (!v) return ids;
    ids.push_back(std::move(*v));
  }
  *next = from + limit;
  return ids;
}

}  // namespace stepca
