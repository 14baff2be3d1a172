// ACME orders and the per-account order list.
//
//   acme_order/<id>              the order, JSON, TTL kObjectTtl (8 days)
//                                from its last write:
//       id, account, provisioner, status, expires, notBefore, notAfter
//       (RFC 3339, when asked for), identifiers [{type,value}], authzs [ids],
//       certificate (the ACME certificate id, when valid), error (problem
//       JSON, when invalid), processingSince (RFC 3339, while processing)
//   acme_acct_orders/<acct>/<n>  the order id in slot n (0, 1, ...); kept.
//                                Slots are claimed with set-if-absent.
//   acme_acct_orders_next/<acct> a hint: the first slot to try; kept.
//
// Stored status: "pending" until finalize (the client sees pending, ready
// or invalid derived from the authorizations, so validators never write
// the order), then "processing" (one finalize won the compare-and-set
// from the exact bytes it read), then "valid" with the certificate id.
// A "processing" order older than kProcessingTimeout belongs to a finalize
// that died; it reads as ready again and the next finalize takes it over,
// again by compare-and-set.
//
// The order list is a run of slots with no holes: a writer starts at the
// hint and claims the first free slot, so concurrent new-orders on one
// account never race on a shared blob; a reader walks slots from 0 (or a
// cursor) until the first absent one.
#ifndef STEPCA_AUTHORITY_STATE_ACME_ORDERS_H
#define STEPCA_AUTHORITY_STATE_ACME_ORDERS_H

#include <chrono>
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

constexpr std::chrono::seconds kOrderLifetime{24 * 3600};
constexpr std::chrono::seconds kObjectTtl{8 * 24 * 3600};  // orders, authzs
// How long a "processing" order or challenge is left to the worker that
// moved it there before another request may take it over.
constexpr std::chrono::seconds kProcessingTimeout{120};
constexpr size_t kMaxOrderSlotsScan = 100000;

struct Order {
  std::string id;
  std::string account;
  std::string provisioner;
  std::string status = "pending"; // stored: pending, processing, valid, invalid
  std::string expires;
  std::string not_before, not_after;  // RFC 3339 or empty
  std::vector<Identifier> identifiers;
  std::vector<std::string> authzs;
  std::string certificate;        // certificate id when valid
  std::string error;              // problem JSON
  std::string processing_since;   // RFC 3339 while processing
};

}  // namespace acme

class AcmeOrders {
 public:
  explicit AcmeOrders(Store& store) : store_(store) {}

  // nullopt when absent or expired. A damaged record is kInternal.
  [[nodiscard]] Result<std::optional<Stored<acme::Order>>> Load(std::string_view id);
  // Writes a new order. kAlreadyExists if the id is taken.
  [[nodiscard]] Status Insert(const acme::Order& order);
  // from -> next by compare-and-set; kAlreadyExists when the order is no
  // longer from.bytes (another request moved it: re-read).
  [[nodiscard]] Status Replace(const Stored<acme::Order>& from, const acme::Order& next);

  // Appends order_id to the account's list; returns the slot.
  [[nodiscard]] Result<size_t> AppendToAccount(std::string_view account, std::string_view order_id);
  // Up to limit order ids from slot `from`; *next is the slot after the
  // last one read, or 0 when the list ended.
  [[nodiscard]] Result<std::vector<std::string>> ListForAccount(std::string_view account,
                                                                size_t from, size_t limit,
                                                                size_t* next);

  static std::string Encode(const acme::Order& order);
  // nullopt when the bytes are not an order (not a JSON object, no id).
  static std::optional<acme::Order> Decode(std::string_view bytes);
  static std::string Key(std::string_view id);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_ACME_ORDERS_H
