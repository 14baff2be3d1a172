// ACME objects as the store keeps them, one JSON value per key. Every
// worker and node reads and writes the same keys:
//
//   acme_nonce/<nonce>                    "1", TTL 1h, spent with Take
//   acme_acct/<id>                        account, kept
//   acme_acct_key/<prov>/<thumbprint>     account id; PutIfAbsent makes the
//                                         key -> account binding atomic
//   acme_acct_orders/<acct>/<n>           order id in slot n (0, 1, ...);
//                                         slots are claimed with PutIfAbsent
//   acme_acct_orders_next/<acct>          a hint: first slot to try
//   acme_order/<id>                       order, TTL kObjectTtl
//   acme_authz/<id>                       authorization + its challenges,
//                                         TTL kObjectTtl
//   acme_authz_lock/<id>                  transition guard: the challenge
//                                         being validated, TTL kLockTtl
//   acme_order_fin/<id>                   transition guard for finalize
//   acme_cert/<id>                        certificate chain for download,
//                                         TTL until the leaf expires + 1 day
//   acme_cert_serial/<serial>             certificate id (revocation)
//   acme_eab_bound/<prov>/<kid>           an EAB key bound to an account
//   revoked_x509_certs/<serial>           revocation record (shared with
//                                         the /revoke API)
//
// The per-account order list is a run of slots with no holes: a writer
// starts at the hint and claims the first free slot with PutIfAbsent, so
// concurrent new-orders on one account never race on a shared blob, and a
// reader walks slots from 0 (or a cursor) until the first absent one.
#ifndef STEPCA_AUTHORITY_ACME_STATE_H
#define STEPCA_AUTHORITY_ACME_STATE_H

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "authority/ossl.h"
#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {
namespace acme {

constexpr std::chrono::seconds kOrderLifetime{24 * 3600};
constexpr std::chrono::seconds kObjectTtl{8 * 24 * 3600};  // orders, authzs
constexpr std::chrono::seconds kLockTtl{120};
constexpr size_t kMaxOrderSlotsScan = 100000;

struct Identifier {
  std::string type;   // "dns" or "ip"
  std::string value;  // lower-case name (with "*." for wildcards), canonical IP
};

struct Account {
  std::string id;
  std::string provisioner;
  std::string status = "valid";   // valid, deactivated, revoked
  std::vector<std::string> contact;
  std::string key;                // the JWK, compact JSON
  std::string thumbprint;
  std::string created_at;
  std::string eab_kid;
};

struct Challenge {
  std::string id;
  std::string type;               // http-01, dns-01, tls-alpn-01
  std::string status = "pending"; // pending, processing, valid, invalid
  std::string validated;          // RFC 3339, when valid
  std::string error;              // problem JSON, when invalid
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
};

struct CertRecord {
  std::string id;
  std::string account;
  std::string serial;
  std::string chain;              // PEM: leaf then intermediates
};

std::string RandomId();  // 128 bits, base64url

JsonPtr ToJson(const Account& a);
JsonPtr ToJson(const Order& o);
JsonPtr ToJson(const Authz& a);
JsonPtr ToJson(const CertRecord& c);
bool FromJson(const json_t* j, Account* a);
bool FromJson(const json_t* j, Order* o);
bool FromJson(const json_t* j, Authz* a);
bool FromJson(const json_t* j, CertRecord* c);

// Store access: Get* return nullopt when absent.
template <typename T>
Result<std::optional<T>> Load(Store& store, const std::string& key);
template <typename T>
Status Save(Store& store, const std::string& key, const T& v, std::chrono::seconds ttl);
template <typename T>
Status SaveIfAbsent(Store& store, const std::string& key, const T& v, std::chrono::seconds ttl);

// Appends order_id to the account's order list; returns the slot.
Result<size_t> AppendAccountOrder(Store& store, const std::string& account,
                                  const std::string& order_id);
// Up to limit order ids from slot `from`; *next is the slot after the last
// one read, or 0 when the list ended.
Result<std::vector<std::string>> ListAccountOrders(Store& store, const std::string& account,
                                                   size_t from, size_t limit, size_t* next);

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_STATE_H
