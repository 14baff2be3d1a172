// ACME request bodies: JWS in the flattened JSON serialization (RFC 8555
// section 6.2, RFC 7515 section 7.2.2), checked to the letter:
//   - exactly the members "protected", "payload", "signature"; no
//     unprotected "header", no general serialization ("signatures");
//   - strict base64url everywhere; the protected header is a JSON object
//     without duplicate members and without "crit";
//   - "alg" is an asymmetric signature algorithm (ES256/384/512, RS256/384/
//     512, PS256/384/512, EdDSA): never "none", never HMAC;
//   - "nonce" and "url" are strings; exactly one of "jwk" / "kid".
// Verification then checks "alg" against the key and the exact signature
// size (authority/jose/jws.h).
#ifndef STEPCA_AUTHORITY_ACME_JWS_H
#define STEPCA_AUTHORITY_ACME_JWS_H

#include <jansson.h>

#include <optional>
#include <string>
#include <string_view>

#include "authority/acme/problem.h"
#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"
#include "authority/ossl.h"

namespace stepca {
namespace acme {

// Bodies larger than this are refused before parsing.
constexpr size_t kMaxJwsBody = 64 * 1024;

struct FlatJws {
  Jws jws;                    // signing input, signature, header, alg
  std::string payload;        // decoded payload bytes ("" for POST-as-GET)
  std::string nonce;          // may be empty (then the caller says badNonce)
  bool has_nonce = false;
  std::string url;
  std::string kid;            // set when the header has "kid"
  std::optional<Jwk> jwk;     // set when the header has "jwk"
};

// What the caller requires of the header.
enum class KeyMode { kJwk, kKid, kEither };

// Parses body as a flattened JWS and checks the header rules above (except
// the nonce and url values, which the caller checks). Problems: malformed,
// badSignatureAlgorithm.
Problem ParseFlatJws(std::string_view body, KeyMode mode, FlatJws* out);

// Parses the inner JWS of keyChange / externalAccountBinding (a JSON
// object, not text). Same structure rules; alg is not checked here.
Problem ParseFlatJwsObject(const json_t* obj, FlatJws* out);

// Verifies the signature with key: alg allowed for the key, exact size.
Problem VerifyFlatJws(const FlatJws& jws, EVP_PKEY* key);

// True for the signature algorithms ACME accepts.
bool IsAcmeAlgorithm(std::string_view alg);

// Minting, for tests and for our own tools: a flattened JWS over payload
// (already serialized; "" for POST-as-GET) with the given protected header
// members (alg is set from the key when absent).
Result<std::string> SignFlatJws(json_t* header, std::string_view payload, EVP_PKEY* key);
std::string FlatJwsText(const std::string& protected_b64, const std::string& payload_b64,
                        const std::string& signature);

// HMAC-SHA-2 for external account binding ("HS256", "HS384", "HS512");
// empty for any other alg.
std::string HmacSign(std::string_view alg, std::string_view key, std::string_view data);

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_JWS_H
