#include "authority/state/crl_state.h"

#include "authority/state/record_json.h"
#include "shared/base64.h"

namespace stepca {
namespace {

constexpr char kCurrentKey[] = "crl/current";
constexpr char kLeaseKey[] = "crl/lease";

}  // namespace

std::string CrlState::Encode(const CrlRecord& r) {
  JsonPtr o(json_object());
  json_object_set_new(o.get(), "number", json_integer(r.number));
  json_object_set_new(o.get(), "thisUpdate", json_string(FormatRfc3339(r.this_update).c_str()));
  json_object_set_new(o.get(), "nextUpdate", json_string(FormatRfc3339(r.next_update).c_str()));
  json_object_set_new(o.get(), "indexCount", json_integer(static_cast<json_int_t>(r.index_count)));
  json_object_set_new(o.get(), "der", json_string(Base64Encode(r.der).c_str()));
  return state_json::Dump(o.get());
}

std::optional<CrlRecord> CrlState::Decode(std::string_view bytes) {
  JsonPtr o = state_json::LoadObject(bytes);
  if (!o) return std::nullopt;
  CrlRecord r;
  const json_t* n = json_object_get(o.get(), "number");
  const json_t* c = json_object_get(o.get(), "indexCount");
  auto tu = state_json::Time(o.get(), "thisUpdate");
  auto nu = state_json::Time(o.get(), "nextUpdate");
  auto der = Base64Decode(state_json::String(o.get(), "der"));
  if (!json_is_integer(n) || !json_is_integer(c) || !tu || !nu || !der || der->empty())
    return std::nullopt;
  r.number = json_integer_value(n);
  r.index_count = static_cast<uint64_t>(json_integer_value(c));
  r.this_update = *tu;
  r.next_update = *nu;
  r.der = std::move(*der);
  return r;
}

Result<std::optional<Stored<CrlRecord>>> CrlState::Current() {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(kCurrentKey));
  if (!bytes) return std::optional<Stored<CrlRecord>>();
  auto r = Decode(*bytes);
  if (!r) return Internal("crl record does not parse");
  return std::optional<Stored<CrlRecord>>(Stored<CrlRecord>{std::move(*r), std::move(*bytes)});
}

Status CrlState::Replace(const std::optional<std::string>& expected, const CrlRecord& next) {
  return store_.CompareAndSwap(kCurrentKey, expected, Encode(next), std::chrono::seconds(0));
}

Result<bool> CrlState::HoldLease(std::string_view holder, std::chrono::seconds ttl) {
  const std::string me(holder);
  Status st = store_.CompareAndSwap(kLeaseKey, me, me, ttl);
  if (st.ok()) return true;
  if (st.code() != Code::kAlreadyExists) return st;
  st = store_.PutIfAbsent(kLeaseKey, me, ttl);
  if (st.ok()) return true;
  if (st.code() == Code::kAlreadyExists) return false;
  return st;
}

Result<std::optional<std::string>> CrlState::LeaseHolder() { return store_.Get(kLeaseKey); }

Status CrlState::ReleaseLease(std::string_view holder) {
  STEPCA_ASSIGN_OR_RETURN(auto v, store_.Get(kLeaseKey));
  if (!v || *v != holder) return Status::Ok();
  // Between the read and the delete the lease cannot change hands: only its
  // holder renews it, and it has not expired (we just read it).
  return store_.Delete(kLeaseKey);
}

}  // namespace stepca
