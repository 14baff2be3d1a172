#include "authority/acme/nonce.h"

#include <openssl/rand.h>

#include "authority/state/acme_keys.h"
#include "shared/base64.h"

namespace stepca {
namespace acme {

Result<std::string> NewNonce(Store& store) {
  unsigned char b[32];
  if (RAND_bytes(b, sizeof b) != 1) return Internal("acme: no randomness for a nonce");
  std::string n = Base64UrlEncode(std::string(reinterpret_cast<char*>(b), sizeof b));
  STEPCA_RETURN_IF_ERROR(store.Put(acme_keys::Nonce(n), "1", kNonceTtl));
  return n;
}

Result<bool> SpendNonce(Store& store, std::string_view nonce) {
  // Only our own shape reaches the store.
  if (nonce.size() != 43) return false;
  if (!Base64UrlDecode(nonce)) return false;
  auto v = store.Take(acme_keys::Nonce(nonce));
  if (!v.ok()) return v.status();
  return v->has_value();
}

}  // namespace acme
}  // namespace stepca
