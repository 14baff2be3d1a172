// Certificates issued through ACME, for download and for revocation by
// account.
//
//   acme_cert/<id>               JSON: id, account, serial (decimal), chain
//                                (PEM, leaf then intermediates); TTL: until
//                                the leaf expires, plus a day.
//   acme_cert_serial/<serial>    the id of the ACME certificate with that
//                                serial; same TTL.
//
// The record is written before its serial index, so the index always leads
// to a record. The X.509 record of the same serial (certificate_records.h)
// is written by the policy before and after signing; this one only once the
// certificate exists.
#ifndef STEPCA_AUTHORITY_STATE_ACME_CERTIFICATES_H
#define STEPCA_AUTHORITY_STATE_ACME_CERTIFICATES_H

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {
namespace acme {

struct CertRecord {
  std::string id;
  std::string account;
  std::string serial;
  std::string chain;              // PEM: leaf then intermediates
};

}  // namespace acme

class AcmeCertificates {
 public:
  explicit AcmeCertificates(Store& store) : store_(store) {}

  // Writes the record, then its serial index, both with ttl.
  [[nodiscard]] Status Insert(const acme::CertRecord& cert, std::chrono::seconds ttl);
  // nullopt when absent or expired. A damaged record is kInternal.
  [[nodiscard]] Result<std::optional<acme::CertRecord>> Find(std::string_view id);
  [[nodiscard]] Result<std::optional<acme::CertRecord>> FindBySerial(std::string_view serial);

  static std::string Encode(const acme::CertRecord& cert);
  // nullopt when the bytes are not a certificate record (not JSON, no id).
  static std::optional<acme::CertRecord> Decode(std::string_view bytes);
  static std::string Key(std::string_view id);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_ACME_CERTIFICATES_H
