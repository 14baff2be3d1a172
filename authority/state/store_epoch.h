// The store epoch: the moment from which this store's record of spent
// tokens is complete. A token issued before it is refused (authority.cc's
// issued-at rule), because it could have been spent in records that are gone.
//
// Key: meta/epoch. Value: "<unix seconds>" or "<unix seconds> <identity>",
// kept forever. The identity is the store's ServerIdentity (store.h) the
// epoch was last confirmed for. The first node to reach a store writes its
// start time; every node and worker reads the same value afterwards.
//
// When the identity differs from the recorded one (Redis restarted, failed
// over to a replica, or came back empty), the last writes before the change
// may be lost: with appendfsync everysec a host crash drops up to a second,
// a replica may not have had the newest writes. The epoch then moves to the
// second after now, in the same compare-and-set that records the new
// identity, so every token issued up to the change is refused from then on,
// by every node, whatever the store kept. docs/fleet.md has the table.
#ifndef STEPCA_AUTHORITY_STATE_STORE_EPOCH_H
#define STEPCA_AUTHORITY_STATE_STORE_EPOCH_H

#include <cstdint>
#include <string>

#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {

class StoreEpoch {
 public:
  explicit StoreEpoch(Store& store) : store_(store) {}

  // The stored epoch, or `candidate` when this call is the one that
  // records it. kUnavailable when the store cannot say.
  [[nodiscard]] Result<int64_t> ReadOrClaim(int64_t candidate);

  // The epoch for the store as `identity` names it now. An absent record
  // is claimed as `candidate` with identity; a record for another identity
  // (or none: written before identities) is moved to max(epoch, now + 1)
  // with the new identity. An empty identity never moves it.
  [[nodiscard]] Result<int64_t> Current(const std::string& identity, int64_t candidate,
                                        int64_t now);

  // The store key (for tests).
  static std::string Key();

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_STORE_EPOCH_H
