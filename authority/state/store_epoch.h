// The store epoch: when this store began recording spent tokens.
//
// Key: meta/epoch. Value: unix seconds, decimal. Kept forever. The first
// node to reach a store writes its start time; every node and worker reads
// the same value afterwards (authority.cc's issued-at rule uses it).
#ifndef STEPCA_AUTHORITY_STATE_STORE_EPOCH_H
#define STEPCA_AUTHORITY_STATE_STORE_EPOCH_H

#include <cstdint>

#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {

class StoreEpoch {
 public:
  explicit StoreEpoch(Store& store) : store_(store) {}

  // The stored epoch, or `candidate` when this call is the one that
  // records it. kUnavailable when the store cannot say.
  [[nodiscard]] Result<int64_t> ReadOrClaim(int64_t candidate);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_STORE_EPOCH_H
