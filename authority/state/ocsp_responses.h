// Signed OCSP responses for one serial, without a nonce, shared by every
// node so that a revocation invalidates them fleet-wide at once.
//
// Key: ocsp_response/<decimal serial> = the DER OCSPResponse; ttl: part of
// its validity. Revocations::Revoke deletes the entry after writing the
// revocation record; a responder that cached a "good" answer checks the
// record again after writing and deletes its own entry if it lost that
// race, so a stale "good" never outlives a revocation.
#ifndef STEPCA_AUTHORITY_STATE_OCSP_RESPONSES_H
#define STEPCA_AUTHORITY_STATE_OCSP_RESPONSES_H

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {

class OcspResponses {
 public:
  explicit OcspResponses(Store& store) : store_(store) {}

  [[nodiscard]] Result<std::optional<std::string>> Get(std::string_view serial);
  [[nodiscard]] Status Put(std::string_view serial, std::string_view der, std::chrono::seconds ttl);
  [[nodiscard]] Status Invalidate(std::string_view serial);

  static std::string Key(std::string_view serial);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_OCSP_RESPONSES_H
