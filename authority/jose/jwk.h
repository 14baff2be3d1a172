// JSON Web Keys (RFC 7517/7518/8037): EC P-256/384/521, OKP Ed25519, RSA.
#ifndef STEPCA_AUTHORITY_JOSE_JWK_H
#define STEPCA_AUTHORITY_JOSE_JWK_H

#include <jansson.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {

struct Jwk {
  EvpPkeyPtr key;       // public, or private when has_private
  bool has_private = false;
  std::string kty;      // "EC", "OKP", "RSA"
  std::string crv;      // "P-256"... or "Ed25519"; empty for RSA
  std::string alg;      // as given in the JWK, may be empty
  std::string kid;      // as given in the JWK, may be empty
};

// Parses a JWK object. Rejects symmetric ("oct") keys, unknown curves,
// points not on the curve, RSA moduli under 2048 bits.
Result<Jwk> ParseJwk(const json_t* obj);
Result<Jwk> ParseJwkText(std::string_view json_text);

// Builds a JWK from a key. include_private adds "d" (and RSA's CRT values).
// Sets "kid" to kid when non-empty; "use":"sig" and "alg" when given.
Result<JsonPtr> JwkToJson(EVP_PKEY* key, bool include_private,
                          const std::string& kid, const std::string& alg);

// What a key is, as JOSE sees it. kty "EC" (crv P-256/P-384/P-521,
// coord_size 32/48/66), "OKP" (crv Ed25519), "RSA" (bits = modulus size).
// Other key types (Ed448, RSA-PSS-only keys, DSA, DH...) are kInvalidArgument.
struct JoseKeyInfo {
  std::string kty;
  std::string crv;
  size_t coord_size = 0;  // EC only
  int bits = 0;
};
Result<JoseKeyInfo> DescribeJoseKey(EVP_PKEY* key);

// RFC 7638 thumbprint: base64url(SHA-256(canonical JSON of required members)).
Result<std::string> JwkThumbprint(EVP_PKEY* key);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_JOSE_JWK_H
