// base64 (RFC 4648 section 4) and base64url without padding (section 5), as
// JOSE and step use them. Decoders are strict: wrong alphabet, bad length or
// non-zero unused trailing bits are rejected, so one value has one encoding.
#ifndef STEPCA_SHARED_BASE64_H
#define STEPCA_SHARED_BASE64_H

#include <optional>
#include <string>
#include <string_view>

namespace stepca {

std::string Base64UrlEncode(std::string_view data);
std::optional<std::string> Base64UrlDecode(std::string_view text);

std::string Base64Encode(std::string_view data);  // with '=' padding
// Accepts padded input only (as Go's StdEncoding); ignores no characters.
std::optional<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view data);  // lower case

}  // namespace stepca

#endif  // STEPCA_SHARED_BASE64_H
