// Where each ACME object lives in the store. The only place ACME keys are
// spelled; the record schemas are in authority/acme/state.h for now (they
// move here with the typed ACME state, issue 9 item 2).
//
//   acme_nonce/<nonce>                    "1", TTL 1h, spent with Take
//   acme_acct/<id>                        account, kept
//   acme_acct_key/<prov>/<thumbprint>     account id (set-if-absent binds)
//   acme_eab_bound/<prov>/<kid>           account id an EAB key is bound to
//   acme_acct_orders/<acct>/<n>           order id in slot n
//   acme_acct_orders_next/<acct>          first slot to try (a hint)
//   acme_order/<id>                       order, TTL 8 days
//   acme_authz/<id>                       authorization + challenges, TTL 8 days
//   acme_authz_lock/<id>                  transition guard, TTL 120 s
//   acme_order_fin/<id>                   finalize guard, TTL 120 s
//   acme_cert/<id>                        chain for download, TTL leaf + 1 day
//   acme_cert_serial/<serial>             certificate id (revocation)
#ifndef STEPCA_AUTHORITY_STATE_ACME_KEYS_H
#define STEPCA_AUTHORITY_STATE_ACME_KEYS_H

#include <cstddef>
#include <string>
#include <string_view>

namespace stepca {
namespace acme_keys {

std::string Nonce(std::string_view nonce);
std::string Account(std::string_view id);
std::string AccountByKey(std::string_view provisioner, std::string_view thumbprint);
std::string EabBinding(std::string_view provisioner, std::string_view kid);
std::string AccountOrderSlot(std::string_view account, size_t slot);
std::string AccountOrdersNext(std::string_view account);
std::string Order(std::string_view id);
std::string Authz(std::string_view id);
std::string AuthzLock(std::string_view id);
std::string OrderFinalizeLock(std::string_view id);
std::string Certificate(std::string_view id);
std::string CertificateBySerial(std::string_view serial);

// The table a key belongs to ("acme_order", ...); "" when not an ACME key.
std::string_view TableOf(std::string_view key);

}  // namespace acme_keys
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_ACME_KEYS_H
