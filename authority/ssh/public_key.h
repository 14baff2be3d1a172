// SSH public keys: the wire blob (RFC 4253 6.6, RFC 5656, RFC 8709) to and
// from an OpenSSL key, and authorized_keys lines. The types a CA signs for:
// ECDSA P-256/384/521, Ed25519, RSA.
#ifndef STEPCA_AUTHORITY_SSH_PUBLIC_KEY_H
#define STEPCA_AUTHORITY_SSH_PUBLIC_KEY_H

#include <string>
#include <string_view>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca::ssh {

struct PublicKey {
  std::string type;  // "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", ...
  std::string blob;  // the wire encoding, as received
  EvpPkeyPtr key;
};

// A key blob. kInvalidArgument for a malformed blob or a type this CA does
// not know (the message names the type).
Result<PublicKey> ParsePublicKeyBlob(std::string_view blob);

// "type base64 [comment]" as in authorized_keys or a .pub file; the type
// named in front must be the blob's own.
Result<PublicKey> ParseAuthorizedKey(std::string_view line);

// The wire blob of an OpenSSL public key; kInvalidArgument for a key type
// or curve SSH has no name for.
Result<std::string> MarshalPublicKey(EVP_PKEY* key);

// The key type name of a blob ("" when unreadable).
std::string BlobType(std::string_view blob);

// "type base64", no comment, no newline.
std::string AuthorizedKeyLine(std::string_view blob);

// OpenSSH's "SHA256:<base64 without padding>" fingerprint of a blob.
std::string Fingerprint(std::string_view blob);

}  // namespace stepca::ssh

#endif  // STEPCA_AUTHORITY_SSH_PUBLIC_KEY_H
