// One-time tokens: a token id is spent once, fleet-wide.
//
// Key: used_ott/<token key> (the provisioner's hash of its id and the jti,
// or of a renew token's canonical bytes). Value: who spent it (a provisioner
// id, or the serial a renew token was about), a space and a random marker of
// the attempt. The entry outlives the token: it expires when the token could
// no longer be accepted anyway.
#ifndef STEPCA_AUTHORITY_STATE_SPENT_TOKENS_H
#define STEPCA_AUTHORITY_STATE_SPENT_TOKENS_H

#include <chrono>
#include <string>
#include <string_view>

#include "authority/status.h"
#include "authority/store/store.h"
#include "shared/duration.h"

namespace stepca {

// The endings of a kUnavailable message from Spend, for the client.
inline constexpr char kTokenNotSpent[] = "the token was not spent; please retry";
inline constexpr char kTokenMaybeSpent[] =
    "the token may have been spent; please retry, with a new token if this one is refused";
// What a caller appends when the store fails after the spend.
inline constexpr char kTokenSpent[] = "the token was spent; please retry with a new token";

// A store failure after a successful Spend, worded for the client: the
// token is gone. Other statuses pass through.
Status AfterSpend(const Status& st);
// A store failure before Spend was tried: the token is untouched.
Status BeforeSpend(const Status& st);
// A spend whose write may or may not have landed, the store silent on a
// second look: worded for the client with kTokenMaybeSpent.
Status MaybeSpent(const Status& st);

class SpentTokens {
 public:
  explicit SpentTokens(Store& store) : store_(store) {}

  // Spends token_key. kAlreadyExists when it was spent before (a replay);
  // the caller words the client's message. token_expiry is the token's exp.
  // kUnavailable says whether the token was spent: when the write may have
  // reached the store it is sent once more with the same marker, which
  // tells our own earlier write from another's; the message then ends with
  // kTokenNotSpent, or kTokenMaybeSpent only when the store did not answer
  // that second look either.
  [[nodiscard]] Status Spend(std::string_view token_key, std::string_view spent_by,
                             TimePoint token_expiry, TimePoint now);

  // The entry Spend writes, for a caller that stores it together with
  // another write (CertificateRecords::Issue): kAlreadyExists on its key is
  // a replay, as from Spend.
  static StoreEntry Entry(std::string_view token_key, std::string_view spent_by,
                          TimePoint token_expiry, TimePoint now);

  // How long the record is kept: until the token's expiry plus the clock
  // leeway a verifier allows, plus a minute; never under a minute.
  static std::chrono::seconds RetentionFor(TimePoint token_expiry, TimePoint now);
  // The store key of a spent token (for tests and key_families.h).
  static std::string Key(std::string_view token_key);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_SPENT_TOKENS_H
