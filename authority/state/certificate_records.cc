#include "authority/state/certificate_records.h"

#include <utility>

#include "authority/state/record_json.h"
#include "shared/base64.h"

namespace stepca {
namespace {

constexpr char kPrefix[] = "x509_certs/";

// A serial collision (2^-128 per pair) is retried with a new serial; more
// than this many in a row means the serial source is broken.
constexpr int kSerialAttempts = 3;


void SetTime(json_t* o, const char* name, const std::optional<TimePoint>& t) {
  if (t) json_object_set_new(o, name, json_string(FormatRfc3339(*t).c_str()));
}

void SetString(json_t* o, const char* name, const std::string& s) {
  if (!s.empty()) json_object_set_new(o, name, json_stringn(s.data(), s.size()));
}

}  // namespace

std::string CertificateRecords::Key(std::string_view serial) { return kPrefix + std::string(serial); }

const char* CertificateStateName(CertificateState state) {
  switch (state) {
    case CertificateState::kReserved: return "reserved";
    case CertificateState::kIssued: return "issued";
    case CertificateState::kFailed: return "failed";
  }
  return "reserved";
}

std::string CertificateRecords::Encode(const CertificateRecord& r) {
  JsonPtr o(json_object());
  json_object_set_new(o.get(), "state", json_string(CertificateStateName(r.state)));
  if (!r.der.empty())
    json_object_set_new(o.get(), "der", json_string(Base64Encode(r.der).c_str()));
  json_object_set_new(o.get(), "provisioner",
                      r.provisioner ? json_pack("{s:s,s:s,s:s}", "id", r.provisioner->id.c_str(),
                                                "name", r.provisioner->name.c_str(), "type",
                                                r.provisioner->type.c_str())
                                    : json_null());
  json_t* names = json_array();
  for (const auto& n : r.names) json_array_append_new(names, json_stringn(n.data(), n.size()));
  json_object_set_new(o.get(), "names", names);
  SetTime(o.get(), "reservedAt", r.reserved_at);
  SetTime(o.get(), "issuedAt", r.issued_at);
  SetTime(o.get(), "notAfter", r.not_after);
  SetString(o.get(), "renewedFrom", r.renewed_from);
  SetString(o.get(), "rekeyedFrom", r.rekeyed_from);
  SetString(o.get(), "failure", r.failure);
  return state_json::Dump(o.get());
}

std::optional<CertificateRecord> CertificateRecords::Decode(std::string_view serial,
                                                            std::string_view bytes) {
  JsonPtr o = state_json::LoadObject(bytes);
  if (!o) return std::nullopt;
  CertificateRecord r;
  r.serial = std::string(serial);
  const std::string state = state_json::String(o.get(), "state");
  if (state.empty() || state == "issued") {
    // No state: written before record-before-sign, when a record existed
    // only for a certificate that was signed.
    r.state = CertificateState::kIssued;
  } else if (state == "reserved") {
    r.state = CertificateState::kReserved;
  } else if (state == "failed") {
    r.state = CertificateState::kFailed;
  } else {
    return std::nullopt;
  }
  const std::string der64 = state_json::String(o.get(), "der");
  if (!der64.empty()) {
    auto der = Base64Decode(der64);
    if (der) r.der = std::move(*der);
  }
  const json_t* p = json_object_get(o.get(), "provisioner");
  if (json_is_object(p)) {
    r.provisioner = CertificateProvisioner{state_json::String(p, "id"),
                                           state_json::String(p, "name"),
                                           state_json::String(p, "type")};
  }
  const json_t* names = json_object_get(o.get(), "names");
  size_t i;
  const json_t* n;
  json_array_foreach(names, i, n) {
    if (json_is_string(n)) r.names.emplace_back(json_string_value(n), json_string_length(n));
  }
  r.reserved_at = state_json::Time(o.get(), "reservedAt");
  r.issued_at = state_json::Time(o.get(), "issuedAt");
  r.not_after = state_json::Time(o.get(), "notAfter");
  r.renewed_from = state_json::String(o.get(), "renewedFrom");
  r.rekeyed_from = state_json::String(o.get(), "rekeyedFrom");
  r.failure = state_json::String(o.get(), "failure");
  return r;
}

CertificateReservation CertificateRecords::Reserved(CertificateRecord intent) {
  intent.state = CertificateState::kReserved;
  intent.der.clear();
  CertificateReservation out{std::move(intent), {}};
  out.stored = Encode(out.record);
  return out;
}

Result<CertificateReservation> CertificateRecords::Reserve(CertificateRecord intent) {
  if (intent.serial.empty()) return Internal("certificate records: empty serial");
  CertificateReservation out = Reserved(std::move(intent));
  Status st = store_.PutIfAbsent(Key(out.record.serial), out.stored, std::chrono::seconds(0));
  if (st.code() == Code::kAlreadyExists)
    return AlreadyExists("certificate serial " + out.record.serial + " is already recorded");
  STEPCA_RETURN_IF_ERROR(st);
  return out;
}

Result<std::optional<CertificateReservation>> CertificateRecords::ReserveWith(
    CertificateRecord intent, const StoreEntry& with) {
  if (intent.serial.empty()) return Internal("certificate records: empty serial");
  CertificateReservation out = Reserved(std::move(intent));
  const std::vector<StoreEntry> entries = {
      with, StoreEntry{Key(out.record.serial), out.stored, std::chrono::seconds(0)}};
  size_t taken = entries.size();
  Status st = store_.PutIfAllAbsent(entries, &taken);
  if (st.code() == Code::kUnavailable && st.maybe_applied()) {
    // Either both entries are ours already, or neither was written.
    Status again = store_.PutIfAllAbsent(entries, &taken);
    if (again.code() == Code::kAlreadyExists) {
      auto mine = store_.Get(entries[0].key);
      auto record = store_.Get(entries[1].key);
      if (mine.ok() && record.ok() && *mine == entries[0].value && *record == entries[1].value)
        return std::optional<CertificateReservation>(std::move(out));
      if (!mine.ok() || !record.ok()) return st;
    } else if (again.code() == Code::kUnavailable) {
      return st;
    }
    st = again;
  }
  if (st.code() == Code::kAlreadyExists && taken == 0)
    return AlreadyExists("the store already holds " + with.key);
  if (st.code() == Code::kAlreadyExists) return std::optional<CertificateReservation>();
  STEPCA_RETURN_IF_ERROR(st);
  return std::optional<CertificateReservation>(std::move(out));
}

Status CertificateRecords::Import(CertificateRecord issued) {
  if (issued.serial.empty()) return Internal("certificate records: empty serial");
  if (issued.der.empty()) return Internal("certificate records: import without a certificate");
  issued.state = CertificateState::kIssued;
  Status st = store_.PutIfAbsent(Key(issued.serial), Encode(issued), std::chrono::seconds(0));
  if (st.code() == Code::kAlreadyExists)
    return AlreadyExists("certificate serial " + issued.serial + " is already recorded");
  return st;
}

Status CertificateRecords::Replace(const CertificateReservation& reservation,
                                   const CertificateRecord& next) {
  Status st = store_.CompareAndSwap(Key(reservation.record.serial), reservation.stored,
                                    Encode(next), std::chrono::seconds(0));
  if (st.code() == Code::kAlreadyExists)
    return AlreadyExists("certificate record " + reservation.record.serial +
                         " changed since it was reserved");
  return st;
}

Status CertificateRecords::Complete(const CertificateReservation& reservation,
                                    std::string_view der, TimePoint not_after,
                                    TimePoint issued_at) {
  CertificateRecord next = reservation.record;
  next.state = CertificateState::kIssued;
  next.der = std::string(der);
  next.not_after = not_after;
  next.issued_at = issued_at;
  return Replace(reservation, next);
}

Status CertificateRecords::Fail(const CertificateReservation& reservation, std::string_view why) {
  CertificateRecord next = reservation.record;
  next.state = CertificateState::kFailed;
  next.failure = std::string(why);
  return Replace(reservation, next);
}

Status CertificateRecords::Issue(CertificateRecord intent, TimePoint now,
                                 const SerialSource& new_serial, const SignWithSerial& sign,
                                 const StoreEntry* with, bool* written) {
  if (written != nullptr) *written = false;
  intent.reserved_at = now;
  std::optional<CertificateReservation> reservation;
  // A serial already recorded draws again.
  for (int attempt = 0; attempt < kSerialAttempts && !reservation; ++attempt) {
    STEPCA_ASSIGN_OR_RETURN(intent.serial, new_serial());
    if (with != nullptr) {
      STEPCA_ASSIGN_OR_RETURN(reservation, ReserveWith(intent, *with));
      continue;
    }
    auto reserved = Reserve(intent);
    if (reserved.ok()) {
      reservation = std::move(reserved).value();
    } else if (reserved.status().code() != Code::kAlreadyExists) {
      return reserved.status();
    }
  }
  if (!reservation) return Internal("no free certificate serial number");
  if (written != nullptr) *written = true;

  auto made = sign(reservation->record.serial);
  if (!made.ok()) {
    // The signing error is what the caller reports. Should marking the
    // record fail too, it stays "reserved", which says the same thing:
    // nothing was handed out.
    (void)Fail(*reservation, made.status().message());
    return made.status();
  }
  Status done = Complete(*reservation, made->der, made->not_after, now);
  if (done.code() == Code::kAlreadyExists)
    return Internal("certificate record changed while signing").WithDetail(done.message());
  return done;
}

Result<std::optional<CertificateRecord>> CertificateRecords::Find(std::string_view serial) {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(Key(serial)));
  if (!bytes) return std::optional<CertificateRecord>();
  auto rec = Decode(serial, *bytes);
  if (!rec) return Internal("certificate record " + std::string(serial) + " does not parse");
  return std::optional<CertificateRecord>(std::move(rec));
}

}  // namespace stepca
