#include "authority/state/acme_keys.h"

namespace stepca {
namespace acme_keys {
namespace {

std::string Join(std::string_view table, std::string_view a) {
  std::string k;
  k.reserve(table.size() + 1 + a.size());
  k.append(table).push_back('/');
  k.append(a);
  return k;
}

std::string Join(std::string_view table, std::string_view a, std::string_view b) {
  std::string k = Join(table, a);
  k.push_back('/');
  k.append(b);
  return k;
}

}  // namespace

std::string Nonce(std::string_view nonce) { return Join("acme_nonce", nonce); }
std::string Account(std::string_view id) { return Join("acme_acct", id); }
std::string AccountByKey(std::string_view provisioner, std::string_view thumbprint) {
  return Join("acme_acct_key", provisioner, thumbprint);
}
std::string EabBinding(std::string_view provisioner, std::string_view kid) {
  return Join("acme_eab_bound", provisioner, kid);
}
std::string AccountOrderSlot(std::string_view account, size_t slot) {
  return Join("acme_acct_orders", account, std::to_string(slot));
}
std::string AccountOrdersNext(std::string_view account) {
  return Join("acme_acct_orders_next", account);
}
std::string Order(std::string_view id) { return Join("acme_order", id); }
std::string Authz(std::string_view id) { return Join("acme_authz", id); }
std::string AuthzLock(std::string_view id) { return Join("acme_authz_lock", id); }
std::string OrderFinalizeLock(std::string_view id) { return Join("acme_order_fin", id); }
std::string Certificate(std::string_view id) { return Join("acme_cert", id); }
std::string CertificateBySerial(std::string_view serial) {
  return Join("acme_cert_serial", serial);
}

std::string_view TableOf(std::string_view key) {
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos || key.substr(0, 5) != "acme_") return {};
  return key.substr(0, slash);
}

}  // namespace acme_keys
}  // namespace stepca
