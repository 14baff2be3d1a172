// The leaf CRL as every node serves it, and the lease that lets one node
// (one worker in the fleet) generate it.
//
// Keys: crl/current = JSON {number, thisUpdate, nextUpdate, indexCount,
// der (base64)}, replaced only by compare-and-set from the bytes read, so
// CRL numbers only grow; crl/lease = the holder's id, with a ttl, taken
// with set-if-absent and renewed with compare-and-set by its holder. A
// holder that dies stops renewing, the entry expires and another takes it.
#ifndef STEPCA_AUTHORITY_STATE_CRL_STATE_H
#define STEPCA_AUTHORITY_STATE_CRL_STATE_H

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "authority/state/stored.h"
#include "authority/status.h"
#include "authority/store/store.h"
#include "shared/duration.h"

namespace stepca {

struct CrlRecord {
  int64_t number = 0;
  TimePoint this_update{};
  TimePoint next_update{};
  uint64_t index_count = 0;  // revocation index slots the CRL was built from
  std::string der;
};

class CrlState {
 public:
  explicit CrlState(Store& store) : store_(store) {}

  // nullopt before the first generation.
  [[nodiscard]] Result<std::optional<Stored<CrlRecord>>> Current();
  // kAlreadyExists when another writer replaced the CRL since `expected`
  // (nullopt: there was none).
  [[nodiscard]] Status Replace(const std::optional<std::string>& expected, const CrlRecord& next);

  // Takes the lease when free, renews it when holder has it. false: another
  // holder has it.
  [[nodiscard]] Result<bool> HoldLease(std::string_view holder, std::chrono::seconds ttl);
  [[nodiscard]] Result<std::optional<std::string>> LeaseHolder();
  // Gives the lease up (worker exit) so the next holder need not wait out
  // the ttl; nothing when another holds it.
  Status ReleaseLease(std::string_view holder);

  static std::string Encode(const CrlRecord& r);
  static std::optional<CrlRecord> Decode(std::string_view bytes);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_CRL_STATE_H
