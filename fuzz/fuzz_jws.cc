// ParseCompactJws on arbitrary bytes; when it parses, VerifyJws with three
// fixed keys (the fixture provisioner's P-256, an Ed25519 and an RSA-2048
// key), CanonicalTokenId, and ReadTokenClaims on the payload. Property: a
// token the provisioner key verifies has alg ES256.
#include <cstdint>
#include <cstdlib>

#include "authority/jose/jws.h"
#include "authority/provisioner/token_claims.h"
#include "fuzz/fuzz_common.h"

namespace {
stepca::EvpPkeyPtr g_keys[3];
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_keys[0] = stepca::fuzz::ProvisionerPublicKey();
  g_keys[1] = stepca::fuzz::FixedEd25519Key();
  g_keys[2] = stepca::fuzz::FixedRsaKey();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view token(reinterpret_cast<const char*>(data), size);
  auto jws = stepca::ParseCompactJws(token);
  if (!jws.ok()) return 0;
  for (auto& key : g_keys) {
    stepca::Status st = stepca::VerifyJws(*jws, key.get());
    if (st.ok() && &key == &g_keys[0] && jws->alg != "ES256") std::abort();
  }
  (void)stepca::CanonicalTokenId(*jws);
  auto claims = stepca::ReadTokenClaims(jws->payload.get());
  if (claims.ok()) (void)stepca::CheckTimeClaims(*claims, stepca::Clock::now());
  return 0;
}
