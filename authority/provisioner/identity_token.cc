#include "authority/provisioner/identity_token.h"

#include <openssl/sha.h>

#include "shared/base64.h"

namespace stepca {

bool VerifiedByOneOf(const Jws& jws, const std::vector<std::shared_ptr<const Jwk>>& keys) {
  for (const auto& k : keys) {
    if (!k->alg.empty() && k->alg != jws.alg) continue;
    if (VerifyJws(jws, k->key.get()).ok()) return true;
  }
  return false;
}

bool VerifiedByOneOf(const Jws& jws, const std::vector<EVP_PKEY*>& keys) {
  for (EVP_PKEY* k : keys)
    if (VerifyJws(jws, k).ok()) return true;
  return false;
}

std::string IdentityTokenUseKey(const std::string& provisioner_id, const std::string& token_id) {
  const std::string in = provisioner_id + "\n" + token_id;
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), md);
  return HexEncode(std::string(reinterpret_cast<char*>(md), sizeof md));
}

}  // namespace stepca
