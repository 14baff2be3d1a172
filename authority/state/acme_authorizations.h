// ACME authorizations with their challenges, one record each.
//
//   acme_authz/<id>   JSON, TTL kObjectTtl (8 days) from its last write:
//       id, account, provisioner, identifier {type,value} (without "*."),
//       wildcard (bool), status ("pending", "valid", "invalid",
//       "deactivated"), expires (RFC 3339), token (shared by the
//       challenges), challenges [{id, type, status ("pending",
//       "processing", "valid", "invalid"), validated (RFC 3339, when valid),
//       error (problem JSON, when invalid), processingSince (RFC 3339, while
//       processing)}]
//
// Every change is a compare-and-set from the bytes read: starting a
// validation (pending -> processing: one request wins, concurrent POSTs see
// processing), its result (processing -> valid / invalid, written only
// while the challenge is still the one that validator started), and
// deactivation. A "processing" challenge older than kProcessingTimeout
// (acme_orders.h) belongs to a worker that died: the next POST restarts it.
#ifndef STEPCA_AUTHORITY_STATE_ACME_AUTHORIZATIONS_H
#define STEPCA_AUTHORITY_STATE_ACME_AUTHORIZATIONS_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authority/state/acme_identifier.h"
#include "authority/state/stored.h"
#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {
namespace acme {

struct Challenge {
  std::string id;
  std::string type;               // http-01, dns-01, tls-alpn-01
  std::string status = "pending"; // pending, processing, valid, invalid
  std::string validated;          // RFC 3339, when valid
  std::string error;              // problem JSON, when invalid
  std::string processing_since;   // RFC 3339, while processing
};

struct Authz {
  std::string id;
  std::string account;
  std::string provisioner;
  Identifier identifier;          // without "*."
  bool wildcard = false;
  std::string status = "pending"; // pending, valid, invalid, deactivated
  std::string expires;
  std::string token;              // shared by its challenges
  std::vector<Challenge> challenges;
};

}  // namespace acme

class AcmeAuthorizations {
 public:
  explicit AcmeAuthorizations(Store& store) : store_(store) {}

  // nullopt when absent or expired. A damaged record is kInternal.
  [[nodiscard]] Result<std::optional<Stored<acme::Authz>>> Load(std::string_view id);
  // Writes a new authorization. kAlreadyExists if the id is taken.
  [[nodiscard]] Status Insert(const acme::Authz& authz);
  // from -> next by compare-and-set; kAlreadyExists when the record is no
  // longer from.bytes.
  [[nodiscard]] Status Replace(const Stored<acme::Authz>& from, const acme::Authz& next);

  static std::string Encode(const acme::Authz& authz);
  // nullopt when the bytes are not an authorization (not JSON, no id).
  static std::optional<acme::Authz> Decode(std::string_view bytes);
  static std::string Key(std::string_view id);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_ACME_AUTHORIZATIONS_H
