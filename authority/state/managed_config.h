// The provisioners and admins that the admin API manages (step-ca's
// enableAdmin), one record for the whole fleet, plus a generation counter
// that every node reads on each request to see a change within one request.
//
// Keys: admin/config: JSON {"generation": n, "provisioners": [linkedca
// Provisioner, protojson], "admins": [linkedca Admin, protojson]}, kept,
// replaced only by compare-and-set from the exact bytes read, so two admins
// changing it at once cannot lose one change (the loser re-reads).
// admin/generation: "<n>" of the last record written, kept. Both families
// change together because a change spans them: removing a provisioner
// removes its admins, and the last super admin check reads both.
//
// The generation is written after the record. A writer that dies between
// the two leaves a record newer than the counter; readers also re-read the
// record every kFullReadInterval, and the next write moves the counter past
// it, so the change is picked up late, never lost.
#ifndef STEPCA_AUTHORITY_STATE_MANAGED_CONFIG_H
#define STEPCA_AUTHORITY_STATE_MANAGED_CONFIG_H

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "authority/ossl.h"
#include "authority/state/stored.h"
#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {

struct ManagedConfig {
  int64_t generation = 0;  // 0: never written
  JsonPtr provisioners;    // array, never null once read
  JsonPtr admins;          // array, never null once read
};

class ManagedConfigRecords {
 public:
  static constexpr std::chrono::seconds kFullReadInterval{10};

  explicit ManagedConfigRecords(Store& store) : store_(store) {}

  // The counter; 0 when nothing was ever written.
  [[nodiscard]] Result<int64_t> Generation();
  // The record and its bytes; absent reads as generation 0, empty lists,
  // bytes "" (Replace then expects absence). A record that does not parse
  // is kInternal: nothing is served from a guess.
  [[nodiscard]] Result<Stored<ManagedConfig>> Read();
  // Writes next with generation read.generation + 1, if the stored bytes
  // are still read.bytes; kAlreadyExists when another writer got there
  // first. Returns the new generation.
  [[nodiscard]] Result<int64_t> Replace(const Stored<ManagedConfig>& read,
                                        const ManagedConfig& next);

  static std::string ConfigKey();
  static std::string GenerationKey();

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_MANAGED_CONFIG_H
