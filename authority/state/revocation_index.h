// The list of revoked serials, in the order they were revoked, so that the
// CRL can be built without scanning the store (Store has no scan).
//
// Keys: revoked_index/<n> = decimal serial, slot n claimed with
// set-if-absent; revoked_index_next = a hint of the first free slot.
// Slots are filled without holes (a writer walks up from the hint to the
// first free slot), and a slot never changes once written, so a reader may
// keep what it read and continue from where it stopped. A slot is claimed
// before the revocation record is written (Revocations::Revoke): a crash in
// between leaves a slot whose serial has no record, which the CRL skips.
// Kept forever.
#ifndef STEPCA_AUTHORITY_STATE_REVOCATION_INDEX_H
#define STEPCA_AUTHORITY_STATE_REVOCATION_INDEX_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {

class RevocationIndex {
 public:
  explicit RevocationIndex(Store& store) : store_(store) {}

  // The slot serial was written to.
  [[nodiscard]] Result<uint64_t> Append(std::string_view serial);
  // The serials of slots from, from+1, ... up to the first empty slot, at
  // most max of them.
  [[nodiscard]] Result<std::vector<std::string>> ReadFrom(uint64_t from, size_t max);

  static std::string SlotKey(uint64_t n);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_REVOCATION_INDEX_H
