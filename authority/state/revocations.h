// Revoked X.509 certificates.
//
// Key: revoked_x509_certs/<decimal serial>. Value: step-ca's
// RevokedCertificateInfo as JSON with its Go field names (Serial,
// ProvisionerID, ReasonCode, Reason, RevokedAt, ExpiresAt, TokenID, MTLS,
// ACME), so a record reads the same in either CA. Kept forever.
#ifndef STEPCA_AUTHORITY_STATE_REVOCATIONS_H
#define STEPCA_AUTHORITY_STATE_REVOCATIONS_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "authority/status.h"
#include "authority/store/store.h"
#include "shared/duration.h"

namespace stepca {

struct RevocationRecord {
  std::string serial;  // decimal
  std::string provisioner_id;
  int64_t reason_code = 0;
  std::string reason;
  TimePoint revoked_at{};
  std::optional<TimePoint> expires_at;  // written as "" when unknown
  std::string token_id;
  bool mtls = false;
  bool acme = false;
};

class Revocations {
 public:
  explicit Revocations(Store& store) : store_(store) {}

  // kAlreadyExists when the serial was revoked before (nothing changes).
  [[nodiscard]] Status Revoke(const RevocationRecord& record);

  [[nodiscard]] Result<bool> IsRevoked(std::string_view serial);
  // nullopt when not revoked.
  [[nodiscard]] Result<std::optional<RevocationRecord>> Find(std::string_view serial);

  static std::string Encode(const RevocationRecord& record);
  static std::optional<RevocationRecord> Decode(std::string_view bytes);
  // The store key of serial's record (for tests that damage the store).
  static std::string Key(std::string_view serial);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_REVOCATIONS_H
