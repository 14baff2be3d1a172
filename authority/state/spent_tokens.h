// One-time tokens: a token id is spent once, fleet-wide.
//
// Key: used_ott/<token key> (the provisioner's hash of its id and the jti,
// or of a renew token's canonical bytes). Value: who spent it (a provisioner
// id, or the serial a renew token was about). The entry outlives the token:
// it expires when the token could no longer be accepted anyway.
#ifndef STEPCA_AUTHORITY_STATE_SPENT_TOKENS_H
#define STEPCA_AUTHORITY_STATE_SPENT_TOKENS_H

#include <chrono>
#include <string_view>

#include "authority/status.h"
#include "authority/store/store.h"
#include "shared/duration.h"

namespace stepca {

class SpentTokens {
 public:
  explicit SpentTokens(Store& store) : store_(store) {}

  // Spends token_key. kAlreadyExists when it was spent before (a replay);
  // the caller words the client's message. token_expiry is the token's exp.
  [[nodiscard]] Status Spend(std::string_view token_key, std::string_view spent_by,
                             TimePoint token_expiry, TimePoint now);

  // How long the record is kept: until the token's expiry plus the clock
  // leeway a verifier allows, plus a minute; never under a minute.
  static std::chrono::seconds RetentionFor(TimePoint token_expiry, TimePoint now);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_SPENT_TOKENS_H
