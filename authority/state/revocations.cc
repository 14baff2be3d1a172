#include "authority/state/revocations.h"

#include "authority/state/ocsp_responses.h"
#include "authority/state/record_json.h"
#include "authority/state/revocation_index.h"

namespace stepca {
namespace {

constexpr char kPrefix[] = "revoked_x509_certs/";

}  // namespace

std::string Revocations::Key(std::string_view serial) { return kPrefix + std::string(serial); }

std::string Revocations::Encode(const RevocationRecord& r) {
  JsonPtr o(json_object());
  json_object_set_new(o.get(), "Serial", json_stringn(r.serial.data(), r.serial.size()));
  json_object_set_new(o.get(), "ProvisionerID",
                      json_stringn(r.provisioner_id.data(), r.provisioner_id.size()));
  json_object_set_new(o.get(), "ReasonCode", json_integer(r.reason_code));
  json_object_set_new(o.get(), "Reason", json_stringn(r.reason.data(), r.reason.size()));
  json_object_set_new(o.get(), "RevokedAt", json_string(FormatRfc3339(r.revoked_at).c_str()));
  json_object_set_new(o.get(), "ExpiresAt",
                      json_string(r.expires_at ? FormatRfc3339(*r.expires_at).c_str() : ""));
  json_object_set_new(o.get(), "TokenID", json_stringn(r.token_id.data(), r.token_id.size()));
  json_object_set_new(o.get(), "MTLS", json_boolean(r.mtls));
  json_object_set_new(o.get(), "ACME", json_boolean(r.acme));
  return state_json::Dump(o.get());
}

std::optional<RevocationRecord> Revocations::Decode(std::string_view bytes) {
  JsonPtr o = state_json::LoadObject(bytes);
  if (!o) return std::nullopt;
  RevocationRecord r;
  r.serial = state_json::String(o.get(), "Serial");
  r.provisioner_id = state_json::String(o.get(), "ProvisionerID");
  const json_t* code = json_object_get(o.get(), "ReasonCode");
  r.reason_code = json_is_integer(code) ? json_integer_value(code) : 0;
  r.reason = state_json::String(o.get(), "Reason");
  r.revoked_at = state_json::Time(o.get(), "RevokedAt").value_or(TimePoint{});
  r.expires_at = state_json::Time(o.get(), "ExpiresAt");
  r.token_id = state_json::String(o.get(), "TokenID");
  r.mtls = json_is_true(json_object_get(o.get(), "MTLS"));
  r.acme = json_is_true(json_object_get(o.get(), "ACME"));
  return r;
}

Status Revocations::Revoke(const RevocationRecord& record) {
  if (record.serial.empty()) return Internal("revocations: empty serial");
  const std::string already = "certificate " + record.serial + " is already revoked";
  STEPCA_ASSIGN_OR_RETURN(auto existing, store_.Get(Key(record.serial)));
  if (existing) return AlreadyExists(already);
  // The CRL's list first: a crash after it leaves a slot without a record
  // (skipped), never a record the CRL cannot find.
  STEPCA_RETURN_IF_ERROR(RevocationIndex(store_).Append(record.serial).status());
  Status st = store_.PutIfAbsent(Key(record.serial), Encode(record), std::chrono::seconds(0));
  if (st.code() == Code::kAlreadyExists) return AlreadyExists(already);
  STEPCA_RETURN_IF_ERROR(st);
  // The record is written: the revocation stands even if this fails, and
  // a cached "good" expires with its ttl.
  (void)OcspResponses(store_).Invalidate(record.serial);
  return Status::Ok();
}

Result<bool> Revocations::IsRevoked(std::string_view serial) {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(Key(serial)));
  return bytes.has_value();
}

Result<std::optional<RevocationRecord>> Revocations::Find(std::string_view serial) {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(Key(serial)));
  if (!bytes) return std::optional<RevocationRecord>();
  auto rec = Decode(*bytes);
  if (!rec) return Internal("revocation record " + std::string(serial) + " does not parse");
  return std::optional<RevocationRecord>(std::move(rec));
}

}  // namespace stepca
