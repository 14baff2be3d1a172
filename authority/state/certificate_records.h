// X.509 certificate records: record before sign.
//
// Key: x509_certs/<decimal serial>. Value: JSON, kept forever:
//   state        "reserved" (intent recorded, not handed out), "issued", or
//                "failed" (signing failed; nothing was handed out).
//                Absent in records written before record-before-sign: those
//                are issued.
//   provisioner  {id,name,type}, or null (a renewal of a certificate without
//                a known provisioner)
//   names        the requested names (CN and SANs), from the reservation on
//   reservedAt   when the serial was reserved
//   notAfter     the planned (then actual) end of validity
//   der          base64 DER, once issued
//   issuedAt     when it was issued
//   renewedFrom / rekeyedFrom   the serial it replaces, when it does
//   failure      why, when failed
//
// A serial is reserved with set-if-absent, so two certificates can never
// share one, and the record is completed with a compare-and-set from the
// exact bytes reserved (docs/ARCHITECTURE.md, "Record before sign").
#ifndef STEPCA_AUTHORITY_STATE_CERTIFICATE_RECORDS_H
#define STEPCA_AUTHORITY_STATE_CERTIFICATE_RECORDS_H

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authority/status.h"
#include "authority/store/store.h"
#include "shared/duration.h"

namespace stepca {

struct CertificateProvisioner {
  std::string id, name, type;
};

enum class CertificateState { kReserved, kIssued, kFailed };

struct CertificateRecord {
  std::string serial;  // decimal
  CertificateState state = CertificateState::kReserved;
  std::optional<CertificateProvisioner> provisioner;
  std::vector<std::string> names;
  std::optional<TimePoint> reserved_at;
  std::optional<TimePoint> not_after;
  std::string der;  // issued only
  std::optional<TimePoint> issued_at;
  std::string renewed_from, rekeyed_from;
  std::string failure;
};

// A reserved record and the exact bytes stored for it, which Complete and
// Fail expect to find.
struct CertificateReservation {
  CertificateRecord record;
  std::string stored;
};

// What signing made with a reserved serial, for the record.
struct SignedForRecord {
  std::string der;
  TimePoint not_after{};
};

class CertificateRecords {
 public:
  using SerialSource = std::function<Result<std::string>()>;
  using SignWithSerial = std::function<Result<SignedForRecord>(const std::string& serial)>;

  explicit CertificateRecords(Store& store) : store_(store) {}

  // Records the intent under intent.serial in state "reserved".
  // kAlreadyExists when a record already holds that serial.
  [[nodiscard]] Result<CertificateReservation> Reserve(CertificateRecord intent);

  // Reserved -> issued, adding the DER. kAlreadyExists if the record is no
  // longer the one reserved (nothing is written then).
  [[nodiscard]] Status Complete(const CertificateReservation& reservation, std::string_view der,
                                TimePoint not_after, TimePoint issued_at);

  // Reserved -> failed, with the reason (no secret in it).
  [[nodiscard]] Status Fail(const CertificateReservation& reservation, std::string_view why);

  // Record before sign, the whole sequence: draws a serial from
  // new_serial and reserves it with intent (a collision draws again, a few
  // times); signs with it; completes the record. A store error at the
  // reservation returns before sign is called. A signing error marks the
  // record failed (best effort) and is returned. A store error at the
  // completion is returned: the caller must not hand the certificate out.
  //
  // With `with` (a one-time token's spend, SpentTokens::Entry), that entry
  // is written in the same atomic step as the reservation, so a
  // certificate costs one store write fewer. kAlreadyExists then means the
  // entry's key was taken (the token was spent before); *written says, for
  // any error, whether the entry and the reservation were stored (an
  // uncertain store answer is sent once more with the same bytes, which
  // tells our own earlier write from another's; if that fails too the
  // status is kUnavailable with maybe_applied set).
  [[nodiscard]] Status Issue(CertificateRecord intent, TimePoint now,
                             const SerialSource& new_serial, const SignWithSerial& sign,
                             const StoreEntry* with = nullptr, bool* written = nullptr);

  // Writes a record of a certificate issued elsewhere (stepca migrate) in
  // state "issued", with set-if-absent. kAlreadyExists when a record
  // already holds the serial (nothing is written then).
  [[nodiscard]] Status Import(CertificateRecord issued);
  // nullopt when no record holds serial.
  [[nodiscard]] Result<std::optional<CertificateRecord>> Find(std::string_view serial);

  // Encoding and decoding (exposed for tests of the stored layout).
  static std::string Encode(const CertificateRecord& record);
  static std::optional<CertificateRecord> Decode(std::string_view serial, std::string_view bytes);
  // The store key of serial's record (for tests and key_families.h).
  static std::string Key(std::string_view serial);

 private:
  Status Replace(const CertificateReservation& reservation, const CertificateRecord& next);
  // The reserved form of intent and its stored bytes.
  static CertificateReservation Reserved(CertificateRecord intent);
  // Reserve, with `with` stored in the same write; nullopt when the serial
  // is already recorded (nothing written), kAlreadyExists when with's key is
  // taken.
  Result<std::optional<CertificateReservation>> ReserveWith(CertificateRecord intent,
                                                            const StoreEntry& with);

  Store& store_;
};

const char* CertificateStateName(CertificateState state);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_CERTIFICATE_RECORDS_H
