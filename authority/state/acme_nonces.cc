#include "authority/state/acme_nonces.h"

#include <openssl/rand.h>

#include "shared/base64.h"

namespace stepca {

std::string AcmeNonces::Key(std::string_view nonce) {
  return "acme_nonce/" + std::string(nonce);
}

Result<std::string> AcmeNonces::Issue() {
  unsigned char b[32];
  if (RAND_bytes(b, sizeof b) != 1) return Internal("acme: no randomness for a nonce");
  std::string n = Base64UrlEncode(std::string(reinterpret_cast<char*>(b), sizeof b));
  STEPCA_RETURN_IF_ERROR(store_.Put(Key(n), "1", kNonceTtl));
  return n;
}

Result<bool> AcmeNonces::Spend(std::string_view nonce) {
  if (nonce.size() != 43 || !Base64UrlDecode(nonce)) return false;
  STEPCA_ASSIGN_OR_RETURN(auto v, store_.Take(Key(nonce)));
  return v.has_value();
}

}  // namespace stepca
