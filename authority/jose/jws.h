// Compact JWS (RFC 7515) as JWTs use it. Verification is strict: the "alg"
// must be one the key type allows (never "none", never HMAC, never a
// key-type mismatch), and signatures must have the exact size.
#ifndef STEPCA_AUTHORITY_JOSE_JWS_H
#define STEPCA_AUTHORITY_JOSE_JWS_H

#include <jansson.h>

#include <string>
#include <string_view>
#include <vector>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {

struct Jws {
  std::string signing_input;   // "<b64 header>.<b64 payload>" as received
  std::string signature;       // decoded signature bytes
  JsonPtr header;              // decoded protected header (an object)
  JsonPtr payload;             // decoded payload (an object)
  std::string payload_bytes;   // decoded payload bytes
  std::string alg;             // header "alg"
};

// Splits and decodes a compact JWS; checks structure only (3 parts, strict
// base64url, header and payload are JSON objects, "alg" is a string, no
// "crit"). Does not verify anything. Errors are kInvalidArgument.
Result<Jws> ParseCompactJws(std::string_view token);

// Algorithms this key may verify: EC P-256 -> ES256, P-384 -> ES384,
// P-521 -> ES512, Ed25519 -> EdDSA, RSA -> RS256/384/512, PS256/384/512.
std::vector<std::string> AllowedAlgorithms(EVP_PKEY* key);

// Verifies jws.signature over jws.signing_input with key, after checking
// jws.alg is allowed for the key. Errors are kUnauthenticated.
Status VerifyJws(const Jws& jws, EVP_PKEY* key);

// Signs header (alg is set from the key; other members kept) and payload
// into a compact JWS. alg empty: the key's default (ES256/ES384/ES512,
// EdDSA, RS256).
Result<std::string> SignCompactJws(const json_t* header, const json_t* payload,
                                   EVP_PKEY* key, const std::string& alg = "");

// Canonical identity of a token for one-time use when it has no "jti":
// SHA-256 hex of the decoded header and payload bytes (not the raw string:
// a signature can be re-encoded into another string that still verifies).
std::string CanonicalTokenId(const Jws& jws);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_JOSE_JWS_H
