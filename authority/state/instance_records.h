// Trust on first use for cloud instance identities (AWS, GCP, Azure): the
// first certificate for an instance claims it, fleet-wide and for good;
// a later identity document of the same instance is refused, since the
// document can be read by anything running on that instance.
//
// Key: tofu/<instance key> (the provisioner's hash of its id and the
// instance id). Value: the provisioner id, a space and when it was claimed
// (Unix seconds). No expiry: an instance is claimed once.
#ifndef STEPCA_AUTHORITY_STATE_INSTANCE_RECORDS_H
#define STEPCA_AUTHORITY_STATE_INSTANCE_RECORDS_H

#include <string>
#include <string_view>

#include "authority/status.h"
#include "authority/store/store.h"
#include "shared/duration.h"

namespace stepca {

class InstanceRecords {
 public:
  explicit InstanceRecords(Store& store) : store_(store) {}

  // Claims the instance. kAlreadyExists when it was claimed before; a
  // store failure is kUnavailable and says whether the claim may have been
  // written (as SpentTokens::Spend does: the same write is tried once more).
  [[nodiscard]] Status Claim(std::string_view instance_key, std::string_view provisioner_id,
                             TimePoint now);

  static std::string Key(std::string_view instance_key);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_INSTANCE_RECORDS_H
