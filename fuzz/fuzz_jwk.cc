// ParseJwkText on arbitrary bytes; when it parses, the key goes back out
// through JwkToJson, JwkThumbprint and DescribeJoseKey, and the public JWK
// must parse again to a key with the same thumbprint.
#include <cstdint>
#include <cstdlib>

#include "authority/jose/jwk.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto jwk = stepca::ParseJwkText(text);
  if (!jwk.ok()) return 0;
  EVP_PKEY* key = jwk->key.get();
  (void)stepca::DescribeJoseKey(key);
  auto tp = stepca::JwkThumbprint(key);
  auto pub = stepca::JwkToJson(key, /*include_private=*/false, jwk->kid, jwk->alg);
  if (jwk->has_private) (void)stepca::JwkToJson(key, /*include_private=*/true, "", "");
  if (tp.ok() && pub.ok()) {
    auto again = stepca::ParseJwk(pub->get());
    if (!again.ok()) std::abort();  // our own output must parse
    auto tp2 = stepca::JwkThumbprint(again->key.get());
    if (!tp2.ok() || *tp2 != *tp) std::abort();
  }
  return 0;
}
