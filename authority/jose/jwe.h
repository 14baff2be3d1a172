// Password-protected keys as step writes them: compact JWE with
// alg PBES2-HS256+A128KW and enc A256GCM (RFC 7518 4.8, 5.3).
#ifndef STEPCA_AUTHORITY_JOSE_JWE_H
#define STEPCA_AUTHORITY_JOSE_JWE_H

#include <string>
#include <string_view>

#include "authority/status.h"

namespace stepca {

// Decrypts; honours the header's p2c (100000 in 0.19, 600000 later) within
// [1000, 10000000]. Wrong password: kUnauthenticated "decryption failed".
Result<std::string> DecryptPbes2Jwe(std::string_view jwe,
                                    std::string_view password);

// Encrypts plaintext with header {"alg":"PBES2-HS256+A128KW","cty":cty,
// "enc":"A256GCM","p2c":p2c,"p2s":<16 random bytes>}.
Result<std::string> EncryptPbes2Jwe(std::string_view plaintext,
                                    std::string_view password,
                                    const std::string& cty = "jwk+json",
                                    int p2c = 600000);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_JOSE_JWE_H
